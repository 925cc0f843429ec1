"""Automation benchmark: what the rules cost the inbound pipeline, and how fast they run.

1. The same messages go through ``receive_messages`` (batches of 50) twice, on two copies of a
   database: once with no subscriber, once with the automation subscriber installed (its burst
   job replaced by a collector, so that only the pipeline's share is timed). Printed as a ratio.
2. The collected occurrences are run through ``run_chain`` against 10 active rules (keywords,
   channel, customer attribute; tags, priority, team): occurrences per second.

Runs on SQLite. Each figure is printed on a ``BENCH name key=value`` line.

    .venv/bin/python benchmarks/automation.py --messages 2000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from filrouge.core.actions.inbound import receive_messages
from filrouge.core.actions.teams import create_team
from filrouge.core.audit import Actor
from filrouge.core.automation.engine import Occurrence, run_chain
from filrouge.core.automation.rules import RuleData, create_rule
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.jobs import automation
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings
from ingest import make_messages, prepare

BATCH = 50


def add_rules(url: str) -> None:
    factory = make_session_factory(create_db_engine(url))
    with transaction(factory) as session:
        team = create_team(session, 1, "Livraisons", Actor.system())
        for n in range(10):
            conditions = {
                "match": "any" if n % 2 else "all",
                "items": [
                    {"field": "keywords", "op": "any", "value": ["commande", f"mot{n}"]},
                    {"field": "channel", "op": "in", "value": ["whatsapp", "email", "sms"]},
                    {"field": "customer_attribute", "key": "tier", "op": "ne", "value": "gold"},
                ],
            }
            actions = [
                {"type": "add_tags", "params": {"tags": [f"regle-{n}"]}},
                {"type": "set_priority", "params": {"priority": "high"}},
                {"type": "assign_team", "params": {"team_id": team.id}},
            ]
            data = RuleData(
                name=f"Règle {n}",
                trigger="message_received",
                conditions=conditions,
                actions=actions,
            )
            create_rule(session, 1, data, Actor.system())


def ingest(url: str, data_dir: Path, messages: list[Any]) -> float:
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    settings = Settings(database_url=url, data_dir=data_dir)
    began = time.perf_counter()
    for start in range(0, len(messages), BATCH):
        receive_messages(factory, messages[start : start + BATCH], settings)
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    count = parser.parse_args().messages
    collected: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        urls = [f"sqlite:///{root}/plain.db", f"sqlite:///{root}/rules.db"]
        channel_ids = prepare(create_db_engine(urls[0]))
        prepare(create_db_engine(urls[1]))
        add_rules(urls[1])
        messages = make_messages(count, count // 4, channel_ids, seed=7)
        plain = ingest(urls[0], root, messages)
        automation.run_automation = collected.extend  # type: ignore[assignment]
        automation.install()
        with_subscriber = ingest(urls[1], root, messages)
        automation.flush_burst()  # the last burst's timer may not have rung yet
        print(
            f"BENCH automation_pipeline messages={count} plain_per_s={count / plain:.0f} "
            f"with_subscriber_per_s={count / with_subscriber:.0f} "
            f"ratio={with_subscriber / plain:.3f} buffered={len(collected)}"
        )
        factory = make_session_factory(create_db_engine(urls[1]))
        occurrences = [Occurrence(int(c), str(k), m) for _, c, k, m in collected]
        began = time.perf_counter()
        applied = 0
        for start in range(0, len(occurrences), 200):
            turn = run_chain(
                factory, "message_received", occurrences[start : start + 200], utcnow()
            )
            applied += turn.applied
        elapsed = time.perf_counter() - began
        print(
            f"BENCH automation_rules rules=10 occurrences={len(occurrences)} "
            f"per_s={len(occurrences) / elapsed:.0f} actions_applied={applied} "
            f"actions_per_s={applied / elapsed:.0f}"
        )


if __name__ == "__main__":
    main()
