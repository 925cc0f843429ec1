"""Concierge benchmark: what routing to a customer's owner costs the batch pipeline, and how long
giving one owner to 10,000 customers takes.

1. The same customers write three times, in batches, each time opening new conversations (the
   previous ones are closed in between): without owners (the baseline), with an online owner
   (each new conversation assigned, an event and a notification), with an away owner (a
   notification each). ``ratio`` is each run's time ÷ the baseline's.
2. 10,000 customers with ``vip: true`` get one owner by filter (one event each).

Runs on SQLite, and on PostgreSQL when FILROUGE_BENCH_DATABASE_URL is set (the database is
emptied first). Each figure is printed on a ``BENCH name key=value`` line.

    .venv/bin/python benchmarks/concierge.py [--customers 2000] [--batch 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, select, update

from filrouge.channels.base import NormalisedInbound
from filrouge.core.actions.concierge import CustomerFilter, assign_owner_in_bulk
from filrouge.core.actions.inbound import receive_messages
from filrouge.core.actions.users import create_user, ensure_workspace
from filrouge.core.models import Conversation, Customer, Notification, User
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings
from ingest import make_messages, prepare, reset


def ingest(
    engine: Engine, messages: list[NormalisedInbound], settings: Settings, size: int
) -> float:
    factory = make_session_factory(engine)
    began = time.perf_counter()
    for start in range(0, len(messages), size):
        receive_messages(factory, messages[start : start + size], settings)
    return time.perf_counter() - began


def again(messages: list[NormalisedInbound], run: str) -> list[NormalisedInbound]:
    """The same senders, new messages, a day later."""
    return [
        replace(
            m,
            provider_message_id=f"{m.provider_message_id}-{run}",
            occurred_at=(m.occurred_at or utcnow()) + timedelta(days=90),
        )
        for m in messages
    ]


def close_all(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(update(Conversation).values(status="closed"))


def set_owner_presence(engine: Engine, owner_id: int | None, presence: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(Customer).values(owner_id=owner_id))
        connection.execute(update(User).values(presence=presence, presence_at=utcnow()))


def bench_routing(name: str, url: str, customers: int, size: int, data_dir: Path) -> None:
    settings = Settings(database_url=url, data_dir=data_dir)
    reset(url)
    engine = create_db_engine(url)
    channel_ids = prepare(engine)
    with transaction(make_session_factory(engine)) as session:
        workspace = ensure_workspace(session, "Bench")
        owner_id = create_user(
            session, workspace.id, "owner@example.test", "x" * 12, "agent", "Owner"
        ).id
    first = make_messages(customers * 3, customers, channel_ids, seed=7)
    senders = list({m.sender.value: m for m in first}.values())  # one message per customer
    ingest(engine, senders, settings, size)  # the customers exist from now on
    runs = {}
    for run, owner, presence in (
        ("baseline", None, "online"),
        ("owner_online", owner_id, "online"),
        ("owner_away", owner_id, "away"),
    ):
        close_all(engine)
        set_owner_presence(engine, owner, presence)
        runs[run] = ingest(engine, again(senders, run), settings, size)
    with engine.connect() as connection:
        assigned = connection.execute(
            select(Conversation.id).where(Conversation.assignee_id == owner_id)
        ).all()
        notified = connection.execute(select(Notification.id)).all()
    for run, seconds in runs.items():
        print(
            f"BENCH concierge_routing_{run}_{name} conversations={len(senders)} batch={size}"
            f" msgs_per_s={round(len(senders) / seconds)}"
            f" ratio={round(seconds / runs['baseline'], 3)}"
        )
    print(f"BENCH concierge_routing_check_{name} assigned={len(assigned)} notified={len(notified)}")
    engine.dispose()


def bench_bulk(name: str, url: str, count: int) -> None:
    reset(url)
    engine = create_db_engine(url)
    prepare(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        workspace = ensure_workspace(session, "Bench")
        supervisor = create_user(
            session, workspace.id, "sup@example.test", "x" * 12, "supervisor", "Sup"
        )
        owner = create_user(session, workspace.id, "o@example.test", "x" * 12, "agent", "Owner")
        rows = [
            {"workspace_id": workspace.id, "name": f"Client {n}", "attributes": {"vip": n % 2 == 0}}
            for n in range(count * 2)
        ]
        session.execute(insert(Customer), rows)
        supervisor_id, owner_id = supervisor.id, owner.id
    with transaction(factory) as session:
        user = session.get_one(User, supervisor_id)
        began = time.perf_counter()
        assigned = assign_owner_in_bulk(
            session, user, owner_id, where=CustomerFilter(attribute="vip", value=True)
        )
        session.commit()
        seconds = time.perf_counter() - began
    print(
        f"BENCH concierge_bulk_{name} customers={count * 2} assigned={assigned}"
        f" seconds={seconds:.3f} per_customer_us={round(seconds / max(assigned, 1) * 1e6)}"
    )
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--bulk", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="filrouge-bench-") as tmp:
        urls = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        if os.environ.get("FILROUGE_BENCH_DATABASE_URL"):
            urls["postgresql"] = os.environ["FILROUGE_BENCH_DATABASE_URL"]
        for name, url in urls.items():
            bench_routing(name, url, args.customers, args.batch, Path(tmp))
            bench_bulk(name, url, args.bulk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
