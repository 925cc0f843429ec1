"""Service-level reports benchmark: what the service-level figures (compliance from
``sla_outcomes``, the backlog and its age) add to the reports, over the analytics benchmark's
year of activity (benchmarks/analytics.py's data, two outcomes per answered conversation).

Prints ``BENCH service_levels_<db> …``: each case's median time, and as a ratio against the
same report without the service-level figures (``figures.compute`` alone), on SQLite and, when
``FILROUGE_BENCH_DATABASE_URL`` is set, on PostgreSQL.

    .venv/bin/python benchmarks/service_levels.py [--conversations 200000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from analytics import END, PARIS, generate  # type: ignore[import-not-found]
from filrouge.core.indicators.figures import compute
from filrouge.core.indicators.period import ReportFilters, report_period
from filrouge.core.indicators.reports import ALL_TOGETHER, BY_CHANNEL, channel_report, timeseries
from filrouge.db import create_db_engine, make_session_factory
from filrouge.schema import migrate

# Two outcomes per answered conversation (first response; resolution when resolved), one in
# seven breached, business seconds a third of the calendar ones: written by one INSERT … SELECT.
OUTCOMES = """
INSERT INTO sla_outcomes (workspace_id, conversation_id, target, started_at, due_at, met_at,
    breached, elapsed_seconds, business_seconds, channel_kind, priority, created_at)
SELECT 1, id, :target, first_inbound_at, first_inbound_at, {end}, (id % 7 = 0),
    (id % 5000) * 1.0, (id % 5000) / 3.0, 'email', priority, created_at
FROM conversations WHERE {end} IS NOT NULL
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench("sqlite", f"sqlite:///{Path(folder) / 'service_levels.db'}", args)
    url = os.environ.get("FILROUGE_BENCH_DATABASE_URL")
    if url:
        bench("postgresql", url, args)


def bench(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_db_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    generate(engine, args.conversations, 5)
    with engine.begin() as connection:
        for target, end in (("first_response", "first_response_at"), ("resolution", "resolved_at")):
            connection.execute(text(OUTCOMES.format(end=end)), {"target": target})
        connection.execute(text("ANALYZE"))
    factory = make_session_factory(engine)
    draw = random.Random(5)
    windows = [END.date() - timedelta(days=draw.randint(90, 360)) for _ in range(args.runs)]

    def filters(first: date) -> ReportFilters:
        return ReportFilters(
            *report_period(first, first + timedelta(days=89), PARIS, END.date()), PARIS
        )

    def run(report: Callable[[Any, ReportFilters], Any]) -> Callable[[date], Any]:
        def once(first: date) -> Any:
            with factory() as session:
                return report(session, filters(first))

        return once

    # (with the service-level figures, the same report without them)
    cases = {
        "channels": (
            run(lambda s, f: channel_report(s, 1, f)),
            run(lambda s, f: (compute(s, 1, f, BY_CHANNEL), compute(s, 1, f, ALL_TOGETHER))),
        ),
        "timeseries_sla_compliance": (
            run(lambda s, f: timeseries(s, 1, f, "sla_compliance", "day")),
            run(lambda s, f: timeseries(s, 1, f, "csat", "day")),
        ),
        "timeseries_backlog": (
            run(lambda s, f: timeseries(s, 1, f, "backlog", "day")),
            run(lambda s, f: timeseries(s, 1, f, "csat", "day")),
        ),
        "timeseries_backlog_age_week": (
            run(lambda s, f: timeseries(s, 1, f, "backlog_age_median_s", "week")),
            run(lambda s, f: timeseries(s, 1, f, "csat", "week")),
        ),
    }
    figures = {
        case: (_median(with_levels, windows), _median(without, windows))
        for case, (with_levels, without) in cases.items()
    }
    print(
        f"BENCH service_levels_{name} conversations={args.conversations} "
        + " ".join(
            f"{case}_ms={ms:.0f} {case}_without_ms={floor:.0f} {case}_ratio={ms / floor:.2f}"
            for case, (ms, floor) in figures.items()
        ),
        flush=True,
    )
    engine.dispose()


def _median(once: Callable[[date], Any], windows: list[date]) -> float:
    timings = []
    for first in windows:
        began = time.perf_counter()
        once(first)
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


if __name__ == "__main__":
    main()
