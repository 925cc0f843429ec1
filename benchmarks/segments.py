"""Segments benchmark: a segment counted in one SQL statement against the same answer
computed in Python over every customer row, and the inbox and customer list filtered by a
segment, on the demo workspace (SQLite, and PostgreSQL when configured). Prints
``BENCH segments_<db> …`` lines; figures in docs/PERFORMANCE.md.

    .venv/bin/python benchmarks/segments.py [--conversations 50000] [--requests 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from filrouge.core.custom_fields import age_band_of
from filrouge.core.models import Customer, Segment
from filrouge.core.segments import parse_definition, segment_clause
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.demo.loader import ADMIN_EMAIL, ADMIN_PASSWORD, load_demo
from filrouge.schema import migrate
from filrouge.settings import Settings
from filrouge.web.app import create_app

COMPOSITE = {
    "all": [
        {"field": "vip", "op": "is", "value": False},
        {"field": "age_band", "op": "in", "value": ["25-34", "35-44"]},
        {"field": "attributes.loyalty_tier", "op": "=", "value": "or"},
        {"field": "consent_email", "op": "is", "value": True},
    ]
}


def in_python(attributes: dict[str, Any], today: date) -> bool:
    """The composite segment, judged row by row (what segment_clause avoids)."""
    return (
        attributes.get("vip") is not True
        and age_band_of(attributes, today) in ("25-34", "35-44")
        and attributes.get("loyalty_tier") == "or"
        and attributes.get("consent_email") is True
    )


def bench(name: str, url: str, conversations: int, requests: int, data_dir: Path) -> None:
    engine = create_db_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        lines = load_demo(session, 7, conversations // 5, conversations)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    today = date.today()
    clause = segment_clause(parse_definition(COMPOSITE), today)
    with factory() as session:
        customers = session.scalar(select(func.count()).select_from(Customer)) or 0
        sql_count = session.scalar(select(func.count(Customer.id)).where(clause))
        rows = session.scalars(select(Customer.attributes)).all()
        assert sql_count == sum(in_python(a or {}, today) for a in rows)
        sql = _time(lambda: session.scalar(select(func.count(Customer.id)).where(clause)), 20)
        python = _time(
            lambda: sum(
                in_python(a or {}, today) for a in session.scalars(select(Customer.attributes))
            ),
            20,
        )
        gold = session.scalars(select(Segment.id).where(Segment.name == "Fidélité or")).one()
    _print(name, "count_sql", customers, sql, f"members={sql_count}")
    _print(name, "count_python", customers, python, f"ratio={_p50(python) / _p50(sql):.1f}")
    app = create_app(Settings(database_url=url, data_dir=data_dir, log_level="WARNING"), engine)
    api = {"Authorization": f"Bearer {lines[-1]}"}
    with TestClient(app) as client:
        client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        pages = {
            "inbox_segment": lambda: client.get(f"/inbox?segment={gold}"),
            "inbox_all": lambda: client.get("/inbox"),
            "api_customers_segment": lambda: client.get(
                f"/api/v1/customers?segment={gold}", headers=api
            ),
        }
        for page, call in pages.items():
            _print(name, page, customers, _time(lambda c=call: _ok(c()), requests), "")
    engine.dispose()


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text[:300]
    return response


def _time(call: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples


def _p50(samples: list[float]) -> float:
    return statistics.median(samples)


def _print(name: str, what: str, customers: int, samples: list[float], extra: str) -> None:
    q = statistics.quantiles(samples, n=100)
    print(
        f"BENCH segments_{name} {what} customers={customers} "
        f"p50_ms={q[49] * 1000:.1f} p95_ms={q[94] * 1000:.1f} {extra}".rstrip(),
        flush=True,
    )


def reset(url: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="filrouge-segments-") as tmp:
        bench(
            "sqlite", f"sqlite:///{tmp}/segments.db", args.conversations, args.requests, Path(tmp)
        )
        pg_url = os.environ.get("FILROUGE_BENCH_DATABASE_URL")
        if pg_url:
            reset(pg_url)
            bench("postgresql", pg_url, args.conversations, args.requests, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
