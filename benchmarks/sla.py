"""Service-level benchmark: how fast the background work keeps up with the pipeline.

Ingests messages through the real batch pipeline (benchmarks/ingest.py's customers and
channels), then works out every conversation's service level as the SLA job does (batches of
500, one transaction each) and times an idle sweep (nothing changed). Prints conversations/s
worked out against messages/s ingested in the same run, on SQLite (and PostgreSQL when
FILROUGE_BENCH_DATABASE_URL is set). The pipeline itself does no SLA work.

    .venv/bin/python benchmarks/sla.py --messages 4000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from filrouge.core.actions.sla import conversations_to_refresh, refresh_sla
from filrouge.core.models import Conversation, SlaOutcome
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.settings import Settings
from ingest import make_messages, prepare, reset, run_batches  # type: ignore[import-not-found]


def work_out_all(url: str, now: datetime) -> tuple[int, float]:
    factory = make_session_factory(create_db_engine(url))
    done, began = 0, time.perf_counter()
    while True:
        with transaction(factory) as session:
            ids = conversations_to_refresh(session, now)
            done += refresh_sla(session, ids, now)
        if not ids:
            return done, time.perf_counter() - began


def bench(name: str, url: str, count: int, customers: int, data_dir: Path) -> None:
    reset(url)
    engine = create_db_engine(url)
    channel_ids = prepare(engine)
    messages = make_messages(count, customers, channel_ids, seed=7)
    per_message = run_batches(engine, messages, Settings(database_url=url, data_dir=data_dir), 200)
    ingest_rate = count / sum(per_message)
    now = datetime(2026, 9, 1, tzinfo=UTC) + timedelta(days=61)
    done, seconds = work_out_all(url, now)
    _, idle = work_out_all(url, now)
    with make_session_factory(engine)() as session:
        conversations = session.scalar(select(func.count()).select_from(Conversation))
        outcomes = session.scalar(select(func.count()).select_from(SlaOutcome))
    print(
        f"BENCH sla_{name} messages={count} conversations={conversations} "
        f"worked_out={done} outcomes={outcomes} per_s={done / seconds:.0f} "
        f"ingest_messages_per_s={ingest_rate:.0f} idle_sweep_ms={idle * 1000:.1f}"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--customers", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        bench("sqlite", f"sqlite:///{data_dir}/bench.db", args.messages, args.customers, data_dir)
        url = os.environ.get("FILROUGE_BENCH_DATABASE_URL")
        if url:
            bench("postgresql", url, args.messages, args.customers, data_dir)


if __name__ == "__main__":
    main()
