"""The reports' facts (one row per conversation, kept by the database in the transaction of
each write) agree with the raw tables, figure by figure: on a varied set built through the API
— answered on another channel, switched channel, spam, reopened, merged and unmerged,
reassigned, erased — per channel and over time, with every cut, after each change."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select, text, update

from fake_provider import fake_provider
from filrouge.core.actions.teams import create_team
from filrouge.core.audit import Actor
from filrouge.core.indicators.dashboard import HEADLINE, SHOWN
from filrouge.core.indicators.facts import rebuild_report_facts
from filrouge.core.indicators.figures import compute
from filrouge.core.indicators.period import ReportFilters, report_period
from filrouge.core.indicators.reference import compute_from_tables
from filrouge.core.indicators.reports import (
    channel_report,
    channel_report_with,
    timeseries_with,
    total_report,
)
from filrouge.core.models import Conversation, ReportConversation, ReportOtherChannel
from filrouge.core.segments import SegmentDefinition, segment_clause
from filrouge.db import transaction
from filrouge.schema import alembic_config
from helpers import T0, receive

PARIS = ZoneInfo("Europe/Paris")
SERIES = ("conversations", "inbound_messages", "replies", "first_response_median_s", "fcr_rate")
VIP = SegmentDefinition.model_validate({"all": [{"field": "vip", "op": "is", "value": True}]})


def report_both_ways(factory: Any, workspace_id: int, **cuts: Any) -> tuple[Any, Any]:
    """(facts, raw tables): the channel table, its total, and a few figures by month."""
    since, until = report_period(date(2026, 5, 1), date(2026, 12, 31), PARIS, date(2026, 12, 31))
    filters = ReportFilters(since, until, PARIS, **cuts)
    found = []
    with factory() as session:
        for figures_of in (compute, compute_from_tables):
            per_channel, total = channel_report_with(figures_of, session, workspace_id, filters)
            series = [
                timeseries_with(figures_of, session, workspace_id, filters, metric, "month")
                for metric in SERIES
            ]
            found.append(
                ({key: row.public() for key, row in per_channel.items()}, total.public(), series)
            )
    return found[0], found[1]


def assert_agree(factory: Any, workspace_id: int, cuts: list[dict[str, Any]]) -> Any:
    for cut in [{}, *cuts]:
        facts, tables = report_both_ways(factory, workspace_id, **cut)
        assert facts == tables, cut
    return report_both_ways(factory, workspace_id)[0]


def facts_rows(factory: Any) -> list[Any]:
    with factory() as session:
        return [
            *session.execute(select(ReportConversation).order_by("conversation_id")).scalars(),
            *session.execute(
                select(ReportOtherChannel).order_by("conversation_id", "channel_id")
            ).scalars(),
        ]


def as_tuples(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(sorted(vars(row).items())[1:]) for row in rows]  # without the ORM's state


@pytest.fixture
def lines(channel: Any) -> Any:
    with fake_provider() as provider:
        yield {
            "api": channel("api", "API", outbound_url=provider.url)["id"],
            "email": channel("email", "E-mail")["id"],
            "phone": channel("phone", "Téléphone")["id"],
        }


def reply(admin: Any, conversation_id: int, **extra: Any) -> None:
    sent = admin.post(
        f"/api/v1/conversations/{conversation_id}/replies", json={"text": "Voilà.", **extra}
    )
    assert sent.status_code == 201, sent.text


def change(admin: Any, conversation_id: int, **fields: Any) -> None:
    changed = admin.patch(f"/api/v1/conversations/{conversation_id}", json=fields)
    assert changed.status_code == 200, changed.text


def test_the_facts_agree_with_the_raw_tables_through_every_change(
    admin, make_caller, lines, factory
):
    workspace_id = admin.user.workspace_id
    agent = make_caller("agent", email="agent@example.test").user
    with transaction(factory) as session:
        team = create_team(session, workspace_id, "Niveau 2", Actor.system()).id
    api, email, phone = lines["api"], lines["email"], lines["phone"]

    first = receive(admin, api, "a@example.fr")  # answered once, resolved
    reply(admin, first["conversation_id"])
    change(admin, first["conversation_id"], status="resolved")
    twice = receive(admin, api, "b@example.fr", hours=1)  # two replies, resolved, reopened
    reply(admin, twice["conversation_id"])
    reply(admin, twice["conversation_id"])
    change(admin, twice["conversation_id"], status="resolved")
    receive(admin, api, "b@example.fr", hours=2, text="Toujours pas reçu")
    by_phone = receive(admin, api, "+33611111111", kind="phone", hours=3)  # answered by phone
    reply(admin, by_phone["conversation_id"], channel_id=phone)
    change(admin, by_phone["conversation_id"], assignee_id=agent.id, team_id=team)
    change(admin, by_phone["conversation_id"], priority="urgent")
    receive(admin, email, "switch@example.fr", hours=4)  # then writes on the API channel
    receive(admin, api, "switch@example.fr", hours=5, text="Je vous écris ici plutôt")
    spam = receive(admin, api, "spam@example.fr", hours=6)
    change(admin, spam["conversation_id"], tags=["spam"])
    twin = receive(admin, api, "a.twin@example.fr", hours=7)
    reply(admin, twin["conversation_id"])
    admin.patch(f"/api/v1/customers/{first['customer_id']}", json={"attributes": {"vip": True}})
    cuts = [
        {"channel_id": api},
        {"channel_id": email},
        {"agent_id": agent.id},
        {"team_id": team},
        {"priority": "urgent"},
        {"segment": segment_clause(VIP)},
    ]

    built = assert_agree(factory, workspace_id, cuts)
    assert built[1]["conversations"] == 5  # the spam is not counted
    assert (built[1]["reopen_rate"], built[1]["channel_switches_per_conversation"]) == (0.5, 0.2)
    assert (built[0][phone]["replies"], built[0][phone]["conversations"]) == (1, 0)

    merged = admin.post(
        f"/api/v1/customers/{first['customer_id']}/merge",
        json={"other_id": twin["customer_id"]},
    )
    assert merged.status_code == 200, merged.text
    assert assert_agree(factory, workspace_id, cuts)[1]["customers"] == 4

    unmerged = admin.post(
        f"/api/v1/customers/{first['customer_id']}/unmerge",
        json={"other_id": twin["customer_id"]},
    )
    assert unmerged.status_code == 200, unmerged.text
    change(admin, by_phone["conversation_id"], assignee_id=admin.user.id, priority="low")
    change(admin, spam["conversation_id"], tags=[])
    erased = admin.post(
        f"/api/v1/customers/{twice['customer_id']}/erase", json={"reason": "Demande RGPD"}
    )
    assert erased.status_code == 200, erased.text
    assert assert_agree(factory, workspace_id, cuts)[1]["conversations"] == 6

    kept = as_tuples(facts_rows(factory))
    with transaction(factory) as session:
        assert rebuild_report_facts(session) == 6
    assert as_tuples(facts_rows(factory)) == kept  # written in one pass: the same rows


def test_the_facts_follow_rows_deleted_and_can_be_rebuilt(admin, lines, factory, engine):
    written = receive(admin, lines["api"], "a@example.fr")
    reply(admin, written["conversation_id"], channel_id=lines["phone"])
    assert len(facts_rows(factory)) == 2  # the conversation, and its reply on the phone line
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM report_conversations"))
    with transaction(factory) as session:
        assert rebuild_report_facts(session) == 1
    assert len(facts_rows(factory)) == 2
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM messages WHERE direction = 'outbound'"))
    assert len(facts_rows(factory)) == 1  # the other channel's counts went with the reply


def backlog_at(factory: Any, workspace_id: int, last_day: date) -> list[tuple[Any, ...]]:
    """The backlog at the end of ``last_day`` (count, age median and p90), from the facts and
    from the raw tables."""
    since, until = report_period(T0.date(), last_day, PARIS, date(2026, 12, 31))
    found = []
    with factory() as session:
        for figures_of in (compute, compute_from_tables):
            _, total = channel_report_with(
                figures_of, session, workspace_id, ReportFilters(since, until, PARIS)
            )
            found.append((total.backlog, total.backlog_age_median_s, total.backlog_age_p90_s))
    return found


def test_the_backlog_at_a_moment_past_reads_the_facts_as_the_tables_say(
    admin, lines, factory, engine
):
    ids = [
        receive(admin, lines["api"], f"c{n}@example.fr", hours=n)["conversation_id"]
        for n in range(4)
    ]
    steps: list[tuple[int, dict[str, Any]]] = [
        (ids[0], {"status": "resolved", "resolved_at": T0 + timedelta(days=30)}),
        (ids[1], {"status": "closed", "resolved_at": None}),  # closed without a resolution
        (ids[3], {"status": "resolved", "resolved_at": T0 + timedelta(days=2)}),
        (ids[3], {"status": "open"}),  # reopened: open again, its resolution kept
    ]
    with engine.begin() as connection:  # each change refreshes the facts (triggers)
        for conversation_id, values in steps:
            connection.execute(
                update(Conversation).where(Conversation.id == conversation_id).values(**values)
            )
    workspace_id = admin.user.workspace_id

    ten_days = backlog_at(factory, workspace_id, T0.date() + timedelta(days=9))
    forty_days = backlog_at(factory, workspace_id, T0.date() + timedelta(days=39))

    assert ten_days[0] == ten_days[1]
    assert forty_days[0] == forty_days[1]
    assert ten_days[0][0] == 3  # the one resolved on day 30, the unfinished, the reopened
    assert forty_days[0][0] == 2  # the unfinished and the reopened
    with factory() as session:
        rows = session.execute(
            select(ReportConversation.conversation_id, ReportConversation.open_until)
        )
        open_until = dict(rows.tuples().all())
    assert open_until[ids[0]] == T0 + timedelta(days=30)
    assert open_until[ids[1]] == T0 + timedelta(hours=1)  # its first message: never open
    assert (open_until[ids[2]], open_until[ids[3]]) == (None, None)


def test_the_migration_counts_the_conversations_already_there(admin, lines, factory, engine):
    written = receive(admin, lines["api"], "a@example.fr")
    reply(admin, written["conversation_id"], channel_id=lines["phone"])
    resolved = receive(admin, lines["api"], "b@example.fr", hours=1)
    change(admin, resolved["conversation_id"], status="resolved")
    before = as_tuples(facts_rows(factory))
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    for revision in ("0026", "0025"):  # before the backlog's column, then before the facts
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        assert as_tuples(facts_rows(factory)) == before
    assert len(before) == 3
    assert [row.open_until is None for row in facts_rows(factory)[:2]] == [True, False]


def test_the_commands_rebuild_the_facts_and_check_them_against_the_tables(
    admin, lines, engine, tmp_path
):
    receive(admin, lines["api"], "a@example.fr", hours=24 * 150)  # within the last 90 days
    env = {
        **os.environ,
        "FILROUGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "FILROUGE_DATA_DIR": str(tmp_path / "var"),
    }
    agreed = run(["reports", "check"], env)
    assert agreed.returncode == 0, agreed.stderr
    assert "agree" in agreed.stdout
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM report_conversations"))
    drifted = run(["reports", "check"], env)
    assert drifted.returncode == 1
    assert "conversations = 0 (facts), 1 (tables)" in drifted.stderr
    rebuilt = run(["reports", "rebuild"], env)
    assert (rebuilt.returncode, rebuilt.stdout.strip()) == (
        0,
        "1 conversations in the reports' facts",
    )
    assert run(["reports", "check"], env).returncode == 0


def run(args: list[str], env: dict[str, str]) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "filrouge.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_percentiles_read_at_their_rank_match_the_sorted_figures(admin, lines, factory, engine):
    """Hundreds of conversations with ties, unanswered ones and three channels: the channel
    table's durations and backlog (SQLite reads them at their rank along an index, or, cut
    by team and by day, from a temporary table sorted once) are the figures the raw tables
    give by ranking each row with a window function."""
    workspace_id = admin.user.workspace_id
    customer_id = receive(admin, lines["api"], "a@example.fr")["customer_id"]
    with transaction(factory) as session:
        team_id = create_team(session, workspace_id, "Agence de Lyon", Actor.system()).id
    draw = random.Random(5)
    channels = [lines["api"], lines["email"], lines["phone"]]
    rows = []
    for n in range(240):
        first = T0 + timedelta(hours=draw.randrange(24 * 60))
        answered = draw.random() < 0.8
        response = first + timedelta(minutes=draw.choice((5, 5, 30, 90, 600))) if answered else None
        resolved = response + timedelta(hours=draw.randrange(1, 200)) if response else None
        rows.append(
            Conversation(
                workspace_id=workspace_id,
                customer_id=customer_id,
                channel_id=channels[n % 3],
                origin_channel_id=channels[n % 3],
                status="resolved" if resolved and draw.random() < 0.7 else "open",
                priority="normal",
                team_id=team_id if draw.random() < 0.6 else None,
                first_inbound_at=first,
                first_response_at=response,
                last_inbound_at=first,
                last_activity_at=resolved or response or first,
                resolved_at=resolved,
            )
        )
    with transaction(factory) as session:
        session.add_all(rows)

    periods = (T0.date() + timedelta(days=20), T0.date() + timedelta(days=45))
    for last_day, cut in [(day, cut) for day in periods for cut in ({}, {"team_id": team_id})]:
        since, until = report_period(T0.date(), last_day, PARIS, date(2026, 12, 31))
        filters = ReportFilters(since, until, PARIS, **cut)
        with factory() as session:
            facts = channel_report_with(compute, session, workspace_id, filters)
            tables = channel_report_with(compute_from_tables, session, workspace_id, filters)
            series = [
                timeseries_with(figures_of, session, workspace_id, filters, metric, "day")
                for figures_of in (compute, compute_from_tables)
                for metric in ("first_response_median_s", "backlog_age_p90_s")
            ]
            headline = total_report(session, workspace_id, filters, HEADLINE)
            shown = channel_report(session, workspace_id, filters, SHOWN)
        assert facts[1].public() == tables[1].public()
        assert {metric: getattr(headline, metric) for metric in HEADLINE} == {
            metric: getattr(facts[1], metric) for metric in HEADLINE
        }  # the dashboard's previous period: its headline alone, the same figures
        for key, figures in [*facts[0].items(), (None, facts[1])]:  # what the page reads
            read = shown[1] if key is None else shown[0][key]
            assert {m: getattr(read, m) for m in SHOWN} == {m: getattr(figures, m) for m in SHOWN}
        assert {k: v.public() for k, v in facts[0].items()} == {
            k: v.public() for k, v in tables[0].items()
        }
        assert facts[1].backlog > 20 - 8 * bool(cut)
        assert facts[1].first_response_p90_s is not None
        assert series[:2] == series[2:]
        assert sum(value is not None for _, value in series[0]) > 10
