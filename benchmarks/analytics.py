"""Analytics benchmark: the indicators of docs/METRICS.md over a year of activity (1,000,000
conversations, 5,000,000 messages by default), for 90-day windows with and without filters,
on SQLite and, when ``FILROUGE_BENCH_DATABASE_URL`` is set, on PostgreSQL. Goals: the
dashboard's figures under 2 s on SQLite and under 1 s on PostgreSQL. Prints ``BENCH
analytics_<db> …`` lines; figures in docs/PERFORMANCE.md.

    .venv/bin/python benchmarks/analytics.py [--conversations 1000000] [--runs 10]
    .venv/bin/python benchmarks/analytics.py --keep /tmp/analytics   # keep the SQLite file
    .venv/bin/python benchmarks/analytics.py --reuse /tmp/analytics  # time the kept data again

With ``--keep`` the SQLite file stays in the given folder and PostgreSQL's schema is left as
it is; ``--reuse`` skips the loading and times the reads of what a ``--keep`` run left.

The rows are written straight into the tables (sqlite3 ``executemany``, PostgreSQL ``COPY``)
with the reports' and the search index's triggers paused (reports never read the search
index, which stays empty here), then the reports' facts are written from them in one pass
(``rebuild_report_facts``: the same SQL the triggers run per conversation), as the pipeline
would have left them: this measures reading, not the pipeline. One customer in ten is a VIP,
for the segment cut.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from filrouge.core.indicators.dashboard import gather_dashboard
from filrouge.core.indicators.facts import rebuild_report_facts
from filrouge.core.indicators.period import ReportFilters, report_period
from filrouge.core.indicators.reports import channel_report, timeseries
from filrouge.core.models import ChannelAccount, Team, User, Workspace
from filrouge.core.segments import SegmentDefinition, segment_clause
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.schema import migrate

PARIS = ZoneInfo("Europe/Paris")
END = datetime(2026, 12, 1, tzinfo=UTC)
KINDS = ("email", "chat", "whatsapp", "messenger", "x", "sms", "web_form", "instagram")
WEIGHTS = (30, 20, 15, 10, 8, 7, 6, 4)
CHUNK = 50_000
VIP = segment_clause(
    SegmentDefinition.model_validate({"all": [{"field": "vip", "op": "is", "value": True}]})
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages-per-conversation", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--keep", type=Path, help="keep the SQLite file in this folder")
    parser.add_argument("--reuse", type=Path, help="time what --keep left in this folder")
    args = parser.parse_args()
    if not args.skip_sqlite:
        kept = args.reuse or args.keep
        if kept is not None:
            kept.mkdir(parents=True, exist_ok=True)
            bench("sqlite", f"sqlite:///{kept / 'analytics.db'}", args)
        else:
            with tempfile.TemporaryDirectory() as folder:
                bench("sqlite", f"sqlite:///{Path(folder) / 'analytics.db'}", args)
    url = os.environ.get("FILROUGE_BENCH_DATABASE_URL")
    if url:
        bench("postgresql", url, args)


def bench(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_db_engine(url)
    if args.reuse is not None:
        rows, load, facts = _counted(engine), 0.0, 0.0
    else:
        rows, load, facts = _loaded(engine, args)
    factory = make_session_factory(engine)
    draw = random.Random(3)
    windows = [END.date() - timedelta(days=draw.randint(90, 360)) for _ in range(args.runs)]
    cases: dict[str, Callable[[date], Any]] = {
        "channels": lambda first: _channels(factory, first, {}),
        "channels_channel": lambda first: _channels(factory, first, {"channel_id": 2}),
        "channels_team": lambda first: _channels(factory, first, {"team_id": 1}),
        "channels_agent": lambda first: _channels(factory, first, {"agent_id": 2}),
        "channels_segment": lambda first: _channels(factory, first, {"segment": VIP}),
        "timeseries_day": lambda first: _series(factory, first, "first_response_median_s", {}),
        "timeseries_csat": lambda first: _series(factory, first, "csat", {}),
        "timeseries_segment": lambda first: _series(factory, first, "fcr_rate", {"segment": VIP}),
        "dashboard": lambda first: _dashboard(factory, first, {}),
        "dashboard_team": lambda first: _dashboard(factory, first, {"team_id": 1}),
        "dashboard_segment": lambda first: _dashboard(factory, first, {"segment": VIP}),
    }
    figures = {case: _time(run, windows) for case, run in cases.items()}
    print(
        f"BENCH analytics_{name} conversations={rows[0]} messages={rows[1]} "
        f"load_s={load:.0f} facts_s={facts:.0f} "
        + " ".join(
            f"{case}_p50_ms={p50:.0f} {case}_max_ms={worst:.0f}"
            for case, (p50, worst) in figures.items()
        ),
        flush=True,
    )
    engine.dispose()


def _loaded(engine: Engine, args: argparse.Namespace) -> tuple[tuple[int, int], float, float]:
    """A fresh schema, the year written into it and the reports' facts from it."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    began = time.perf_counter()
    rows = generate(engine, args.conversations, args.messages_per_conversation)
    load = time.perf_counter() - began
    began = time.perf_counter()
    with transaction(make_session_factory(engine)) as session:
        rebuild_report_facts(session)
    facts = time.perf_counter() - began
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return rows, load, facts


def _counted(engine: Engine) -> tuple[int, int]:
    """The conversations and messages a ``--keep`` run left."""
    with engine.connect() as connection:
        conversations = connection.execute(text("SELECT count(*) FROM conversations")).scalar()
        messages = connection.execute(text("SELECT count(*) FROM messages")).scalar()
    return int(conversations or 0), int(messages or 0)


def _channels(factory: Any, first: date, cuts: dict[str, Any]) -> Any:
    with factory() as session:
        since, until = report_period(first, first + timedelta(days=89), PARIS, END.date())
        return channel_report(session, 1, ReportFilters(since, until, PARIS, **cuts))


def _series(factory: Any, first: date, metric: str, cuts: dict[str, Any]) -> Any:
    with factory() as session:
        since, until = report_period(first, first + timedelta(days=89), PARIS, END.date())
        return timeseries(session, 1, ReportFilters(since, until, PARIS, **cuts), metric, "day")


def _dashboard(factory: Any, first: date, cuts: dict[str, Any]) -> Any:
    """Everything /reports computes: the channel table, the previous period's headline, three
    daily series, the backlog now."""
    with factory() as session:
        since, until = report_period(first, first + timedelta(days=89), PARIS, END.date())
        return gather_dashboard(session, 1, ReportFilters(since, until, PARIS, **cuts), "day")


def _time(run: Callable[[date], Any], windows: Sequence[date]) -> tuple[float, float]:
    timings = []
    for first in windows:
        began = time.perf_counter()
        run(first)
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), max(timings)


# --- the data ------------------------------------------------------------------------------


def generate(engine: Engine, conversations: int, per_conversation: int) -> tuple[int, int]:
    draw = random.Random(20261204)
    sqlite = engine.dialect.name == "sqlite"
    stamp = _sqlite_time if sqlite else (lambda moment: moment)
    now = stamp(END)
    with transaction(make_session_factory(engine)) as session:
        session.add(Workspace(id=1, name="Bench", settings={}))
        session.flush()
        for n, kind in enumerate(KINDS, start=1):
            session.add(ChannelAccount(id=n, workspace_id=1, kind=kind, name=kind, settings={}))
        session.add_all(Team(id=n, workspace_id=1, name=f"team {n}") for n in (1, 2))
        session.add_all(
            User(id=n, workspace_id=1, email=f"agent{n}@bench.example", name=f"A{n}", role="agent")
            for n in range(1, 11)
        )
    customers = max(1, conversations // 5)
    raw = engine.raw_connection()
    paused = _pause_report_triggers(raw, sqlite)
    try:
        _load(
            raw,
            sqlite,
            "customers",
            ("id", "workspace_id", "name", "attributes", "created_at", "updated_at"),
            (
                (n, 1, f"Client {n}", '{"vip": true}' if n % 10 == 0 else "{}", now, now)
                for n in range(1, customers + 1)
            ),
        )
        plan = _in_time_order(list(_conversations(draw, conversations, customers)))
        _load(
            raw,
            sqlite,
            "conversations",
            CONVERSATION_COLUMNS,
            (_conversation_row(c, stamp) for c in plan),
        )
        messages = _load(
            raw, sqlite, "messages", MESSAGE_COLUMNS, _messages(draw, plan, per_conversation, stamp)
        )
        _load(raw, sqlite, "events", EVENT_COLUMNS, _events(draw, plan, stamp))
        _load(raw, sqlite, "surveys", SURVEY_COLUMNS, _surveys(draw, plan, stamp))
        _resume_report_triggers(raw, sqlite, paused)
        raw.commit()
    finally:
        raw.close()
    return conversations, messages


def _pause_report_triggers(raw: Any, sqlite: bool) -> list[tuple[str, str]]:
    """The reports' and the search's triggers set aside while rows are written in bulk (the
    facts are then written in one pass)."""
    cursor = raw.cursor()
    if sqlite:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND (name LIKE 'report_%' OR name LIKE 'search_%')"
        )
        found = [(str(name), str(sql)) for name, sql in cursor.fetchall()]
        for name, _ in found:
            cursor.execute(f"DROP TRIGGER {name}")
        return found
    cursor.execute(
        "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname LIKE 'report_%' OR t.tgname LIKE 'search_%'"
    )
    found = [(str(name), str(table)) for name, table in cursor.fetchall()]
    for name, table in found:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
    return found


def _resume_report_triggers(raw: Any, sqlite: bool, paused: list[tuple[str, str]]) -> None:
    cursor = raw.cursor()
    for name, text_or_table in paused:
        cursor.execute(
            text_or_table if sqlite else f"ALTER TABLE {text_or_table} ENABLE TRIGGER {name}"
        )


CONVERSATION_COLUMNS = (
    "id",
    "workspace_id",
    "customer_id",
    "origin_channel_id",
    "channel_id",
    "status",
    "priority",
    "visibility",
    "assignee_id",
    "team_id",
    "first_inbound_at",
    "first_response_at",
    "last_inbound_at",
    "last_activity_at",
    "resolved_at",
    "created_at",
    "updated_at",
)
MESSAGE_COLUMNS = (
    "conversation_id",
    "channel_id",
    "direction",
    "author_id",
    "signed_by_id",
    "text",
    "status",
    "visibility",
    "flag",
    "occurred_at",
    "created_at",
)
EVENT_COLUMNS = (
    "workspace_id",
    "occurred_at",
    "actor_kind",
    "subject_type",
    "subject_id",
    "action",
)
SURVEY_COLUMNS = (
    "workspace_id",
    "conversation_id",
    "channel_id",
    "token_digest",
    "locale",
    "sent_at",
    "expires_at",
    "answered_at",
    "csat",
    "nps",
    "solved_first_contact",
    "created_at",
)


def _conversations(draw: random.Random, count: int, customers: int) -> Iterator[dict[str, Any]]:
    start = END - timedelta(days=365)
    for n in range(1, count + 1):
        first = start + timedelta(seconds=draw.random() * 365 * 86400)
        channel = draw.choices(range(1, len(KINDS) + 1), WEIGHTS)[0]
        answered = draw.random() < 0.85
        response = first + timedelta(seconds=draw.lognormvariate(8, 1.5)) if answered else None
        resolved = (
            response + timedelta(hours=draw.expovariate(1 / 20))
            if answered and draw.random() < 0.8
            else None
        )
        yield {
            "id": n,
            "customer": draw.randint(1, customers),
            "channel": channel,
            "first": first,
            "response": response,
            "resolved": resolved,
            "team": draw.choice((1, 2)),
            "agent": draw.randint(1, 10) if answered else None,
            "priority": draw.choices(("low", "normal", "high", "urgent"), (10, 70, 15, 5))[0],
            "public": KINDS[channel - 1] in ("x", "instagram") and draw.random() < 0.4,
        }


def _in_time_order(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Conversations numbered in the order they began, as a live database numbers them (and
    as PostgreSQL's heap then holds them: a period is a run of pages, not pages everywhere)."""
    plan.sort(key=lambda c: c["first"])
    for n, c in enumerate(plan, start=1):
        c["id"] = n
    return plan


def _conversation_row(c: dict[str, Any], stamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    last = c["resolved"] or c["response"] or c["first"]
    status = "resolved" if c["resolved"] else ("open" if c["response"] else "new")
    return (
        c["id"],
        1,
        c["customer"],
        c["channel"],
        c["channel"],
        status,
        c["priority"],
        "public" if c["public"] else "private",
        c["agent"],
        c["team"],
        stamp(c["first"]),
        stamp(c["response"]) if c["response"] else None,
        stamp(c["first"]),
        stamp(last),
        stamp(c["resolved"]) if c["resolved"] else None,
        stamp(c["first"]),
        stamp(last),
    )


def _messages(
    draw: random.Random, plan: list[dict[str, Any]], per: int, stamp: Callable[[datetime], Any]
) -> Iterator[tuple[Any, ...]]:
    for c in plan:
        visibility = "public" if c["public"] else "private"
        moment = c["first"]
        for k in range(max(1, per + draw.randint(-2, 2))):
            inbound = k % 2 == 0 or c["response"] is None
            flag = "auto_reply" if inbound and draw.random() < 0.02 else None
            author = None if inbound else c["agent"]
            yield (
                c["id"],
                c["channel"],
                "inbound" if inbound else "outbound",
                author,
                author if author and draw.random() < 0.7 else None,
                "…",
                "received" if inbound else "sent",
                visibility,
                flag,
                stamp(moment),
                stamp(moment),
            )
            moment += timedelta(minutes=draw.randint(5, 600))


def _events(
    draw: random.Random, plan: list[dict[str, Any]], stamp: Callable[[datetime], Any]
) -> Iterator[tuple[Any, ...]]:
    for c in plan:
        if draw.random() < 0.05:
            yield (
                1,
                stamp(c["first"]),
                "system",
                "conversation",
                c["id"],
                "conversation.channel_switched",
            )
        if c["resolved"] and draw.random() < 0.03:
            yield (
                1,
                stamp(c["resolved"]),
                "system",
                "conversation",
                c["id"],
                "conversation.reopened",
            )


def _surveys(
    draw: random.Random, plan: list[dict[str, Any]], stamp: Callable[[datetime], Any]
) -> Iterator[tuple[Any, ...]]:
    for c in plan:
        if not c["resolved"] or draw.random() > 0.35:
            continue
        sent = c["resolved"] + timedelta(minutes=15)
        answered = sent + timedelta(hours=draw.randint(1, 48)) if draw.random() < 0.5 else None
        csat = draw.randint(1, 5) if answered else None
        yield (
            1,
            c["id"],
            c["channel"],
            f"{c['id']:064x}",
            "fr",
            stamp(sent),
            stamp(sent + timedelta(days=7)),
            stamp(answered) if answered else None,
            csat,
            draw.randint(0, 10) if answered else None,
            (csat or 0) >= 4 if answered else None,
            stamp(sent),
        )


def _load(
    raw: Any,
    sqlite: bool,
    table: str,
    columns: Sequence[str],
    rows: Iterator[tuple[Any, ...]] | Any,
) -> int:
    cursor = raw.cursor()
    count = 0
    if sqlite:
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
        for chunk in _chunks(rows):
            cursor.executemany(statement, chunk)
            count += len(chunk)
        return count
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    if "id" in columns:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    return count


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


if __name__ == "__main__":
    main()
