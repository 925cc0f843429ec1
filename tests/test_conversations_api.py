"""The inbox over HTTP: listing, filtering, paging, changing, replying and noting."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import select

from fake_provider import fake_provider
from filrouge.core.models import Event
from helpers import receive


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_it_lists_the_most_recent_activity_first_and_pages_with_a_cursor(admin, channel):
    ch = channel("api")
    made = [
        receive(admin, ch["id"], f"c{i}@example.fr", hours=i)["conversation_id"] for i in range(5)
    ]
    first = admin.get("/api/v1/conversations?limit=2").json()
    second = admin.get(f"/api/v1/conversations?limit=2&cursor={first['next_cursor']}").json()
    third = admin.get(f"/api/v1/conversations?limit=2&cursor={second['next_cursor']}").json()
    seen = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert seen == list(reversed(made))
    assert third["next_cursor"] is None


def test_it_filters_by_status_channel_tag_customer_and_text(admin, channel):
    email, sms = channel("email"), channel("sms")
    a = receive(admin, email["id"], "a@example.fr", text="Ma commande ML-2026-1 est en retard")
    b = receive(admin, sms["id"], "+33612345678", kind="phone", text="Merci !")
    admin.patch(
        f"/api/v1/conversations/{b['conversation_id']}",
        json={"status": "resolved", "tags": ["Compliment"]},
    )
    assert ids(admin.get("/api/v1/conversations?status=resolved")) == [b["conversation_id"]]
    assert ids(admin.get(f"/api/v1/conversations?channel_id={email['id']}")) == [
        a["conversation_id"]
    ]
    assert ids(admin.get("/api/v1/conversations?tag=compliment")) == [b["conversation_id"]]
    assert ids(admin.get(f"/api/v1/conversations?customer_id={a['customer_id']}")) == [
        a["conversation_id"]
    ]
    assert ids(admin.get("/api/v1/conversations?q=ml-2026-1")) == [a["conversation_id"]]


def test_it_changes_status_priority_assignee_team_and_tags_with_events(
    admin, channel, make_caller, factory
):
    agent = make_caller("agent")
    ch = channel("api")
    c = receive(admin, ch["id"], "a@example.fr")["conversation_id"]
    response = admin.patch(
        f"/api/v1/conversations/{c}",
        json={
            "status": "pending",
            "priority": "urgent",
            "assignee_id": agent.user.id,
            "tags": ["Livraison", "livraison ", "remboursement"],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["priority"], body["assignee_id"]) == (
        "pending",
        "urgent",
        agent.user.id,
    )
    assert body["tags"] == ["livraison", "remboursement"]
    unassigned = admin.patch(f"/api/v1/conversations/{c}", json={"assignee_id": None}).json()
    assert unassigned["assignee_id"] is None
    assert unassigned["priority"] == "urgent"
    with factory() as session:
        events = session.scalars(
            select(Event)
            .where(Event.subject_id == c, Event.action.like("%_changed"))
            .order_by(Event.id)
        ).all()
    assert [(e.action, e.before, e.after) for e in events] == [
        ("conversation.status_changed", {"status": "new"}, {"status": "pending"}),
        ("conversation.priority_changed", {"priority": "normal"}, {"priority": "urgent"}),
        ("conversation.assignee_id_changed", {"assignee_id": None}, {"assignee_id": agent.user.id}),
        ("conversation.tags_changed", {"tags": []}, {"tags": ["livraison", "remboursement"]}),
        ("conversation.assignee_id_changed", {"assignee_id": agent.user.id}, {"assignee_id": None}),
    ]
    assert all(e.actor_id == admin.user.id for e in events)


def test_it_refuses_an_unknown_assignee_or_status(admin, channel):
    ch = channel("api")
    c = receive(admin, ch["id"], "a@example.fr")["conversation_id"]
    bad_user = admin.patch(f"/api/v1/conversations/{c}", json={"assignee_id": 999})
    assert bad_user.status_code == 422
    assert bad_user.json()["error"]["field"] == "assignee_id"
    bad_status = admin.patch(f"/api/v1/conversations/{c}", json={"status": "done"})
    assert bad_status.status_code == 422
    assert bad_status.json()["error"]["field"] == "status"


def test_it_sends_a_reply_on_the_channel_the_customer_used_last(admin, channel):
    with fake_provider() as provider:
        ch = channel("api", outbound_url=provider.url, outbound_secret="s3cret")
        c = receive(admin, ch["id"], "a@example.fr", provider_message_id="in-1")
        reply = admin.post(
            f"/api/v1/conversations/{c['conversation_id']}/replies",
            json={"text": "Bonjour, nous regardons."},
        )
        assert reply.status_code == 201, reply.text
        assert reply.json()["channel_id"] == ch["id"]
        sent = provider.received[0]
    payload = sent.json()
    assert payload["recipient"] == {"kind": "email", "value": "a@example.fr"}
    assert payload["text"].startswith("Bonjour, nous regardons.")
    assert payload["in_reply_to"] == "in-1"
    expected = hmac.new(b"s3cret", sent.body, hashlib.sha256).hexdigest()
    assert sent.headers["X-Filrouge-Signature"] == f"sha256={expected}"
    detail = admin.get(f"/api/v1/conversations/{c['conversation_id']}").json()
    outbound = detail["messages"][-1]
    assert (outbound["status"], outbound["provider_message_id"]) == ("sent", "prov-1")
    assert outbound["signed_by_id"] == admin.user.id
    assert detail["first_response_at"] is not None
    assert detail["status"] == "open"


def test_it_marks_a_reply_failed_when_the_provider_refuses_it(admin, channel):
    with fake_provider() as provider:
        provider.answers = [(400, {"error": "bad recipient"})]
        ch = channel("api", outbound_url=provider.url)
        c = receive(admin, ch["id"], "a@example.fr")
        reply = admin.post(
            f"/api/v1/conversations/{c['conversation_id']}/replies", json={"text": "Bonjour"}
        ).json()
    message = admin.get(f"/api/v1/conversations/{c['conversation_id']}").json()["messages"][-1]
    assert message["id"] == reply["id"]
    assert message["status"] == "failed"
    assert "400" in message["error"]


def test_it_keeps_a_reply_queued_while_the_provider_is_down(admin, channel):
    with fake_provider() as provider:
        provider.answers = [(503, {})]
        ch = channel("api", outbound_url=provider.url)
        c = receive(admin, ch["id"], "a@example.fr")
        admin.post(
            f"/api/v1/conversations/{c['conversation_id']}/replies", json={"text": "Bonjour"}
        )
    message = admin.get(f"/api/v1/conversations/{c['conversation_id']}").json()["messages"][-1]
    assert message["status"] == "queued"


def test_it_replies_on_another_channel_where_the_customer_has_an_identity(admin, channel):
    sms, phone, email = channel("sms"), channel("phone", "Téléphone"), channel("email")
    c = receive(admin, sms["id"], "+33612345678", kind="phone")
    detail = admin.get(f"/api/v1/conversations/{c['conversation_id']}").json()
    assert phone["id"] in detail["reply_channel_ids"]
    assert email["id"] not in detail["reply_channel_ids"]
    logged = admin.post(
        f"/api/v1/conversations/{c['conversation_id']}/replies",
        json={"text": "Appel : remboursement confirmé", "channel_id": phone["id"]},
    )
    assert logged.status_code == 201, logged.text
    assert (logged.json()["channel_id"], logged.json()["status"]) == (phone["id"], "sent")


def test_it_refuses_a_reply_on_a_channel_that_cannot_send_yet(admin, channel):
    form = channel("web_form")  # a contact form answers by email, never on itself
    c = receive(admin, form["id"], "jeanne@example.fr")
    response = admin.post(
        f"/api/v1/conversations/{c['conversation_id']}/replies", json={"text": "Bonjour"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "channel_cannot_send"


def test_it_signs_replies_with_the_agents_first_name_on_chat_channels(admin, channel):
    with fake_provider() as provider:
        ch = channel("api", outbound_url=provider.url)
        c = receive(admin, ch["id"], "a@example.fr")
        reply = admin.post(
            f"/api/v1/conversations/{c['conversation_id']}/replies", json={"text": "C'est noté."}
        ).json()
    assert reply["text"] == "C'est noté.\nCamille"


def test_it_keeps_notes_internal(admin, channel):
    with fake_provider() as provider:
        ch = channel("api", outbound_url=provider.url)
        c = receive(admin, ch["id"], "a@example.fr")
        note = admin.post(
            f"/api/v1/conversations/{c['conversation_id']}/notes",
            json={"text": "Client fidèle, geste commercial possible"},
        )
        assert provider.received == []
    assert note.status_code == 201
    assert note.json()["direction"] == "note"
    detail = admin.get(f"/api/v1/conversations/{c['conversation_id']}").json()
    assert detail["first_response_at"] is None
    assert [m["direction"] for m in detail["messages"]] == ["inbound", "note"]


def test_it_publishes_its_openapi_description(client):
    spec = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/inbound",
        "/api/v1/conversations/{conversation_id}/replies",
        "/api/v1/customers/{customer_id}/merge",
        "/api/v1/channels",
    ):
        assert path in spec["paths"]
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()
    refused = spec["paths"]["/api/v1/inbound"]["post"]["responses"]["422"]
    assert refused["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")


def test_it_never_answers_in_public_once_the_conversation_went_private(admin, channel):
    with fake_provider() as provider:
        fb = channel("api", "Page", outbound_url=provider.url)
        dm = channel("api", "DM", outbound_url=provider.url)
        public = {"kind": "facebook", "visibility": "public", "thread_key": "post-9"}
        receive(admin, fb["id"], "fb-7", **public)
        receive(admin, dm["id"], "fb-7", kind="facebook", hours=1)
        c = receive(admin, fb["id"], "fb-7", hours=2, **public)["conversation_id"]
        assert admin.get(f"/api/v1/conversations/{c}").json()["visibility"] == "private"
        reply = admin.post(
            f"/api/v1/conversations/{c}/replies",
            json={"text": "Votre adresse est bien notée", "channel_id": fb["id"]},
        )
    assert reply.json()["visibility"] == "private"
    assert provider.received[0].json()["visibility"] == "private"


def test_it_answers_a_public_post_in_public(admin, channel):
    with fake_provider() as provider:
        fb = channel("api", "Page", outbound_url=provider.url)
        c = receive(admin, fb["id"], "fb-7", kind="facebook", visibility="public")
        reply = admin.post(
            f"/api/v1/conversations/{c['conversation_id']}/replies",
            json={"text": "Nous vous écrivons en privé."},
        )
    assert reply.json()["visibility"] == "public"


def test_it_keeps_a_sent_reply_sent_when_the_provider_reuses_an_id(admin, channel):
    with fake_provider() as provider:
        provider.answers = [(200, {"id": "in-1"})]
        ch = channel("api", outbound_url=provider.url)
        c = receive(admin, ch["id"], "a@example.fr", provider_message_id="in-1")
        admin.post(f"/api/v1/conversations/{c['conversation_id']}/replies", json={"text": "Ok"})
        sent = len(provider.received)
    outbound = admin.get(f"/api/v1/conversations/{c['conversation_id']}").json()["messages"][-1]
    assert (outbound["status"], outbound["provider_message_id"], sent) == ("sent", None, 1)


def test_it_fails_a_reply_answered_by_a_redirect(admin, channel):
    with fake_provider() as provider:
        provider.answers = [(302, {})]
        ch = channel("api", outbound_url=provider.url)
        c = receive(admin, ch["id"], "a@example.fr")
        admin.post(f"/api/v1/conversations/{c['conversation_id']}/replies", json={"text": "Ok"})
    outbound = admin.get(f"/api/v1/conversations/{c['conversation_id']}").json()["messages"][-1]
    assert outbound["status"] == "failed"
    assert "302" in outbound["error"]


def test_it_shows_channel_settings_to_admins_only_and_masks_credentials(
    admin, make_caller, channel
):
    created = channel(
        "api",
        outbound_url="https://user:pw@hooks.example/in?key=abc",
        outbound_secret="s3cret",
        nested={"api_key": "k"},
    )
    assert created["settings"] == {
        "outbound_url": "https://********@hooks.example/in?********",
        "outbound_secret": "********",
        "nested": {"api_key": "********"},
    }
    agent = make_caller("agent")
    assert agent.get("/api/v1/channels").json()["items"][0]["settings"] == {}
    assert admin.get("/api/v1/channels").json()["items"][0]["settings"] == created["settings"]
