"""Inbox benchmark: server time of the inbox page and of the conversation list API on a large
workspace (the demo generator at 100,000 conversations), on SQLite and, when configured, on
PostgreSQL. Prints ``BENCH inbox_<db> …`` lines; figures in docs/PERFORMANCE.md.

    .venv/bin/python benchmarks/inbox.py [--conversations 100000] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from filrouge.core.models import Conversation, Message
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.demo.loader import ADMIN_EMAIL, ADMIN_PASSWORD, load_demo
from filrouge.schema import migrate
from filrouge.settings import Settings
from filrouge.web.app import create_app

PAGES = {
    "inbox_all": "/inbox",
    "inbox_unassigned": "/inbox?view=unassigned",
    "inbox_public": "/inbox?view=public",
    "inbox_status_open": "/inbox?status=open",
}


def bench(name: str, url: str, conversations: int, requests: int, data_dir: Path) -> None:
    engine = create_db_engine(url)
    migrate(engine)
    began = time.perf_counter()
    with transaction(make_session_factory(engine)) as session:
        lines = load_demo(session, 7, conversations // 5, conversations)
    load_seconds = time.perf_counter() - began
    with engine.begin() as connection:  # fresh statistics, as autovacuum would soon gather
        connection.execute(text("ANALYZE"))
    token = lines[-1]
    with engine.connect() as connection:
        counts = (
            connection.execute(select(func.count()).select_from(Conversation)).scalar(),
            connection.execute(select(func.count()).select_from(Message)).scalar(),
        )
    app = create_app(Settings(database_url=url, data_dir=data_dir, log_level="WARNING"), engine)
    with TestClient(app) as client:
        client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        api = {"Authorization": f"Bearer {token}"}
        timings = {
            page: _time(lambda p=path: client.get(p), requests) for page, path in PAGES.items()
        }
        timings["api_conversations"] = _time(
            lambda: client.get("/api/v1/conversations?limit=50", headers=api), requests
        )
        cursor = client.get("/api/v1/conversations?limit=50", headers=api).json()["next_cursor"]
        timings["api_conversations_page2"] = _time(
            lambda: client.get(f"/api/v1/conversations?limit=50&cursor={cursor}", headers=api),
            requests,
        )
    for page, samples in timings.items():
        q = statistics.quantiles(samples, n=100)
        print(
            f"BENCH inbox_{name} page={page} conversations={counts[0]} messages={counts[1]} "
            f"p50_ms={q[49] * 1000:.1f} p95_ms={q[94] * 1000:.1f} "
            f"load_s={load_seconds:.0f}",
            flush=True,
        )
    engine.dispose()


def _time(call: object, requests: int) -> list[float]:
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        response = call()  # type: ignore[operator]
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, response.text[:300]
    return samples


def reset(url: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="filrouge-inbox-") as tmp:
        if not args.skip_sqlite:
            url = f"sqlite:///{tmp}/inbox.db"
            bench("sqlite", url, args.conversations, args.requests, Path(tmp))
        pg_url = os.environ.get("FILROUGE_BENCH_DATABASE_URL") or os.environ.get(
            "FILROUGE_TEST_DATABASE_URL"
        )
        if pg_url:
            reset(pg_url)
            bench("postgresql", pg_url, args.conversations, args.requests, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
