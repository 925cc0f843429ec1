"""Dashboard benchmark: everything /reports shows for a 90-day window (the headline and the
previous period, the channel rows, three daily series, the backlog: ``gather_dashboard``)
against one ``channel_report``, over the year of benchmarks/analytics.py (100,000
conversations by default here). Prints ``BENCH dashboard_<db> …`` with the ratio of the two,
which says what the page costs in channel reports whatever the machine's load.

    .venv/bin/python benchmarks/dashboard.py [--conversations 100000] [--runs 5]
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

from analytics import END, PARIS, generate
from filrouge.core.indicators.dashboard import gather_dashboard
from filrouge.core.indicators.period import ReportFilters, report_period
from filrouge.core.indicators.reports import channel_report
from filrouge.db import create_db_engine, make_session_factory
from filrouge.schema import migrate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench("sqlite", f"sqlite:///{Path(folder) / 'dashboard.db'}", args)
    url = os.environ.get("FILROUGE_BENCH_DATABASE_URL")
    if url:
        bench("postgresql", url, args)


def bench(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_db_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    rows = generate(engine, args.conversations, 5)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    factory = make_session_factory(engine)
    draw = random.Random(5)
    windows = [END.date() - timedelta(days=draw.randint(90, 360)) for _ in range(args.runs)]

    def filters(first: date) -> ReportFilters:
        since, until = report_period(first, first + timedelta(days=89), PARIS, END.date())
        return ReportFilters(since, until, PARIS)

    def dashboard(first: date) -> Any:
        with factory() as session:
            return gather_dashboard(session, 1, filters(first), "day")

    def channels(first: date) -> Any:
        with factory() as session:
            return channel_report(session, 1, filters(first))

    page, one = _median_ms(dashboard, windows), _median_ms(channels, windows)
    print(
        f"BENCH dashboard_{name} conversations={rows[0]} messages={rows[1]} "
        f"dashboard_p50_ms={page:.0f} channel_report_p50_ms={one:.0f} ratio={page / one:.1f}",
        flush=True,
    )
    engine.dispose()


def _median_ms(run: Callable[[date], Any], windows: list[date]) -> float:
    timings = []
    for first in windows:
        began = time.perf_counter()
        run(first)
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


if __name__ == "__main__":
    main()
