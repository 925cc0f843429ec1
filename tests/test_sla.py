"""Service levels: targets by channel and priority counted in business or calendar hours,
paused while waiting for the customer, warnings, breaches escalated once, outcomes stored for
reports, the "SLA due soon" view with its countdowns, and policies and calendars refused
with the reason when they cannot be measured. The clock is the test's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    Event,
    Message,
    SlaOutcome,
    Team,
)
from filrouge.db import transaction
from filrouge.jobs.sla import refresh_due

PARIS = ZoneInfo("Europe/Paris")
MINUTE, HOUR = 60, 3600


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def to(self, moment: datetime) -> None:
        self.now = moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The time of the SLA jobs, of replies and of status changes."""
    test_clock = Clock(paris(2026, 11, 27, 22))
    for module in (
        "jobs.sla",
        "core.actions.replies",
        "core.actions.conversations",
        "web.ui.inbox",
        "web.ui.conversation",
    ):
        monkeypatch.setattr(f"filrouge.{module}.utcnow", test_clock)
    return test_clock


def add_channel(factory: sessionmaker[Session], kind: str, **settings: Any) -> int:
    with transaction(factory) as session:
        channel = ChannelAccount(workspace_id=1, kind=kind, name=kind, settings=settings)
        session.add(channel)
        session.flush()
        return channel.id


def write(
    admin: Any,
    channel_id: int,
    at: datetime,
    kind: str = "x",
    value: str = "@claire",
    text: str = "Bonjour",
) -> int:
    body = {
        "channel_id": channel_id,
        "sender": {"kind": kind, "value": value},
        "text": text,
        "occurred_at": at.isoformat(),
    }
    response = admin.post("/api/v1/inbound", json=body)
    assert response.status_code == 201, response.text
    conversation_id: int = response.json()["conversation_id"]
    return conversation_id


def conversation(factory: sessionmaker[Session], conversation_id: int) -> Conversation:
    with factory() as session:
        found = session.get(Conversation, conversation_id)
        assert found is not None
        session.expunge(found)
        return found


def outcomes(factory: sessionmaker[Session], conversation_id: int) -> list[SlaOutcome]:
    with factory() as session:
        rows = list(
            session.scalars(
                select(SlaOutcome)
                .where(SlaOutcome.conversation_id == conversation_id)
                .order_by(SlaOutcome.id)
            )
        )
        session.expunge_all()
        return rows


def events(factory: sessionmaker[Session], action: str) -> list[Event]:
    with factory() as session:
        rows = list(session.scalars(select(Event).where(Event.action == action)))
        session.expunge_all()
        return rows


def x_policy(admin: Any) -> dict[str, Any]:
    policies = admin.get("/api/v1/sla-policies").json()
    found: dict[str, Any] = next(p for p in policies if p["name"] == "X and Messenger")
    return found


def test_it_counts_a_tweet_at_night_in_business_hours_until_monday_morning(
    admin: Any, factory: sessionmaker[Session], clock: Clock
):
    x = add_channel(factory, "x")
    conversation_id = write(admin, x, paris(2026, 11, 27, 22))  # a Friday, 22:00
    found = conversation(factory, conversation_id)
    assert found.sla_target == "first_response"
    assert found.sla_due_at == paris(2026, 11, 30, 9, 30)  # Monday 09:30


def test_it_counts_calendar_hours_when_the_policy_says_so(
    admin: Any, factory: sessionmaker[Session], clock: Clock
):
    x = add_channel(factory, "x")
    policy = x_policy(admin)
    response = admin.patch(f"/api/v1/sla-policies/{policy['id']}", json={"business_hours": False})
    assert response.status_code == 200, response.text
    conversation_id = write(admin, x, paris(2026, 11, 27, 22))
    assert conversation(factory, conversation_id).sla_due_at == paris(2026, 11, 27, 22, 30)


def reply(admin: Any, conversation_id: int, text: str = "Nous regardons.") -> None:
    response = admin.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": text})
    assert response.status_code == 201, response.text


def set_status(admin: Any, conversation_id: int, status: str) -> None:
    response = admin.patch(f"/api/v1/conversations/{conversation_id}", json={"status": status})
    assert response.status_code == 200, response.text


PHONE = {"kind": "phone", "value": "+33612345678"}


def test_waiting_for_the_customer_pauses_the_clock_and_the_rest_is_kept(
    admin: Any, channel: Callable[..., dict[str, Any]], factory: sessionmaker[Session], clock: Clock
):
    phone = channel("phone", "Téléphone")["id"]  # "Other channels": 24 business hours
    clock.to(paris(2026, 11, 30, 10))
    conversation_id = write(admin, phone, paris(2026, 11, 30, 10), **PHONE)
    # Monday 8 h + Tuesday 9 h + Wednesday 7 h: due Wednesday at 16:00.
    assert conversation(factory, conversation_id).sla_due_at == paris(2026, 12, 2, 16)
    clock.to(paris(2026, 11, 30, 11))
    set_status(admin, conversation_id, "pending")
    paused = conversation(factory, conversation_id)
    assert paused.sla_target == "first_response"
    assert paused.sla_due_at is None
    # The customer answers on Tuesday at 11:00: 9 business hours were paused.
    clock.to(paris(2026, 12, 1, 11))
    write(admin, phone, paris(2026, 12, 1, 11), text="Voici le numéro de commande", **PHONE)
    resumed = conversation(factory, conversation_id)
    assert resumed.status == "open"
    assert resumed.sla_due_at == paris(2026, 12, 3, 16)  # Wednesday 16:00 + 9 business hours


def test_met_targets_are_stored_with_calendar_and_business_time(
    admin: Any, channel: Callable[..., dict[str, Any]], factory: sessionmaker[Session], clock: Clock
):
    phone = channel("phone", "Téléphone")["id"]
    clock.to(paris(2026, 11, 27, 17))
    conversation_id = write(admin, phone, paris(2026, 11, 27, 17), **PHONE)  # Friday 17:00
    clock.to(paris(2026, 11, 30, 10))  # Monday 10:00
    reply(admin, conversation_id)
    [first] = outcomes(factory, conversation_id)
    assert (first.target, first.breached) == ("first_response", False)
    assert first.met_at == paris(2026, 11, 30, 10)
    assert first.business_seconds == 2 * HOUR  # Friday 17–18, Monday 9–10
    assert first.elapsed_seconds == 65 * HOUR
    assert first.channel_kind == "phone"
    # The customer writes again; the next answer comes late: a next-response target breached.
    clock.to(paris(2026, 11, 30, 11))
    write(admin, phone, paris(2026, 11, 30, 11), text="Et alors ?", **PHONE)
    assert conversation(factory, conversation_id).sla_target == "next_response"
    clock.to(paris(2026, 12, 3, 12))  # 24 business hours were up on Wednesday at 17:00
    reply(admin, conversation_id)
    next_one = outcomes(factory, conversation_id)[-1]
    assert (next_one.target, next_one.breached) == ("next_response", True)
    assert next_one.business_seconds == 28 * HOUR  # Monday 7 h, Tuesday 9, Wednesday 9, Thursday 3
    clock.to(paris(2026, 12, 3, 14))
    set_status(admin, conversation_id, "resolved")
    resolution = outcomes(factory, conversation_id)[-1]
    assert (resolution.target, resolution.breached) == ("resolution", False)
    assert resolution.business_seconds == (1 + 9 * 3 + 5) * HOUR
    assert conversation(factory, conversation_id).sla_target is None


def test_a_breach_raises_the_priority_reassigns_and_notifies_supervisors_once(
    admin: Any, make_caller: Callable[..., Any], factory: sessionmaker[Session], clock: Clock
):
    supervisor = make_caller("supervisor", name="Sacha Superviseur")
    with transaction(factory) as session:
        team = Team(workspace_id=1, name="Réseaux sociaux")
        session.add(team)
        session.flush()
        team_id = team.id
    policy = x_policy(admin)
    admin.patch(f"/api/v1/sla-policies/{policy['id']}", json={"reassign_team_id": team_id})
    x = add_channel(factory, "x")
    clock.to(paris(2026, 11, 30, 10))
    conversation_id = write(admin, x, paris(2026, 11, 30, 10))
    clock.to(paris(2026, 11, 30, 10, 25))  # 80 % of 30 min gone: due soon, warned once
    refresh_due()
    refresh_due()
    assert len(events(factory, "sla.warned")) == 1
    clock.to(paris(2026, 11, 30, 10, 31))
    refresh_due()
    refresh_due()
    breached = conversation(factory, conversation_id)
    assert breached.priority == "high"
    assert breached.team_id == team_id
    [notified] = events(factory, "sla.breach_notified")
    assert notified.after == {"target": "first_response", "supervisor_ids": [supervisor.user.id]}
    [told] = supervisor.get("/api/v1/notifications").json()["items"]
    assert (told["kind"], told["conversation_id"]) == ("sla.breached", conversation_id)
    assert told["text"].endswith("a manqué son objectif de première réponse.")
    assert len(events(factory, "sla.breached")) == 1
    [outcome] = outcomes(factory, conversation_id)
    assert outcome.breached
    assert outcome.met_at is None
    # Now "high" (one business hour): still shown late, by the first promise.
    assert breached.sla_due_at == paris(2026, 11, 30, 10, 30)


def test_the_sla_view_lists_the_target_due_first_with_its_countdown(
    admin: Any,
    make_browser: Callable[..., Any],
    factory: sessionmaker[Session],
    clock: Clock,
):
    x = add_channel(factory, "x")
    email = add_channel(factory, "email")
    clock.to(paris(2026, 11, 30, 10))
    by_mail = write(admin, email, paris(2026, 11, 30, 9), "email", "claire@example.test")
    late = write(admin, x, paris(2026, 11, 30, 9, 20), value="@paul")
    soon = write(admin, x, paris(2026, 11, 30, 9, 50), value="@lea")
    clock.to(paris(2026, 11, 30, 10, 15))
    agent = make_browser("agent")
    page = agent.get("/inbox?view=sla")
    assert page.status_code == 200
    order = [page.text.index(f'data-id="{i}"') for i in (late, soon, by_mail)]
    assert order == sorted(order)  # breached first, then due soon, then the email
    assert "en retard de 25 min" in page.text
    assert 'class="sla sla-due_soon"' in page.text
    assert "dans 5 min" in page.text  # 10:20 for the tweet of 09:50
    assert "dans 2 j 4 h" in page.text  # 24 business hours from Monday 09:00: Wednesday 15:00
    shown = agent.get(f"/conversations/{late}")
    assert "en retard de 25 min" in shown.text
    assert "Première réponse" in shown.text


def test_a_policy_that_cannot_be_measured_is_refused_with_the_reason(admin: Any):
    for body, field in (
        ({"name": "Négatif", "first_response_seconds": -60}, "first_response_seconds"),
        ({"name": "Inconnu", "channel_kinds": ["pigeon"]}, "channel_kinds"),
        ({"name": "Alerte", "warn_ratio": 1.5}, "warn_ratio"),
        ({"name": "  "}, "name"),
        ({"name": "Équipe", "reassign_team_id": 999}, "reassign_team_id"),
    ):
        response = admin.post("/api/v1/sla-policies", json=body, headers={"Accept-Language": "fr"})
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert field in (error.get("field") or "") + error["message"], error
    created = admin.post(
        "/api/v1/sla-policies",
        json={"name": "VIP", "priorities": ["urgent"], "first_response_seconds": 600},
    )
    assert created.status_code == 201, created.text
    assert created.json()["business_hours"] is True


def test_only_admins_change_policies(make_caller: Callable[..., Any]):
    agent = make_caller("agent")
    assert agent.get("/api/v1/sla-policies").status_code == 200
    refused = agent.post("/api/v1/sla-policies", json={"name": "Moi", "first_response_seconds": 1})
    assert refused.status_code == 403


OFFICE_FORM = {
    "timezone": "Europe/Paris",
    "holidays_country": "FR",
    **dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-18:00"),
}


def team_id_named(factory: sessionmaker[Session], name: str) -> int:
    with factory() as session:
        found = session.scalar(select(Team.id).where(Team.name == name))
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"mon": "09:00-12:00, 11:00-18:00"}, "se chevauchent"),
        (
            dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ""),
            "La semaine n&#39;a aucune heure",
        ),
        ({"holidays_subdiv": "99"}, "99"),
        ({"holidays_country": "ZZ"}, "ZZ"),
        ({"timezone": "Mars/Olympus"}, "Mars/Olympus"),
    ],
)
def test_a_team_calendar_that_cannot_be_used_is_refused_in_the_admin(
    make_browser: Callable[..., Any],
    factory: sessionmaker[Session],
    changes: dict[str, str],
    reason: str,
):
    admin = make_browser("admin", email="web.admin@example.test")
    assert admin.post("/admin/teams", {"name": "Réseaux sociaux"}).status_code == 303
    team_id = team_id_named(factory, "Réseaux sociaux")
    form = {**OFFICE_FORM, "own": "on", **changes}
    refused = admin.post(f"/admin/teams/{team_id}/calendar", form)
    assert refused.status_code == 422
    assert reason in refused.text
    with factory() as session:
        assert session.get_one(Team, team_id).calendar is None
    saved = admin.post(
        f"/admin/teams/{team_id}/calendar", {**OFFICE_FORM, "own": "on", "sat": "10h-13h"}
    )
    assert saved.status_code == 303
    with factory() as session:
        assert session.get_one(Team, team_id).calendar["hours"]["sat"] == [["10:00", "13:00"]]


def test_a_team_open_24_7_counts_every_hour_and_a_bad_calendar_falls_back_to_office_hours(
    admin: Any, factory: sessionmaker[Session], clock: Clock
):
    x = add_channel(factory, "x")
    with transaction(factory) as session:
        always = Team(workspace_id=1, name="Nuit", calendar={"hours": "24/7"})
        broken = Team(workspace_id=1, name="Cassée", calendar={"hours": {"mon": "all day"}})
        session.add_all([always, broken])
        session.flush()
        always_id, broken_id = always.id, broken.id
    night = write(admin, x, paris(2026, 11, 27, 22), value="@nuit")
    at_office = write(admin, x, paris(2026, 11, 27, 22), value="@bureau")
    assert (
        admin.patch(f"/api/v1/conversations/{night}", json={"team_id": always_id}).status_code
        == 200
    )
    assert (
        admin.patch(f"/api/v1/conversations/{at_office}", json={"team_id": broken_id}).status_code
        == 200
    )
    assert conversation(factory, night).sla_due_at == paris(2026, 11, 27, 22, 30)
    # A calendar that cannot be read (saved before the checks, or by hand): office hours.
    assert conversation(factory, at_office).sla_due_at == paris(2026, 11, 30, 9, 30)


def sent_by_us(factory: sessionmaker[Session], conversation_id: int) -> list[Message]:
    with factory() as session:
        rows = list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.direction == "outbound")
                .order_by(Message.id)
            )
        )
        session.expunge_all()
        return rows


def test_a_customer_writing_at_night_is_told_once_when_we_open_and_answer(
    admin: Any, factory: sessionmaker[Session], clock: Clock
):
    x = add_channel(factory, "x", after_hours_ack=True)
    conversation_id = write(admin, x, paris(2026, 11, 27, 22))  # Friday 22:00
    clock.to(paris(2026, 11, 27, 22, 5))
    write(admin, x, paris(2026, 11, 27, 22, 5), text="Vous êtes là ?")
    [ack] = sent_by_us(factory, conversation_id)
    assert ack.text == (
        "Merci pour votre message. Nous sommes fermés pour le moment : nous ouvrons "
        "lundi 30 novembre à 09:00 et vous répondrons avant lundi 30 novembre à 09:30."
    )
    assert ack.flag == "auto_reply"
    assert ack.author_id is None
    still = conversation(factory, conversation_id)
    assert still.first_response_at is None  # an automatic message is not an answer
    assert still.sla_target == "first_response"


def test_no_acknowledgement_in_opening_hours_nor_to_an_automatic_message(
    admin: Any,
    client: Any,
    channel: Callable[..., dict[str, Any]],
    factory: sessionmaker[Session],
    clock: Clock,
):
    x = add_channel(factory, "x", after_hours_ack=True)
    clock.to(paris(2026, 11, 30, 10))
    in_hours = write(admin, x, paris(2026, 11, 30, 10))  # Monday 10:00: open
    assert sent_by_us(factory, in_hours) == []
    email = channel("email", "Support", address="support@example.test", after_hours_ack=True)
    clock.to(paris(2026, 11, 27, 22))
    message = EmailMessage()
    message["From"] = "Jeanne Martin <jeanne.martin@example.test>"
    message["To"] = "support@example.test"
    message["Subject"] = "Absence du bureau"
    message["Date"] = "Fri, 27 Nov 2026 22:00:00 +0100"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content("Je suis absente jusqu'au 7 décembre.")
    response = client.post(
        f"/hooks/email/{email['id']}",
        content=bytes(message),
        headers={"Content-Type": "message/rfc822"},
        params={"token": email["inbound_token"]},
    )
    assert response.status_code in (200, 201, 202), response.text
    assert events(factory, "acknowledgement.after_hours") == []


def test_after_hours_words_naming_unknown_values_are_refused_when_saved(admin: Any):
    settings = {"after_hours_ack": True, "after_hours_text_fr": "Retour {demain}"}
    response = admin.post(
        "/api/v1/channels", json={"kind": "chat", "name": "Chat", "settings": settings}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "settings.after_hours_text_fr"


def test_admins_edit_a_policy_and_the_workspace_hours_on_the_admin_page(
    make_browser: Callable[..., Any], admin: Any, factory: sessionmaker[Session], clock: Clock
):
    browser = make_browser("admin", email="web.admin@example.test")
    assert "X and Messenger" in browser.get("/admin/sla").text
    policy = x_policy(admin)
    form = {
        "name": "X et Messenger",
        "position": "30",
        "channel_kinds": ["x", "messenger"],
        "first_response_minutes": "60",
        "next_response_minutes": "60",
        "business_hours": "on",
        "warn_percent": "25",
        "active": "on",
    }
    assert browser.post(f"/admin/sla/policies/{policy['id']}", form).status_code == 303
    changed = x_policy_named(admin, "X et Messenger")
    assert changed["first_response_seconds"] == 3600
    assert changed["resolution_seconds"] is None
    assert changed["warn_ratio"] == 0.25
    refused = browser.post(f"/admin/sla/policies/{policy['id']}", {**form, "name": " "})
    assert refused.status_code == 422
    always = browser.post("/admin/sla/calendar", {"always_open": "on", "timezone": "Europe/Paris"})
    assert always.status_code == 303
    x = add_channel(factory, "x")
    conversation_id = write(admin, x, paris(2026, 11, 27, 22))
    assert conversation(factory, conversation_id).sla_due_at == paris(2026, 11, 27, 23)


def x_policy_named(admin: Any, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        p for p in admin.get("/api/v1/sla-policies").json() if p["name"] == name
    )
    return found
