"""Ingestion benchmark: 20,000 messages from 5,000 customers through the real pipeline.

Measures messages/s, p50/p99 latency per message and peak RSS, against a floor measured in the
same run on the same database: as many raw single-row inserts, one transaction each.
Runs on SQLite always, and on PostgreSQL when FILROUGE_BENCH_DATABASE_URL (or
FILROUGE_TEST_DATABASE_URL) is set. Each figure is printed on a ``BENCH name key=value`` line.

    make bench            # or: .venv/bin/python benchmarks/ingest.py --messages 2000
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    text,
)

from filrouge.channels.base import NormalisedInbound, Sender
from filrouge.core.actions.channels import create_channel
from filrouge.core.actions.inbound import receive_message, receive_messages
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.audit import Actor
from filrouge.db import create_db_engine, make_session_factory, start_checkpointer, transaction
from filrouge.schema import migrate
from filrouge.settings import Settings
from filrouge.triage.service import loaded_classifier

KINDS = [
    ("email", "email"),
    ("whatsapp", "whatsapp"),
    ("sms", "phone"),
    ("chat", "chat_visitor"),
    ("x", "x"),
    ("messenger", "messenger"),
]
floor_metadata = MetaData()
floor_table = Table(
    "bench_floor",
    floor_metadata,
    Column("id", Integer, primary_key=True),
    Column("channel_id", Integer, nullable=False),
    Column("provider_message_id", String(200)),
    Column("text", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)


def make_messages(
    count: int, customers: int, channel_ids: list[int], seed: int
) -> list[NormalisedInbound]:
    """Customers write over 60 days, mostly on their own channel, sometimes on another."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    people = [_person(rng, n) for n in range(customers)]
    messages = []
    for n in range(count):
        who = rng.randrange(customers)
        kind_index, value = people[who]
        if rng.random() < 0.1:  # a channel switch: same phone on WhatsApp and SMS
            kind_index = 1 if kind_index == 2 else (2 if kind_index == 1 else kind_index)
        identity_kind = KINDS[kind_index][1]
        messages.append(
            NormalisedInbound(
                channel_id=channel_ids[kind_index],
                provider_message_id=f"bench-{n}",
                sender=Sender(
                    identity_kind, value, f"Client {who}", verified=kind_index in (0, 1, 2)
                ),
                text=f"Bonjour, ma commande ML-2026-{rng.randrange(10**6):06d} n'est pas arrivée. "
                * rng.randint(1, 3),
                occurred_at=start + timedelta(seconds=n * 250 + rng.randrange(200)),
            )
        )
    return messages


def _person(rng: random.Random, n: int) -> tuple[int, str]:
    kind_index = rng.randrange(len(KINDS))
    identity_kind = KINDS[kind_index][1]
    if identity_kind in ("whatsapp", "phone"):
        return kind_index, f"+3361{n:07d}"
    if identity_kind == "email":
        return kind_index, f"client{n}@example.fr"
    return kind_index, f"{identity_kind}-{n}"


def prepare(engine: Engine) -> list[int]:
    migrate(engine)
    floor_metadata.create_all(engine)
    with transaction(make_session_factory(engine)) as session:
        workspace = ensure_workspace(session, "Bench")
        return [
            create_channel(session, workspace.id, kind, kind, {}, Actor.system())[0].id
            for kind, _ in KINDS
        ]


def run_pipeline(
    engine: Engine, messages: list[NormalisedInbound], settings: Settings
) -> list[float]:
    factory = make_session_factory(engine)
    latencies = []
    for message in messages:
        began = time.perf_counter()
        receive_message(factory, message, settings)
        latencies.append(time.perf_counter() - began)
    return latencies


def run_batches(
    engine: Engine, messages: list[NormalisedInbound], settings: Settings, size: int
) -> list[float]:
    """Seconds per message, each message charged its batch's time divided by the batch size."""
    factory = make_session_factory(engine)
    per_message = []
    for start in range(0, len(messages), size):
        batch = messages[start : start + size]
        began = time.perf_counter()
        receive_messages(factory, batch, settings)
        per_message += [(time.perf_counter() - began) / len(batch)] * len(batch)
    return per_message


def run_floor(engine: Engine, messages: list[NormalisedInbound]) -> float:
    began = time.perf_counter()
    for message in messages:
        with engine.begin() as connection:
            connection.execute(
                insert(floor_table).values(
                    channel_id=message.channel_id,
                    provider_message_id=message.provider_message_id,
                    text=message.text,
                    occurred_at=message.occurred_at,
                )
            )
    return time.perf_counter() - began


def bench(name: str, url: str, count: int, customers: int, data_dir: Path, batch_size: int) -> None:
    settings = Settings(database_url=url, data_dir=data_dir)
    loaded_classifier(data_dir, settings.languages)  # trained once, as a server does at start
    for label, size in ((f"ingest_{name}", 1), (f"ingest_batch{batch_size}_{name}", batch_size)):
        reset(url)
        engine = create_db_engine(url)
        checkpointer = start_checkpointer(engine)  # as `filrouge serve` runs it
        channel_ids = prepare(engine)
        messages = make_messages(count, customers, channel_ids, seed=7)
        floor_seconds = run_floor(engine, messages)
        if size == 1:
            latencies = run_pipeline(engine, messages, settings)
        else:
            latencies = run_batches(engine, messages, settings, size)
        report(label, engine, count, customers, latencies, floor_seconds)
        if checkpointer is not None:
            checkpointer.stop()
        engine.dispose()


def report(
    name: str,
    engine: Engine,
    count: int,
    customers: int,
    latencies: list[float],
    floor_seconds: float,
) -> None:
    total = sum(latencies)
    with engine.connect() as connection:
        conversations = connection.execute(text("SELECT count(*) FROM conversations")).scalar()
        stored = connection.execute(text("SELECT count(*) FROM messages")).scalar()
    quantiles = statistics.quantiles(latencies, n=100)
    figures = {
        "messages": count,
        "customers": customers,
        "stored": stored,
        "conversations": conversations,
        "msgs_per_s": round(count / total),
        "p50_ms": round(quantiles[49] * 1000, 3),
        "p99_ms": round(quantiles[98] * 1000, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "floor_inserts_per_s": round(count / floor_seconds),
        "ratio_to_floor": round(total / floor_seconds, 2),
    }
    print(f"BENCH {name} " + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=100, help="messages per batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="filrouge-bench-") as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.db"
        bench("sqlite", sqlite_url, args.messages, args.customers, Path(tmp), args.batch)
        pg_url = os.environ.get("FILROUGE_BENCH_DATABASE_URL") or os.environ.get(
            "FILROUGE_TEST_DATABASE_URL"
        )
        if pg_url:
            bench("postgresql", pg_url, args.messages, args.customers, Path(tmp), args.batch)
    return 0


def reset(url: str) -> None:
    """An empty database for the next run."""
    engine = create_db_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{engine.url.database}{suffix}").unlink(missing_ok=True)
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
