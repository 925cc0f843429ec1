"""Routing benchmark: what choosing a team and an agent costs the batch pipeline, and how fast a
queue of waiting conversations is given out.

1. A burst of new conversations (one per customer, in batches) goes through the pipeline three
   times: with no team taking part in routing (the baseline: the plain inbound floor of this
   benchmark), then to two teams of 25 agents chosen by language (French and English, so the
   first message's language is detected) with round-robin, then with least-loaded, then the
   baseline again (the database grows; the faster of the two is the floor). ``ratio`` is each
   run's time ÷ the floor. Conversations are closed between runs.
2. The same number of conversations waiting unassigned in a least-loaded team are given out by
   ``route_queue`` (batches of 200), as when the agents come back online.

Runs on SQLite, and on PostgreSQL when FILROUGE_BENCH_DATABASE_URL is set (the database is
emptied first). Each figure is printed on a ``BENCH name key=value`` line.

    .venv/bin/python benchmarks/routing.py [--conversations 10000] [--agents 50] [--batch 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, update

from concierge import again, close_all, ingest
from filrouge.core.actions.rerouting import route_queue
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.models import Conversation, Team, User, team_members
from filrouge.core.routing.capacity import DEFAULT_CAPACITY
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings
from filrouge.triage.language import LanguageIdentifier
from ingest import make_messages, prepare, reset


def add_agents(engine: Engine, count: int) -> list[int]:
    """``count`` agents online, room for the whole burst, in two teams (fr, en)."""
    room = dict.fromkeys(DEFAULT_CAPACITY, 100_000)
    with transaction(make_session_factory(engine)) as session:
        workspace = ensure_workspace(session, "Bench")
        rows = [
            {
                "workspace_id": workspace.id,
                "email": f"agent{n}@example.test",
                "name": f"Agent {n}",
                "role": "agent",
                "locale": "fr",
                "active": True,
                "presence": "online",
                "presence_at": utcnow(),
                "capacity": room,
                "created_at": utcnow(),
            }
            for n in range(count)
        ]
        ids = list(session.scalars(insert(User).returning(User.id), rows))
        teams = []
        for name, language in (("France", "fr"), ("English", "en")):
            team = Team(workspace_id=workspace.id, name=name, languages=[language])
            session.add(team)
            session.flush()
            teams.append(team.id)
        links = [{"team_id": teams[n % 2], "user_id": user_id} for n, user_id in enumerate(ids)]
        session.execute(insert(team_members), links)
    return ids


def set_strategy(engine: Engine, strategy: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(Team).values(strategy=strategy, round_robin_last_id=None))


def spread(engine: Engine) -> str:
    """How even the last run was: the most and least conversations one agent got."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Conversation.assignee_id).where(Conversation.status != "closed")
        )
        counts = Counter(row.assignee_id for row in rows)
    waiting = counts.pop(None, 0)
    most, least = max(counts.values(), default=0), min(counts.values(), default=0)
    return f"most={most} least={least} unassigned={waiting}"


def drain_queue(engine: Engine, settings: Settings) -> tuple[int, float]:
    with engine.begin() as connection:
        connection.execute(update(Team).values(strategy="least_loaded"))
        first_team = select(func.min(Team.id)).scalar_subquery()
        connection.execute(
            update(Conversation)
            .where(Conversation.status != "closed")
            .values(assignee_id=None, status="open", team_id=first_team)
        )
    factory = make_session_factory(engine)
    given, began = 0, time.perf_counter()
    while True:
        with transaction(factory) as session:
            done = route_queue(session, settings.presence_idle)
        given += done
        if not done:
            return given, time.perf_counter() - began


def bench(name: str, url: str, conversations: int, agents: int, size: int, tmp: Path) -> None:
    settings = Settings(database_url=url, data_dir=tmp)
    reset(url)
    engine = create_db_engine(url)
    channel_ids = prepare(engine)
    add_agents(engine, agents)
    first = make_messages(conversations * 4, conversations * 2, channel_ids, seed=11)
    senders = list({m.sender.value: m for m in first}.values())[:conversations]
    ingest(engine, senders, settings, size)  # the customers exist from now on
    LanguageIdentifier(settings.languages).detect(["warm up"])  # built once per process
    runs: dict[str, float] = {}
    spreads: dict[str, str] = {}
    for run in ("off", "round_robin", "least_loaded", "off_again"):  # the floor twice: drift
        close_all(engine)
        set_strategy(engine, run.removesuffix("_again"))
        runs[run] = ingest(engine, again(senders, run), settings, size)
        spreads[run] = spread(engine)
    floor = min(runs["off"], runs["off_again"])
    for run, seconds in runs.items():
        print(
            f"BENCH routing_burst_{run}_{name} conversations={len(senders)} agents={agents}"
            f" batch={size} conv_per_s={round(len(senders) / seconds)}"
            f" ratio={round(seconds / floor, 3)} {spreads[run]}"
        )
    given, seconds = drain_queue(engine, settings)
    print(
        f"BENCH routing_queue_{name} conversations={given} agents={agents}"
        f" seconds={seconds:.3f} conv_per_s={round(given / seconds)}"
    )
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="filrouge-bench-") as tmp:
        urls = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        if os.environ.get("FILROUGE_BENCH_DATABASE_URL"):
            urls["postgresql"] = os.environ["FILROUGE_BENCH_DATABASE_URL"]
        for name, url in urls.items():
            bench(name, url, args.conversations, args.agents, args.batch, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
