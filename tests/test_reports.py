"""The indicators (docs/METRICS.md) checked against figures counted by hand on a small fixed
set of conversations: per channel, in total and over time; periods cut at local midnight
across a change of daylight saving time; bad periods and empty ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from filrouge.core.indicators.period import buckets, report_period
from filrouge.core.models import (
    Conversation,
    ConversationTag,
    Customer,
    Event,
    Message,
    Survey,
)
from filrouge.db import transaction

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600.0
NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}


def at(day: int, hour: int = 9, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


class Book:
    """Writes the fixed set straight into the tables (times chosen by hand)."""

    def __init__(self, factory: Any, workspace_id: int, agent_id: int) -> None:
        self.factory, self.workspace_id, self.agent_id = factory, workspace_id, agent_id
        self.customers: dict[str, int] = {}

    def customer(self, name: str) -> int:
        if name not in self.customers:
            with transaction(self.factory) as session:
                row = Customer(workspace_id=self.workspace_id, name=name, attributes={})
                session.add(row)
                session.flush()
                self.customers[name] = row.id
        return self.customers[name]

    def conversation(
        self,
        channel_id: int,
        who: str,
        start: datetime,
        *,
        replies: list[tuple[float, int, bool, bool]] = (),  # hours after, channel, public, signed
        resolved_after: float | None = None,
        extra_inbound: list[tuple[float, str | None]] = (),  # hours after, flag
        tags: tuple[str, ...] = (),
        reopened: bool = False,
        switched_to: int | None = None,
    ) -> int:
        customer_id = self.customer(who)
        with transaction(self.factory) as session:
            first_reply = start + timedelta(hours=replies[0][0]) if replies else None
            conversation = Conversation(
                workspace_id=self.workspace_id,
                customer_id=customer_id,
                origin_channel_id=channel_id,
                channel_id=channel_id,
                status="resolved" if resolved_after is not None else "open",
                first_inbound_at=start,
                first_response_at=first_reply,
                last_inbound_at=start,
                last_activity_at=start,
                resolved_at=None
                if resolved_after is None
                else start + timedelta(hours=resolved_after),
                created_at=start,
            )
            session.add(conversation)
            session.flush()
            self._message(session, conversation.id, channel_id, "inbound", start)
            for hours, flag in extra_inbound:
                self._message(
                    session,
                    conversation.id,
                    channel_id,
                    "inbound",
                    start + timedelta(hours=hours),
                    flag=flag,
                )
            for hours, on, public, signed in replies:
                self._message(
                    session,
                    conversation.id,
                    on,
                    "outbound",
                    start + timedelta(hours=hours),
                    author_id=self.agent_id,
                    visibility="public" if public else "private",
                    signed_by_id=self.agent_id if signed else None,
                )
            for tag in tags:
                session.add(ConversationTag(conversation_id=conversation.id, tag=tag))
            if reopened:
                self._event(session, conversation.id, "conversation.reopened", start)
            if switched_to is not None:
                self._event(session, conversation.id, "conversation.channel_switched", start)
            return conversation.id

    def survey(
        self,
        conversation_id: int,
        channel_id: int,
        answered: datetime,
        csat: int,
        nps: int,
        solved: bool,
    ) -> None:
        with transaction(self.factory) as session:
            session.add(
                Survey(
                    workspace_id=self.workspace_id,
                    conversation_id=conversation_id,
                    channel_id=channel_id,
                    token_digest=f"{conversation_id:064d}",
                    locale="fr",
                    sent_at=answered - timedelta(hours=1),
                    expires_at=answered + timedelta(days=7),
                    answered_at=answered,
                    csat=csat,
                    nps=nps,
                    solved_first_contact=solved,
                )
            )

    def _message(
        self,
        session: Any,
        conversation_id: int,
        channel_id: int,
        direction: str,
        when: datetime,
        **extra: Any,
    ) -> None:
        status = "received" if direction == "inbound" else "sent"
        session.add(
            Message(
                conversation_id=conversation_id,
                channel_id=channel_id,
                direction=direction,
                text="…",
                status=status,
                occurred_at=when,
                **extra,
            )
        )

    def _event(self, session: Any, conversation_id: int, action: str, when: datetime) -> None:
        session.add(
            Event(
                workspace_id=self.workspace_id,
                occurred_at=when,
                actor_kind="system",
                subject_type="conversation",
                subject_id=conversation_id,
                action=action,
            )
        )


@pytest.fixture
def book(admin: Any, channel: Any, factory: Any) -> dict[str, Any]:
    email, messenger = channel("email", "E-mail"), channel("messenger", "Messenger")
    e, m = email["id"], messenger["id"]
    b = Book(factory, admin.user.workspace_id, admin.user.id)
    c1 = b.conversation(e, "A", at(2), replies=[(1, e, False, True)], resolved_after=2)
    c2 = b.conversation(
        e, "A", at(3), replies=[(3, e, False, True), (5, e, False, True)], resolved_after=24
    )
    b.conversation(e, "B", at(4), extra_inbound=[(1, "auto_reply")])
    b.conversation(e, "Spam", at(5), replies=[(1, e, False, True)], tags=("spam",))
    b.conversation(e, "Octobre", at(20, month=10), replies=[(1, e, False, True)])
    b.conversation(m, "C", at(10), replies=[(0.5, m, True, True)], resolved_after=1, reopened=True)
    b.conversation(m, "D", at(11), replies=[(2, e, False, True)], switched_to=e)
    b.survey(c1, e, at(2, 15), csat=5, nps=10, solved=True)
    b.survey(c2, e, at(4, 15), csat=2, nps=3, solved=False)
    return {"email": e, "messenger": m}


def by_channel(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row["channel_id"]: row for row in report["channels"]}


def test_each_indicator_per_channel_matches_the_hand_count(admin, book):
    response = admin.get("/api/v1/reports/channels", params=NOVEMBER)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["since"] == "2026-10-31T23:00:00Z"  # local midnight, Paris in winter
    assert report["until"] == "2026-11-30T23:00:00Z"
    email, messenger = by_channel(report)[book["email"]], by_channel(report)[book["messenger"]]

    # e-mail: C1, C2 (customer A) and C3 (B); the spam and the October one are not counted
    assert (email["conversations"], email["customers"], email["responded"]) == (3, 2, 2)
    assert email["response_rate"] == 0.6667
    assert (email["first_response_median_s"], email["first_response_p90_s"]) == (HOUR, 3 * HOUR)
    assert email["resolution_median_s"] == 2 * HOUR  # of 2 h and 24 h, nearest rank
    assert email["resolution_rate"] == 0.6667
    assert email["fcr_rate"] == 0.5  # C1 in one reply; C2 took two
    assert email["reopen_rate"] == 0.0
    assert email["inbound_messages"] == 3  # the auto-reply is not the customer's
    assert email["replies"] == 4  # C1, C2 twice, and D's answer by e-mail
    assert (email["public_replies"], email["private_replies"]) == (0, 4)
    assert email["signed_replies_share"] == 1.0
    assert email["csat"] == 0.5  # a 5 and a 2
    assert email["nps"] == 0.0  # one promoter (10), one detractor (3)
    assert email["solved_first_contact_reported"] == 0.5
    assert email["channel_switches_per_conversation"] == 0.0
    assert email["contacts_per_customer_per_month"] == round(1.5 / (30 / 30.4375), 4)
    assert email["sla_compliance"] is None  # no service level counted yet: no data

    # Messenger: C6 answered in public in 30 min, resolved, reopened; D moved to e-mail
    assert (messenger["conversations"], messenger["response_rate"]) == (2, 1.0)
    assert messenger["first_response_median_s"] == 0.5 * HOUR
    assert messenger["first_response_p90_s"] == 2 * HOUR
    assert messenger["resolution_median_s"] == HOUR
    assert (messenger["fcr_rate"], messenger["reopen_rate"]) == (0.0, 1.0)
    assert (messenger["inbound_messages"], messenger["public_replies"]) == (2, 1)
    assert messenger["channel_switches_per_conversation"] == 0.5
    assert messenger["csat"] is None

    total = report["total"]
    assert (total["conversations"], total["responded"], total["response_rate"]) == (5, 4, 0.8)
    assert total["first_response_median_s"] == HOUR  # 0.5, 1, 2, 3 h → rank 2
    assert total["first_response_p90_s"] == 3 * HOUR


def test_cuts_by_team_agent_priority_and_a_filter_that_matches_nothing(admin, book, factory):
    nobody = admin.get("/api/v1/reports/channels", params={**NOVEMBER, "team_id": 999}).json()
    assert nobody["channels"] == []
    assert nobody["total"]["conversations"] == 0
    assert nobody["total"]["response_rate"] is None  # no data, not 0 %, not an error
    urgent = admin.get("/api/v1/reports/channels", params={**NOVEMBER, "priority": "urgent"})
    assert urgent.json()["total"]["conversations"] == 0
    with transaction(factory) as session:
        session.query(Conversation).filter(
            Conversation.origin_channel_id == book["messenger"]
        ).update({"priority": "urgent", "assignee_id": admin.user.id})
    urgent = admin.get("/api/v1/reports/channels", params={**NOVEMBER, "priority": "urgent"})
    assert urgent.json()["total"]["conversations"] == 2
    mine = admin.get("/api/v1/reports/channels", params={**NOVEMBER, "agent_id": admin.user.id})
    assert [row["channel_id"] for row in mine.json()["channels"]] == [
        book["email"],
        book["messenger"],
    ]
    assert mine.json()["total"]["conversations"] == 2  # D's e-mail reply counts on e-mail


def test_a_figure_over_time_by_week_and_by_day(admin, book):
    weekly = admin.get(
        "/api/v1/reports/timeseries",
        params={**NOVEMBER, "metric": "conversations", "interval": "week"},
    ).json()
    assert [(p["start"], p["value"]) for p in weekly["points"]] == [
        ("2026-10-26", 0),
        ("2026-11-02", 3),
        ("2026-11-09", 2),
        ("2026-11-16", 0),
        ("2026-11-23", 0),
        ("2026-11-30", 0),
    ]
    rates = admin.get(
        "/api/v1/reports/timeseries",
        params={
            **NOVEMBER,
            "metric": "response_rate",
            "interval": "week",
            "channel_id": book["email"],
        },
    ).json()["points"]
    assert [p["value"] for p in rates] == [None, 0.6667, None, None, None, None]
    daily = admin.get(
        "/api/v1/reports/timeseries", params={**NOVEMBER, "metric": "csat", "interval": "day"}
    ).json()["points"]
    assert len(daily) == 30
    assert {p["start"]: p["value"] for p in daily if p["value"] is not None} == {
        "2026-11-02": 1.0,
        "2026-11-04": 0.0,
    }


def test_days_are_cut_at_local_midnight_across_a_change_of_time():
    since, until = report_period(date(2026, 10, 24), date(2026, 10, 26), PARIS, date(2026, 12, 1))
    cut = buckets(since, until, "day", PARIS)
    assert [(day.isoformat(), (end - start).total_seconds() / HOUR) for day, start, end in cut] == [
        ("2026-10-24", 24.0),
        ("2026-10-25", 25.0),  # the clocks went back an hour
        ("2026-10-26", 24.0),
    ]
    months = buckets(
        *report_period(date(2026, 1, 15), date(2026, 3, 31), PARIS, date(2026, 12, 1)),
        "month",
        PARIS,
    )
    assert [day.isoformat() for day, _, _ in months] == ["2026-01-01", "2026-02-01", "2026-03-01"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"since": "2026-11-30", "until": "2026-11-01"}, "period_reversed"),
        ({"since": "2020-01-01", "until": "2026-11-01"}, "period_too_long"),
        ({"since": "2026-13-01"}, "invalid_field"),
    ],
)
def test_bad_periods_are_refused_clearly(admin, params, code):
    response = admin.get("/api/v1/reports/channels", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_unknown_metrics_empty_periods_and_who_may_read(admin, make_caller):
    unknown = admin.get("/api/v1/reports/timeseries", params={"metric": "happiness"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_metric"
    empty = admin.get(
        "/api/v1/reports/channels", params={"since": "2025-01-01", "until": "2025-01-31"}
    )
    assert empty.status_code == 200
    assert empty.json()["total"]["csat"] is None
    assert make_caller("agent").get("/api/v1/reports/channels").status_code == 403
    assert (
        make_caller("supervisor", email="s@example.test")
        .get("/api/v1/reports/channels")
        .status_code
        == 200
    )


def test_a_saved_segment_cuts_the_report_to_its_customers(admin, book, factory):
    with transaction(factory) as session:  # customer C (Messenger, answered in public) is a VIP
        session.query(Customer).filter(Customer.name == "C").update({"attributes": {"vip": True}})
    vip = {"all": [{"field": "vip", "op": "is", "value": True}]}
    segment = admin.post("/api/v1/segments", json={"name": "VIP", "definition": vip})
    assert segment.status_code == 201, segment.text
    report = admin.get(
        "/api/v1/reports/channels", params={**NOVEMBER, "segment": segment.json()["id"]}
    ).json()
    assert [row["channel_id"] for row in report["channels"]] == [book["messenger"]]
    assert (report["total"]["conversations"], report["total"]["public_replies"]) == (1, 1)
    unknown = admin.get("/api/v1/reports/channels", params={**NOVEMBER, "segment": 999})
    assert unknown.status_code == 404
