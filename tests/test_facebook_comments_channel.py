"""Facebook page comments: the page's ``feed`` webhooks (the two real captures, and comment
payloads written from Meta's Webhooks reference) signed with the app secret and stored as
public messages; replies under the comment, private replies in Messenger and hiding a comment,
against a fake Graph API on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import filrouge.channels.facebook_comments as facebook_comments
from fake_provider import FakeProvider, fake_provider
from filrouge.channels.base import DeliveryError, OutboundMessage, Recipient, Sent
from filrouge.channels.registry import ADAPTERS
from filrouge.core.models.enums import Visibility
from filrouge.jobs.deliveries import deliver
from helpers import conversations, meta_signature, shared_data, thread

APP_SECRET = "app-secret-for-the-tests"
VERIFY_TOKEN = "verify-token-for-the-tests"
PAGE_ID = "101259571653026"
TOKEN = "EAAB-page-token"
POST = f"{PAGE_ID}_253689226410059"
COMMENT = "253689226410059_1203847561234567"
OUR_REPLY = "253689226410059_1203847561288888"
VISITOR_POST = f"{PAGE_ID}_298765432100123"
FIXTURES = Path(facebook_comments.__file__).parent / "fixtures"


def signed(body: bytes, secret: str = APP_SECRET) -> str:
    return meta_signature(body, secret)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def graph() -> Iterator[FakeProvider]:
    with fake_provider() as provider:
        provider.answers = [(200, {"id": OUR_REPLY})]
        yield provider


def page_settings(graph: FakeProvider, **overrides: Any) -> dict[str, Any]:
    return {
        "page_id": PAGE_ID,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "access_token": TOKEN,
        "api_base_url": graph.base,
        **overrides,
    }


@pytest.fixture
def facebook(channel: Any, graph: FakeProvider) -> Any:
    def make(**overrides: Any) -> dict[str, Any]:
        return channel("facebook_comments", **page_settings(graph, **overrides))

    return make


def post_feed(admin: Any, channel_id: int, body: bytes, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature != "":
        headers["X-Hub-Signature-256"] = signature or signed(body)
    return admin.client.post(
        f"/hooks/facebook_comments/{channel_id}", content=body, headers=headers
    )


def deliveries(admin: Any, channel_id: int) -> list[dict[str, Any]]:
    url = f"/api/v1/channels/{channel_id}/webhook-deliveries?limit=100"
    found: list[dict[str, Any]] = admin.get(url).json()["items"]
    return sorted(found, key=lambda d: d["id"])


def only_thread(admin: Any) -> list[dict[str, Any]]:
    [conversation] = conversations(admin)
    return thread(admin, conversation["id"])


def reply(admin: Any, text: str, **extra: Any) -> dict[str, Any]:
    [conversation] = conversations(admin)
    url = f"/api/v1/conversations/{conversation['id']}/replies"
    response = admin.post(url, json={"text": text, **extra})
    assert response.status_code == 201, response.text
    reply_id = response.json()["id"]
    return next(m for m in thread(admin, conversation["id"]) if m["id"] == reply_id)


def outbound(graph: FakeProvider, text: str, **options: Any) -> OutboundMessage:
    return OutboundMessage(
        message_id=1,
        conversation_id=1,
        channel_settings=page_settings(graph),
        recipient=Recipient("facebook", "4471230983271209", "Camille Besson"),
        text=text,
        html=None,
        visibility=Visibility.PUBLIC,
        in_reply_to=COMMENT,
        options=options,
    )


def test_it_keeps_the_pages_own_posts_of_the_real_captures_out_of_the_inbox(admin, facebook):
    ch = facebook()
    captures = sorted(shared_data("webhooks", "meta_page_feed").glob("*.json"))
    assert len(captures) == 2
    for path in captures:
        response = post_feed(admin, ch["id"], path.read_bytes())
        assert response.status_code == 200, (path.name, response.text)
        assert response.json()["received"] is True
    for kept in deliveries(admin, ch["id"]):
        assert kept["outcome"] == "unsupported"
        [part] = kept["summary"]["unsupported"]
        assert part["event_type"] == "page_post"
        assert "status" in part["reason"]
    assert conversations(admin) == []


EXPECTED = {
    "feed__comment_add.json": ("processed", None),
    "feed__comment_add_by_page.json": ("unsupported", "echo"),
    "feed__comment_edited.json": ("processed", None),
    "feed__comment_reply_add.json": ("processed", None),
    "feed__comment_hide.json": ("unsupported", "comment"),
    "feed__comment_remove.json": ("unsupported", "comment"),
    "feed__post_add_by_visitor.json": ("processed", None),
    "feed__reaction_add.json": ("unsupported", "reaction"),
}


def test_it_reads_every_documented_feed_payload_the_way_it_should(admin, facebook):
    ch = facebook()
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(EXPECTED)
    for name in EXPECTED:
        assert post_feed(admin, ch["id"], fixture(name)).status_code == 200, name
    for name, kept in zip(EXPECTED, deliveries(admin, ch["id"]), strict=True):
        outcome, event_type = EXPECTED[name]
        assert kept["outcome"] == outcome, (name, kept)
        if event_type is None:
            assert kept["summary"]["messages"] == 1, (name, kept)
        else:
            [part] = kept["summary"]["unsupported"]
            assert part["event_type"] == event_type, (name, part)
    reasons = {d["summary"]["unsupported"][0]["reason"] for d in deliveries(admin, ch["id"])[4:6]}
    assert any("'hide'" in r for r in reasons)
    assert any("'remove'" in r for r in reasons)
    by_author = {c["customer_id"]: thread(admin, c["id"]) for c in conversations(admin)}
    assert sorted(len(messages) for messages in by_author.values()) == [1, 3]


def test_it_stores_a_comment_as_a_public_message_from_the_facebook_user(admin, facebook):
    ch = facebook()
    post_feed(admin, ch["id"], fixture("feed__comment_add.json"))
    [conversation] = conversations(admin)
    assert conversation["visibility"] == "public"
    [message] = thread(admin, conversation["id"])
    assert message["visibility"] == "public"
    assert message["provider_message_id"] == COMMENT
    assert message["text"].startswith("Commande 4411 jamais reçue")
    assert message["details"]["post_id"] == POST
    assert message["details"]["parent_id"] == POST
    assert message["details"]["post_url"].endswith("/posts/253689226410059")
    [photo] = message["attachments"]
    assert photo["content_type"] == "image/jpeg"
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    assert customer["name"] == "Camille Besson"
    [identity] = customer["identities"]
    assert (identity["kind"], identity["value"]) == ("facebook", "4471230983271209")


def test_it_keeps_an_edited_comment_as_a_new_message_in_the_same_thread(admin, facebook):
    ch = facebook()
    post_feed(admin, ch["id"], fixture("feed__comment_add.json"))
    post_feed(admin, ch["id"], fixture("feed__comment_edited.json"))
    first, edit = only_thread(admin)
    assert first["provider_message_id"] == COMMENT
    assert edit["provider_message_id"] == f"{COMMENT}:edited:1615420300"
    assert edit["details"]["edited"] is True
    assert "commandée le 2 mars" in edit["text"]


def test_it_replies_under_the_comment_and_threads_the_answer_to_our_reply(admin, facebook, graph):
    ch = facebook()
    post_feed(admin, ch["id"], fixture("feed__comment_add.json"))
    sent = reply(admin, "Bonjour Camille, nous regardons tout de suite.")
    assert (sent["status"], sent["provider_message_id"]) == ("sent", OUR_REPLY)
    assert sent["visibility"] == "public"
    [call] = graph.calls(f"/v21.0/{COMMENT}/comments")
    assert call.method == "POST"
    assert call.json()["message"].startswith("Bonjour Camille, nous regardons")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    post_feed(admin, ch["id"], fixture("feed__comment_reply_add.json"))
    messages = sorted(only_thread(admin), key=lambda m: m["id"])  # Meta's times are of 2021
    assert [m["direction"] for m in messages] == ["inbound", "outbound", "inbound"]
    assert messages[2]["details"]["parent_id"] == OUR_REPLY


def test_it_answers_a_visitors_wall_post_under_that_post(admin, facebook, graph):
    ch = facebook()
    post_feed(admin, ch["id"], fixture("feed__post_add_by_visitor.json"))
    [message] = only_thread(admin)
    assert (message["provider_message_id"], message["visibility"]) == (VISITOR_POST, "public")
    assert reply(admin, "Bonjour Julien, nous vérifions le remboursement.")["status"] == "sent"
    [call] = graph.calls(f"/v21.0/{VISITOR_POST}/comments")
    assert "remboursement" in call.json()["message"]


def test_it_refuses_to_send_files_in_a_public_reply_and_says_why(admin, facebook, graph):
    ch = facebook()
    post_feed(admin, ch["id"], fixture("feed__comment_add.json"))
    attachment = {"filename": "bon.png", "content_type": "image/png", "content_base64": PNG}
    failed = reply(admin, "Voici le bon de retour.", attachments=[attachment])
    assert failed["status"] == "failed"
    assert "files cannot be sent" in failed["error"]
    assert graph.received == []


def test_it_sends_a_private_reply_in_messenger_to_the_comments_author(graph):
    graph.answers = [(200, {"recipient_id": "7400123", "message_id": "m_private-1"})]
    adapter = ADAPTERS["facebook_comments"]
    assert adapter.private_replies is True
    message = outbound(graph, "Pouvez-vous nous donner votre adresse ?", private_reply_to=COMMENT)
    assert adapter.send(message) == Sent("m_private-1", Recipient("messenger", "7400123"))
    [call] = graph.calls(f"/v21.0/{PAGE_ID}/messages")
    assert call.json() == {
        "recipient": {"comment_id": COMMENT},
        "message": {"text": "Pouvez-vous nous donner votre adresse ?"},
    }


def test_it_says_clearly_that_a_comment_takes_only_one_private_reply(graph):
    refusal = {"message": "(#10900) Activity already replied to", "code": 10900}
    graph.answers = [(400, {"error": {**refusal, "type": "OAuthException", "fbtrace_id": "A1"}})]
    message = outbound(graph, "Encore un message privé", private_reply_to=COMMENT)
    with pytest.raises(DeliveryError) as refused:
        ADAPTERS["facebook_comments"].send(message)
    assert refused.value.permanent is True
    assert "one private reply per comment, within 7 days" in str(refused.value)
    assert "Activity already replied to" in str(refused.value)


def test_it_never_posts_a_private_reply_as_a_public_comment(graph):
    public = outbound(graph, "Votre adresse est bien 3 rue Haute ?")
    message = replace(public, visibility=Visibility.PRIVATE)
    with pytest.raises(DeliveryError) as refused:
        ADAPTERS["facebook_comments"].send(message)
    assert refused.value.permanent is True
    assert "would show it to everyone" in str(refused.value)
    assert graph.received == []


def test_it_hides_a_comment_and_shows_it_again(admin, facebook, graph):
    graph.answers = [(200, {"success": True})]
    ch = facebook()
    post_feed(admin, ch["id"], fixture("feed__comment_add.json"))
    post_feed(admin, ch["id"], fixture("feed__comment_edited.json"))
    comment, edit = (m["provider_message_id"] for m in only_thread(admin))
    adapter = ADAPTERS["facebook_comments"]
    assert adapter.hides_comments is True
    adapter.set_hidden(page_settings(graph), comment, True)
    adapter.set_hidden(page_settings(graph), edit, False)
    calls = graph.calls(f"/v21.0/{COMMENT}")
    assert [(c.method, c.json()) for c in calls] == [
        ("POST", {"is_hidden": True}),
        ("POST", {"is_hidden": False}),
    ]


def test_it_flags_the_channel_when_facebook_revokes_the_page_token(admin, facebook, graph):
    expired = {
        "message": "Error validating access token: the session was invalidated.",
        "code": 190,
    }
    graph.answers = [(400, {"error": {**expired, "type": "OAuthException", "error_subcode": 460}})]
    ch = facebook()
    post_feed(admin, ch["id"], fixture("feed__comment_add.json"))
    failed = reply(admin, "Bonjour")
    assert failed["status"] == "failed"
    assert "Error validating access token" in failed["error"]
    shown = admin.get(f"/api/v1/channels/{ch['id']}").json()
    assert shown["needs_reconnection"] is True


def test_it_tries_again_when_facebook_limits_the_page(admin, facebook, graph):
    limited = {"message": "(#613) Calls to this api have exceeded the rate limit.", "code": 613}
    graph.answers = [(400, {"error": {**limited, "type": "OAuthException"}}), (200, {"id": "c-2"})]
    ch = facebook()
    post_feed(admin, ch["id"], fixture("feed__comment_add.json"))
    queued = reply(admin, "Bonjour")
    assert queued["status"] == "queued"
    assert "rate limit" in queued["error"]
    deliver.call_local(queued["id"], 2)
    sent = next(m for m in only_thread(admin) if m["id"] == queued["id"])
    assert (sent["status"], sent["provider_message_id"]) == ("sent", "c-2")


def test_it_answers_metas_subscription_handshake_with_the_verify_token(admin, facebook):
    ch = facebook()
    url = f"/hooks/facebook_comments/{ch['id']}"
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    good = admin.client.get(url, params={**query, "hub.verify_token": VERIFY_TOKEN})
    assert (good.status_code, good.text) == (200, "1158201444")
    wrong = admin.client.get(url, params={**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403


def test_it_checks_signatures_against_metas_published_test_vector(admin, facebook):
    vector_dir = shared_data("webhooks", "whatsapp_cloud", "pywa_signed_example")
    vector = json.loads((vector_dir / "signature.json").read_text())
    body = (vector_dir / "raw_body.json").read_bytes()
    ch = facebook(app_secret=vector["app_secret"])
    tampered = post_feed(admin, ch["id"], body + b" ", vector["x_hub_signature_256"])
    assert tampered.status_code == 401
    accepted = post_feed(admin, ch["id"], body, vector["x_hub_signature_256"])
    assert accepted.status_code == 200
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unsupported"
    assert kept["summary"]["unsupported"][0]["event_type"] == "object:whatsapp_business_account"


def test_it_refuses_an_unsigned_or_wrongly_signed_delivery_and_stores_nothing(admin, facebook):
    ch = facebook()
    body = fixture("feed__comment_add.json")
    for signature in ("", signed(body, "another-secret"), "sha1=0d814d436b45c33ef664a3"):
        response = post_feed(admin, ch["id"], body, signature)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
    assert deliveries(admin, ch["id"]) == []
    assert conversations(admin) == []


def test_it_keeps_a_delivery_for_another_page_as_unknown_page(admin, facebook):
    ch = facebook(page_id="999000111222333")
    post_feed(admin, ch["id"], fixture("feed__comment_add.json"))
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unsupported"
    assert kept["summary"]["unsupported"][0]["event_type"] == "unknown_page"
    assert conversations(admin) == []


def test_it_stores_a_redelivered_comment_once(admin, facebook):
    ch = facebook()
    body = fixture("feed__comment_add.json")
    assert post_feed(admin, ch["id"], body).json()["duplicate"] is False
    assert post_feed(admin, ch["id"], body).json()["duplicate"] is True
    reformatted = json.dumps(json.loads(body)).encode()  # same comment, other bytes
    assert post_feed(admin, ch["id"], reformatted).json()["duplicate"] is False
    assert len(only_thread(admin)) == 1


def test_it_keeps_truncated_json_as_unreadable_and_says_so(admin, facebook):
    ch = facebook()
    response = post_feed(admin, ch["id"], b'{"object": "page", "entry": [{"id": "1011')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unreadable"
    assert "not JSON" in kept["summary"]["error"]


PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Erk"
    "Jggg=="
)
