"""Satisfaction surveys: asked after a resolution on the customer's channel (a link, or rating
buttons in the chat), answered once on a public page in the customer's language before the
link expires; who is not asked (spam, twice a week, no answer, public, no consent, closed
window); answers on the conversation, the journey and the API."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from fake_provider import FakeProvider, fake_provider
from filrouge.core.actions.surveys import offer_survey
from filrouge.core.models import Conversation, Customer, Event, Message, Survey
from filrouge.core.surveys import Skip
from filrouge.db import transaction
from filrouge.jobs.surveys import forgotten_resolutions
from filrouge.lib.timeutil import utcnow
from helpers import inbound, receive
from smtp_sink import smtp_sink
from test_chat_channel import hello, next_of, say

PUBLIC_URL = "http://127.0.0.1:8000"
LINK = re.compile(r"http://127\.0\.0\.1:8000/survey/([A-Za-z0-9_-]+)")


@pytest.fixture
def provider() -> Any:
    """Twilio, X and WhatsApp's APIs on 127.0.0.1: each send answered with a new id."""
    with fake_provider() as fake:
        fake.answers = [
            (201, {"sid": f"SM{n}", "data": {"id": f"x{n}"}, "messages": [{"id": f"wa{n}"}]})
            for n in range(200)
        ]
        yield fake


@pytest.fixture
def line(channel: Any, provider: FakeProvider) -> Any:
    """A channel of ``kind`` whose replies reach the fake provider."""
    settings = {
        "sms": {"account_sid": "AC1", "auth_token": "t", "phone_number": "+33700000000"},
        "whatsapp": {"access_token": "t", "phone_number_id": "1", "app_secret": "s"},
        "x": {"access_token": "t"},
    }

    def make(kind: str) -> dict[str, Any]:
        made: dict[str, Any] = channel(
            kind, kind.upper(), api_base_url=provider.base, **settings[kind]
        )
        return made

    return make


def answered_and_resolved(admin: Any, channel_id: int, sender: str, **extra: Any) -> int:
    """A conversation in which the customer wrote, an agent answered, and that is resolved."""
    written = (utcnow() - timedelta(minutes=30)).isoformat()
    first = admin.post(
        "/api/v1/inbound", json=inbound(channel_id, sender, occurred_at=written, **extra)
    )
    assert first.status_code == 201, first.text
    conversation_id = int(first.json()["conversation_id"])
    reply = admin.post(f"/api/v1/conversations/{conversation_id}/replies", json={"text": "Voilà."})
    assert reply.status_code == 201, reply.text
    resolved = admin.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"})
    assert resolved.status_code == 200, resolved.text
    return conversation_id


def offer(factory: Any, conversation_id: int) -> Survey | Skip:
    with transaction(factory) as session:
        result = offer_survey(session, conversation_id, PUBLIC_URL)
        if isinstance(result, Survey):
            session.flush()
            session.expunge(result)
        return result


def survey_message(factory: Any, conversation_id: int) -> Message:
    with factory() as session:
        message = session.scalar(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.flag == "automatic"
            )
        )
        assert message is not None
        return message


def test_a_resolved_email_conversation_gets_a_link_answered_once_in_french(
    admin, channel, client, factory, make_browser
):
    with smtp_sink() as sink:
        email = channel(
            "email",
            "Service client",
            address="service@boutique.example",
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security="none",
        )
        sender = "jeanne@example.fr"
        conversation_id = answered_and_resolved(admin, email["id"], sender, kind="email")
        survey = offer(factory, conversation_id)
    assert len(sink.mails) == 2  # the agent's answer, then the survey
    assert isinstance(survey, Survey)
    message = survey_message(factory, conversation_id)
    assert message.author_id is None  # nobody signed it
    assert message.text.startswith("Votre demande est résolue.")
    token = LINK.search(message.text).group(1)  # type: ignore[union-attr]
    with factory() as session:  # not the team's response: that was the agent's reply
        conversation = session.get_one(Conversation, conversation_id)
        agent_reply = session.scalar(
            select(Message.occurred_at).where(
                Message.conversation_id == conversation_id, Message.author_id.is_not(None)
            )
        )
    assert conversation.first_response_at == agent_reply

    page = client.get(f"/survey/{token}")
    assert page.status_code == 200
    assert "Comment s'est passé notre échange" in page.text.replace("&#39;", "'")
    answer = {"csat": "4", "nps": "9", "solved": "yes", "comment": "Rapide et aimable"}
    done = client.post(f"/survey/{token}", data=answer)
    assert done.status_code == 200
    assert "Merci" in done.text
    again = client.post(f"/survey/{token}", data={"csat": "1"})
    assert again.status_code == 409
    with factory() as session:
        kept = session.scalar(select(Survey))
    assert kept is not None
    assert (kept.csat, kept.nps, kept.solved_first_contact, kept.comment) == (
        4,
        9,
        True,
        "Rapide et aimable",
    )

    agent = make_browser("agent")
    panel = agent.get(f"/conversations/{conversation_id}").text
    assert "Satisfaction : 4/5" in panel
    assert "Rapide et aimable" in panel
    customer_id = admin.get(f"/api/v1/conversations/{conversation_id}").json()["customer_id"]
    timeline = admin.get(f"/api/v1/customers/{customer_id}").json()["timeline"]
    [entry] = [e for e in timeline if e["type"] == "survey"]
    assert (entry["survey"]["csat"], entry["survey"]["nps"]) == (4, 9)
    journey = agent.get(f"/customers/{customer_id}").text
    assert 'data-kind="survey"' in journey
    assert "résolu au premier contact" in journey


def test_the_survey_page_speaks_english_to_an_english_speaking_customer(
    line, admin, client, factory
):
    sms = line("sms")
    conversation_id = answered_and_resolved(admin, sms["id"], "+447700900123", kind="phone")
    customer_id = admin.get(f"/api/v1/conversations/{conversation_id}").json()["customer_id"]
    admin.patch(f"/api/v1/customers/{customer_id}", json={"attributes": {"language": "en"}})
    assert isinstance(offer(factory, conversation_id), Survey)
    text = survey_message(factory, conversation_id).text
    assert text.startswith("Your request is resolved. How did we do?")
    token = LINK.search(text).group(1)  # type: ignore[union-attr]
    assert "How did we do?" in client.get(f"/survey/{token}").text
    assert "Comment s" in client.get(f"/survey/{token}?lang=fr").text


def test_forged_expired_and_out_of_range_answers_are_refused_clearly(line, admin, client, factory):
    sms = line("sms")
    conversation_id = answered_and_resolved(admin, sms["id"], "+33612345678", kind="phone")
    offer(factory, conversation_id)
    token = LINK.search(survey_message(factory, conversation_id).text).group(1)  # type: ignore[union-attr]

    assert client.get("/survey/forged-token-1234567890").status_code == 404
    assert client.get("/survey/<script>").status_code == 404
    out_of_range = client.post(f"/survey/{token}", data={"csat": "6"})
    assert out_of_range.status_code == 422
    assert "de 1 à 5" in out_of_range.text
    bad_nps = client.post(
        f"/survey/{token}", data={"csat": "3", "nps": "11"}, headers={"Accept": "application/json"}
    )
    assert bad_nps.status_code == 422
    assert bad_nps.json()["error"]["field"] == "nps"
    with transaction(factory) as session:
        session.execute(update(Survey).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = client.post(f"/survey/{token}", data={"csat": "5"})
    assert expired.status_code == 410
    assert "expiré" in expired.text
    with factory() as session:
        assert session.scalar(select(Survey.answered_at)) is None


def test_who_is_not_asked_and_why(line, admin, factory):
    sms, whatsapp = line("sms"), line("whatsapp")
    first = answered_and_resolved(admin, sms["id"], "+33611111111", kind="phone")
    assert isinstance(offer(factory, first), Survey)
    assert offer(factory, first) == Skip("already")
    # the same customer again within the week, in a new conversation
    admin.patch(f"/api/v1/conversations/{first}", json={"status": "closed"})
    second = receive(admin, sms["id"], "+33611111111", kind="phone", hours=1)
    assert second["conversation_id"] != first
    admin.post(f"/api/v1/conversations/{second['conversation_id']}/replies", json={"text": "Ok"})
    admin.patch(f"/api/v1/conversations/{second['conversation_id']}", json={"status": "resolved"})
    assert offer(factory, second["conversation_id"]) == Skip("too_soon")

    spam = answered_and_resolved(admin, sms["id"], "+33622222222", kind="phone")
    admin.patch(f"/api/v1/conversations/{spam}", json={"tags": ["spam"]})
    assert offer(factory, spam) == Skip("spam")

    unanswered = receive(admin, sms["id"], "+33633333333", kind="phone")["conversation_id"]
    admin.patch(f"/api/v1/conversations/{unanswered}", json={"status": "resolved"})
    assert offer(factory, unanswered) == Skip("no_answer")

    refused = answered_and_resolved(admin, sms["id"], "+33644444444", kind="phone")
    customer_id = admin.get(f"/api/v1/conversations/{refused}").json()["customer_id"]
    admin.patch(f"/api/v1/customers/{customer_id}", json={"attributes": {"consent_sms": False}})
    assert offer(factory, refused) == Skip("no_consent")

    still_open = receive(admin, sms["id"], "+33655555555", kind="phone")["conversation_id"]
    assert offer(factory, still_open) == Skip("not_resolved")

    old = answered_and_resolved(admin, whatsapp["id"], "+33666666666", kind="whatsapp")
    with transaction(factory) as session:  # the customer last wrote two days ago
        session.execute(
            update(Message)
            .where(Message.conversation_id == old, Message.direction == "inbound")
            .values(occurred_at=utcnow() - timedelta(days=2))
        )
    assert offer(factory, old) == Skip("window_closed")
    with factory() as session:
        reasons = session.scalars(
            select(Event.after).where(Event.action == "survey.skipped").order_by(Event.id)
        ).all()
    assert [r["reason"] for r in reasons] == [
        "already",
        "too_soon",
        "spam",
        "no_answer",
        "no_consent",
        "not_resolved",
        "window_closed",
    ]


def test_a_public_comment_is_never_surveyed_in_public(line, admin, factory):
    x = line("x")
    conversation_id = answered_and_resolved(
        admin, x["id"], "1234", kind="x", visibility="public", provider_message_id="1790000000001"
    )
    assert offer(factory, conversation_id) == Skip("public")


def test_a_chat_visitor_rates_with_buttons_once(admin, channel, client, factory):
    chat = channel("chat", "Chat du site")
    url = f"/hooks/chat/{chat['id']}/ws"
    with client.websocket_connect(url) as ws:
        token = hello(ws)["token"]
        say(ws, "Ma commande est arrivée cassée")
    conversation_id = admin.get("/api/v1/conversations").json()["items"][0]["id"]
    admin.post(
        f"/api/v1/conversations/{conversation_id}/replies", json={"text": "On vous rembourse."}
    )
    admin.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"})
    assert isinstance(offer(factory, conversation_id), Survey)
    with client.websocket_connect(url) as ws:
        history = hello(ws, token)["messages"]
        request = history[-1]
        assert request["survey"] == {"answered": False, "csat": None}
        assert "/survey/" not in request["text"]  # buttons, not a link
        ws.send_json({"type": "rating", "message_id": request["id"], "csat": 5})
        assert next_of(ws, "rated") == {"type": "rated", "message_id": request["id"], "csat": 5}
        ws.send_json({"type": "rating", "message_id": request["id"], "csat": 1})
        assert next_of(ws, "error")["code"] == "survey_already_answered"
        ws.send_json({"type": "rating", "message_id": history[0]["id"], "csat": 3})
        assert next_of(ws, "error")["code"] == "survey_not_found"
        ws.send_json({"type": "rating", "message_id": request["id"], "csat": 9})
        assert next_of(ws, "error")["code"] == "invalid_rating"
    with factory() as session:
        assert session.scalar(select(Survey.csat)) == 5


def test_the_sweeper_asks_after_a_lost_task_and_erasure_keeps_only_the_rating(line, admin, factory):
    sms = line("sms")
    conversation_id = answered_and_resolved(admin, sms["id"], "+33677777777", kind="phone")
    with transaction(factory) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(resolved_at=utcnow() - timedelta(minutes=20))
        )
        assert forgotten_resolutions(session) == [conversation_id]
    survey = offer(factory, conversation_id)
    assert isinstance(survey, Survey)
    with transaction(factory) as session:
        assert forgotten_resolutions(session) == []
        session.execute(update(Survey).values(csat=2, comment="Jeanne Dupont, très déçue"))
        customer_id = session.get_one(Conversation, conversation_id).customer_id
    erased = admin.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "demande RGPD"})
    assert erased.status_code == 200, erased.text
    with factory() as session:
        kept = session.scalar(select(Survey))
        assert kept is not None
        assert (kept.csat, kept.comment) == (2, None)
        assert session.get_one(Customer, customer_id).name is None


def test_admins_set_who_is_asked_by_page_and_by_api(admin, make_caller, make_browser, factory):
    browser = make_browser("admin", email="admin.surveys@example.test")
    page = browser.get("/admin/surveys")
    assert page.status_code == 200
    assert "Enquêtes de satisfaction" in page.text
    saved = browser.post(
        "/admin/surveys",
        {"enabled": "true", "delay_minutes": "30", "expiry_days": "3", "min_days_between": "14"},
    )
    assert saved.status_code == 303
    policy = admin.get("/api/v1/survey-policy").json()
    assert policy == {
        "enabled": True,
        "delay_minutes": 30,
        "expiry_days": 3,
        "min_days_between": 14,
        "ask_nps": False,
    }
    refused = browser.post("/admin/surveys", {"enabled": "true", "expiry_days": "0"})
    assert refused.status_code == 422
    assert "expiry_days" in refused.text
    bad = admin.client.put(
        "/api/v1/survey-policy",
        json={**policy, "delay_minutes": -5},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert bad.status_code == 422
    supervisor = make_caller("supervisor", email="sup.surveys@example.test")
    assert supervisor.get("/api/v1/survey-policy").status_code == 200
    forbidden = supervisor.client.put(
        "/api/v1/survey-policy",
        json=policy,
        headers={"Authorization": f"Bearer {supervisor.token}"},
    )
    assert forbidden.status_code == 403
    with factory() as session:
        changed = session.scalars(
            select(Event.action).where(Event.action == "workspace.survey_policy_changed")
        ).all()
    assert len(changed) == 1
