"""Public posts: a complaint under a Facebook post is answered in public and continued in
private in one action; an abusive comment is hidden on the network; personal data never goes
out in public by mistake; a reply that failed can be sent again; admins connect the provider."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from fake_provider import FakeProvider, fake_provider
from filrouge.core.models import Event, Message

SECRET = "app-secret-for-tests"
PAGE = "101259571653026"
COMMENT = "253689226410059_1203847561234567"


@pytest.fixture
def graph() -> Iterator[FakeProvider]:
    with fake_provider() as provider:
        provider.routes = {
            f"/{COMMENT}/comments": [(200, {"id": "253689226410059_999"})],
            f"/{PAGE}/messages": [(200, {"recipient_id": "psid-1", "message_id": "m_private"})],
            f"/{COMMENT}": [(200, {"success": True})],
        }
        yield provider


@pytest.fixture
def page(channel: Any, graph: FakeProvider) -> dict[str, Any]:
    created: dict[str, Any] = channel(
        "facebook_comments",
        name="Page Maison Lumière",
        page_id=PAGE,
        app_secret=SECRET,
        verify_token="verify-me",
        access_token="page-token",
        api_base_url=graph.base,
    )
    return created


def comment_payload(text: str, comment_id: str = COMMENT) -> bytes:
    change = {
        "field": "feed",
        "value": {
            "from": {"id": "4471230983271209", "name": "Camille Besson"},
            "post_id": f"{PAGE}_253689226410059",
            "comment_id": comment_id,
            "parent_id": f"{PAGE}_253689226410059",
            "created_time": 1615420000,
            "item": "comment",
            "verb": "add",
            "message": text,
        },
    }
    envelope = {"object": "page", "entry": [{"id": PAGE, "time": 1615420002, "changes": [change]}]}
    return json.dumps(envelope).encode()


def post_comment(admin: Any, channel_id: int, body: bytes) -> dict[str, Any]:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = admin.client.post(
        f"/hooks/facebook_comments/{channel_id}",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert response.status_code == 200, response.text
    [conversation] = admin.get("/api/v1/conversations").json()["items"]
    return dict(conversation)


def messages_of(admin: Any, conversation_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = admin.get(f"/api/v1/conversations/{conversation_id}").json()[
        "messages"
    ]
    return found


def test_it_answers_in_public_and_continues_in_private_in_one_action(admin, page, graph):
    public = post_comment(admin, page["id"], comment_payload("Colis jamais reçu, scandaleux !"))
    assert public["visibility"] == "public"
    response = admin.post(
        f"/api/v1/conversations/{public['id']}/private-replies",
        json={
            "public_text": "Nous sommes désolés, nous vous écrivons en privé.",
            "text": "Pouvez-vous nous donner votre numéro de commande ?",
        },
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["public_reply"]["visibility"] == "public"
    assert answer["private_reply"]["visibility"] == "private"
    [public_call] = graph.calls(f"/{COMMENT}/comments")
    assert "désolés" in public_call.json()["message"]
    [private_call] = graph.calls(f"/{PAGE}/messages")
    assert private_call.json()["recipient"] == {"comment_id": COMMENT}
    assert "numéro de commande" in private_call.json()["message"]["text"]
    private_id = answer["private_conversation_id"]
    private = admin.get(f"/api/v1/conversations/{private_id}").json()
    assert private["visibility"] == "private"
    assert private["linked_conversation_id"] == public["id"]
    assert (
        admin.get(f"/api/v1/conversations/{public['id']}").json()["linked_conversation_id"]
        == private_id
    )
    statuses = {m["status"] for m in private["messages"]}
    assert statuses == {"sent"}


def test_it_holds_a_public_reply_that_shows_personal_data_until_confirmed(
    admin, page, graph, factory
):
    public = post_comment(admin, page["id"], comment_payload("Où est ma commande ?"))
    url = f"/api/v1/conversations/{public['id']}/replies"
    for text in (
        "Appelez-nous au 06 12 34 56 78",
        "Écrivez à sav@maison-lumiere.fr",
        "Votre commande ML-2026-004211 est partie",
        "Remboursé sur FR76 3000 6000 0112 3456 7890 189",
    ):
        held = admin.post(url, json={"text": text})
        assert held.status_code == 422, text
        assert held.json()["error"]["code"] == "personal_data_in_public"
    with factory() as session:
        outbound = session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "outbound")
        )
    assert outbound == 0
    assert graph.calls("/comments") == []
    sent = admin.post(
        url, json={"text": "Appelez le 06 12 34 56 78", "confirm_personal_data": True}
    )
    assert sent.status_code == 201
    assert sent.json()["visibility"] == "public"


def test_it_hides_an_abusive_comment_and_shows_it_again(admin, page, graph, factory):
    public = post_comment(admin, page["id"], comment_payload("Bande d'escrocs !!!"))
    [comment] = messages_of(admin, public["id"])
    url = f"/api/v1/conversations/{public['id']}/messages/{comment['id']}/hidden"
    hidden = admin.post(url, json={"hidden": True})
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["details"]["hidden"] is True
    shown = admin.post(url, json={"hidden": False})
    assert shown.json()["details"]["hidden"] is False
    assert [c.json() for c in graph.calls(f"/{COMMENT}")] == [
        {"is_hidden": True},
        {"is_hidden": False},
    ]
    with factory() as session:
        actions = list(
            session.scalars(
                select(Event.action).where(Event.action.like("message.%hidden")).order_by(Event.id)
            )
        )
    assert actions == ["message.hidden", "message.unhidden"]


def test_it_says_when_the_network_refuses_to_hide_and_changes_nothing(admin, page, graph):
    graph.routes[f"/{COMMENT}"] = [(400, {"error": {"message": "Unsupported post", "code": 100}})]
    public = post_comment(admin, page["id"], comment_payload("Nul"))
    [comment] = messages_of(admin, public["id"])
    url = f"/api/v1/conversations/{public['id']}/messages/{comment['id']}/hidden"
    refused = admin.post(url, json={"hidden": True})
    assert refused.status_code == 409
    assert "Unsupported post" in refused.json()["error"]["message"]
    [comment] = messages_of(admin, public["id"])
    assert not (comment["details"] or {}).get("hidden")


def test_a_contributor_may_not_hide_comments(admin, page, make_caller):
    public = post_comment(admin, page["id"], comment_payload("Nul"))
    [comment] = messages_of(admin, public["id"])
    contributor = make_caller("contributor")
    url = f"/api/v1/conversations/{public['id']}/messages/{comment['id']}/hidden"
    assert contributor.post(url, json={"hidden": True}).status_code == 403


def test_it_sends_a_failed_reply_again_from_the_conversation_page(admin, page, graph, make_browser):
    graph.routes[f"/{COMMENT}/comments"] = [
        (400, {"error": {"message": "Permissions error", "code": 200}}),
        (200, {"id": "253689226410059_1000"}),
    ]
    public = post_comment(admin, page["id"], comment_payload("Toujours rien reçu"))
    admin.post(f"/api/v1/conversations/{public['id']}/replies", json={"text": "Nous regardons."})
    failed = next(m for m in messages_of(admin, public["id"]) if m["direction"] == "outbound")
    assert failed["status"] == "failed"
    assert "Permissions error" in failed["error"]
    agent = make_browser("agent")
    page_html = agent.get(f"/conversations/{public['id']}").text
    assert f"/messages/{failed['id']}/retry" in page_html
    retried = agent.post(f"/conversations/{public['id']}/messages/{failed['id']}/retry")
    assert retried.status_code == 303
    sent = next(m for m in messages_of(admin, public["id"]) if m["id"] == failed["id"])
    assert (sent["status"], sent["error"]) == ("sent", None)
    again = admin.post(f"/api/v1/conversations/{public['id']}/messages/{failed['id']}/retry")
    assert again.status_code == 409


def test_the_page_offers_the_private_answer_and_hiding_on_a_public_post(admin, page, make_browser):
    public = post_comment(admin, page["id"], comment_payload("Colis abîmé"))
    agent = make_browser("agent")
    html = agent.get(f"/conversations/{public['id']}").text
    assert f"/conversations/{public['id']}/private-reply" in html
    assert "/hidden" in html
    moved = agent.post(
        f"/conversations/{public['id']}/private-reply",
        {"public_text": "Nous vous écrivons en privé.", "text": "Votre adresse ?"},
    )
    assert moved.status_code == 303
    private_page = agent.get(moved.headers["location"]).text
    assert f'href="/conversations/{public["id"]}"' in private_page


def test_an_admin_connects_a_provider_and_sees_the_webhook_url(admin, page, make_browser):
    browser = make_browser("admin", email="root@example.test")
    html = browser.get("/admin").text
    assert f"hooks/facebook_comments/{page['id']}" in html
    saved = browser.post(
        f"/admin/channels/{page['id']}/setup",
        {"page_id": "555", "access_token": "new-token", "app_secret": "", "verify_token": ""},
    )
    assert saved.status_code == 303, saved.text
    settings = admin.get(f"/api/v1/channels/{page['id']}").json()["settings"]
    assert settings["page_id"] == "555"
    assert settings["access_token"] == "********"
    assert settings["app_secret"] == "********"  # left empty: kept as it was


def test_a_revoked_page_token_flags_the_channel_for_admins(admin, page, graph, make_browser):
    graph.routes[f"/{COMMENT}/comments"] = [
        (400, {"error": {"message": "Error validating access token", "code": 190}})
    ]
    public = post_comment(admin, page["id"], comment_payload("Allô ?"))
    admin.post(f"/api/v1/conversations/{public['id']}/replies", json={"text": "Bonjour"})
    assert admin.get(f"/api/v1/channels/{page['id']}").json()["needs_reconnection"] is True
    browser = make_browser("admin", email="root@example.test")
    inbox = browser.get("/inbox").text
    assert "Le canal Page Maison Lumière doit être reconnecté" in inbox
    browser.post(f"/admin/channels/{page['id']}/setup", {"page_id": PAGE, "access_token": "fresh"})
    assert admin.get(f"/api/v1/channels/{page['id']}").json()["needs_reconnection"] is False


PSID = "2900000000000042"  # the commenter, as the page's Messenger knows them


def messenger_message(text: str, mid: str) -> bytes:
    """A Messenger text message from the commenter to the page, as Meta documents it."""
    event = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": mid, "text": text},
    }
    return json.dumps({"object": "page", "entry": [{"id": PAGE, "messaging": [event]}]}).encode()


def post_messenger(admin: Any, channel_id: int, body: bytes) -> None:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = admin.client.post(
        f"/hooks/messenger/{channel_id}",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert response.status_code == 200, response.text


def answer_in_private(admin: Any, public: dict[str, Any]) -> dict[str, Any]:
    response = admin.post(
        f"/api/v1/conversations/{public['id']}/private-replies",
        json={"public_text": "Nous vous écrivons en privé.", "text": "Votre numéro de commande ?"},
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def identities_of(admin: Any, customer_id: int) -> set[tuple[str, str]]:
    customer = admin.get(f"/api/v1/customers/{customer_id}").json()
    return {(i["kind"], i["value"]) for i in customer["identities"]}


def test_the_commenters_answer_in_messenger_lands_in_their_private_conversation(
    admin, page, graph, channel
):
    graph.routes[f"/{PAGE}/messages"] = [(200, {"recipient_id": PSID, "message_id": "m_priv-1"})]
    public = post_comment(admin, page["id"], comment_payload("Colis jamais reçu !"))
    private_id = answer_in_private(admin, public)["private_conversation_id"]
    assert ("messenger", PSID) in identities_of(admin, public["customer_id"])
    messenger = channel(
        "messenger",
        page_id=PAGE,
        app_secret=SECRET,
        verify_token="verify-me",
        access_token="page-token",
        api_base_url=graph.base,
    )
    post_messenger(admin, messenger["id"], messenger_message("C'est la 4512.", "m_answer-1"))
    private = admin.get(f"/api/v1/conversations/{private_id}").json()
    assert private["customer_id"] == public["customer_id"]
    answer = private["messages"][-1]
    assert (answer["direction"], answer["text"]) == ("inbound", "C'est la 4512.")
    assert private["channel_id"] == messenger["id"]  # the thread moved to Messenger
    assert len(admin.get("/api/v1/conversations").json()["items"]) == 2


def test_it_never_takes_a_messenger_id_from_another_customer(admin, page, graph, channel):
    messenger = channel(
        "messenger",
        page_id=PAGE,
        app_secret=SECRET,
        verify_token="verify-me",
        access_token="page-token",
        api_base_url=graph.base,
    )
    post_messenger(admin, messenger["id"], messenger_message("Bonjour", "m_earlier-1"))
    [earlier] = admin.get("/api/v1/conversations").json()["items"]
    graph.routes[f"/{PAGE}/messages"] = [(200, {"recipient_id": PSID, "message_id": "m_priv-1"})]
    body = comment_payload("Colis jamais reçu !")
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    admin.client.post(
        f"/hooks/facebook_comments/{page['id']}",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    public = next(
        c for c in admin.get("/api/v1/conversations").json()["items"] if c["id"] != earlier["id"]
    )
    answer_in_private(admin, public)
    assert ("messenger", PSID) not in identities_of(admin, public["customer_id"])
    assert ("messenger", PSID) in identities_of(admin, earlier["customer_id"])
