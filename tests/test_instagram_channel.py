"""Instagram: the shared Instagram webhooks (a real direct message, Meta's comment template)
and comments written from Meta's Webhooks reference, signed with the app secret, stored as
private messages and public comments; DM replies, public replies under a comment, private
replies to a comment and hiding a comment against a fake Graph API on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fake_provider import FakeProvider, fake_provider
from filrouge.channels.base import DeliveryError, OutboundMessage, Recipient, Sent
from filrouge.channels.registry import ADAPTERS
from filrouge.core.models.enums import Visibility
from filrouge.lib.timeutil import utcnow
from helpers import conversations, meta_signature, shared_data

APP_SECRET = "instagram-app-secret-for-tests"
VERIFY_TOKEN = "instagram-verify-token"
ACCOUNT_ID = "17841400538867190"  # the account of the captured direct message
TOKEN = "IGAA-instagram-token"
CUSTOMER = "1129842642640637"  # the customer of the captured direct message
MEDIA = "17990000000000001"
COMMENT = "17860000000000001"
OUR_REPLY = "17860000000000099"


def signed(body: bytes, secret: str = APP_SECRET) -> str:
    return meta_signature(body, secret)


def shared_payloads() -> Path:
    return shared_data("webhooks", "meta_instagram")


def envelope(entry: dict[str, Any], account_id: str = ACCOUNT_ID) -> bytes:
    full = {"id": account_id, "time": int(utcnow().timestamp() * 1000), **entry}
    return json.dumps({"object": "instagram", "entry": [full]}).encode()


def comment(
    comment_id: str = COMMENT,
    media: str = MEDIA,
    text: str = "Toujours pas reçu ma commande !",
    author: tuple[str, str] = (CUSTOMER, "claire.voyante"),
    **extra: Any,
) -> bytes:
    """A ``comments`` change as Meta's Webhooks reference shows it."""
    value = {
        "id": comment_id,
        "from": {"id": author[0], "username": author[1]},
        "text": text,
        "media": {"id": media, "media_product_type": "FEED"},
        **extra,
    }
    return envelope({"changes": [{"field": "comments", "value": value}]})


def direct_message(text: str, mid: str, age: timedelta = timedelta(minutes=5)) -> bytes:
    event = {
        "sender": {"id": CUSTOMER},
        "recipient": {"id": ACCOUNT_ID},
        "timestamp": int((utcnow() - age).timestamp() * 1000),
        "message": {"mid": mid, "text": text},
    }
    return envelope({"messaging": [event]})


@pytest.fixture
def graph() -> Iterator[FakeProvider]:
    with fake_provider() as provider:
        provider.answers = [(200, {"recipient_id": CUSTOMER, "message_id": "aWdfZAG1f-sent-1"})]
        yield provider


def account_settings(graph: FakeProvider, **overrides: Any) -> dict[str, Any]:
    return {
        "instagram_account_id": ACCOUNT_ID,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "access_token": TOKEN,
        "api_base_url": graph.base,
        **overrides,
    }


@pytest.fixture
def instagram(channel: Any, graph: FakeProvider) -> Any:
    def make(**overrides: Any) -> dict[str, Any]:
        return channel("instagram", **account_settings(graph, **overrides))

    return make


def post(admin: Any, channel_id: int, body: bytes, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature != "":
        headers["X-Hub-Signature-256"] = signature or signed(body)
    return admin.client.post(f"/hooks/instagram/{channel_id}", content=body, headers=headers)


def deliveries(admin: Any, channel_id: int) -> list[dict[str, Any]]:
    url = f"/api/v1/channels/{channel_id}/webhook-deliveries?limit=100"
    found: list[dict[str, Any]] = admin.get(url).json()["items"]
    return sorted(found, key=lambda d: d["id"])


def messages(admin: Any) -> list[dict[str, Any]]:
    found = []
    for conversation in conversations(admin):
        found += admin.get(f"/api/v1/conversations/{conversation['id']}").json()["messages"]
    return sorted(found, key=lambda m: m["id"])


def reply(admin: Any, text: str) -> dict[str, Any]:
    [conversation] = conversations(admin)
    answer = admin.post(f"/api/v1/conversations/{conversation['id']}/replies", json={"text": text})
    assert answer.status_code == 201, answer.text
    return next(m for m in messages(admin) if m["id"] == answer.json()["id"])


def test_it_has_a_test_for_every_shared_instagram_payload():
    assert sorted(p.name for p in shared_payloads().rglob("*.json")) == [
        "captured_dm_text.json",
        "docs_template_comment.json",
    ]


def test_it_stores_the_captured_direct_message_from_the_igsid(admin, instagram):
    ch = instagram()
    response = post(admin, ch["id"], (shared_payloads() / "captured_dm_text.json").read_bytes())
    assert response.status_code == 200, response.text
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["outcome"] == "processed"
    [message] = messages(admin)
    assert message["text"] == "Oi"
    assert message["visibility"] == "private"
    assert message["provider_message_id"].startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZA")
    [conversation] = conversations(admin)
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    [identity] = customer["identities"]
    assert (identity["kind"], identity["value"], identity["verified"]) == (
        "instagram",
        CUSTOMER,
        False,
    )


def test_it_stores_metas_comment_template_as_a_public_comment_with_the_handle(admin, instagram):
    # The documented template names its account with a placeholder: so does this channel.
    ch = instagram(instagram_account_id="<YOUR_APP_USERS_INSTAGRAM_ACCOUNT_ID>")
    # The file is a list of deliveries, as Meta's reference shows them: each is posted.
    for delivery in json.loads((shared_payloads() / "docs_template_comment.json").read_bytes()):
        assert post(admin, ch["id"], json.dumps(delivery).encode()).status_code == 200
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["outcome"] == "processed"
    [message] = messages(admin)
    assert (message["provider_message_id"], message["text"]) == ("<COMMENT_ID>", "<COMMENT_TEXT>")
    assert message["visibility"] == "public"
    assert message["details"] == {
        "comment_id": "<COMMENT_ID>",
        "media_id": "<MEDIA_ID>",
        "media_product_type": "<MEDIA_PRODUCT_TYPE>",
    }
    [conversation] = conversations(admin)
    assert conversation["visibility"] == "public"
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    [identity] = customer["identities"]
    # Filrouge keeps Instagram identities in lower case (IGSIDs are digits in real life).
    assert (identity["kind"], identity["value"]) == ("instagram", "<instagram_scoped_user_id>")
    assert identity["display_name"] == "<USERNAME>"
    assert identity["attributes"]["handle"] == "@<USERNAME>"


def test_it_keeps_comments_on_one_post_together_with_the_comment_they_answer(admin, instagram):
    ch = instagram()
    post(admin, ch["id"], comment())
    post(admin, ch["id"], comment("17860000000000002", text="Allô ?", parent_id=COMMENT))
    assert len(conversations(admin)) == 1
    first, second = messages(admin)
    assert (first["text"], second["text"]) == ("Toujours pas reçu ma commande !", "Allô ?")
    assert "parent_comment_id" not in first["details"]
    assert second["details"]["parent_comment_id"] == COMMENT
    assert {first["details"]["media_id"], second["details"]["media_id"]} == {MEDIA}


def test_it_does_not_take_the_accounts_own_comment_or_echo_for_a_customer(admin, instagram):
    ch = instagram()
    post(admin, ch["id"], comment(OUR_REPLY, author=(ACCOUNT_ID, "notre_marque")))
    echo = {
        "sender": {"id": ACCOUNT_ID},
        "recipient": {"id": CUSTOMER},
        "timestamp": 1762020315339,
        "message": {"mid": "aWdfZAG1f-echo", "text": "Merci !", "is_echo": True},
    }
    post(admin, ch["id"], envelope({"messaging": [echo]}))
    kinds = [d["summary"]["unsupported"][0]["event_type"] for d in deliveries(admin, ch["id"])]
    assert kinds == ["echo", "echo"]
    assert conversations(admin) == []


def test_it_stores_an_entry_for_another_account_as_unknown(admin, instagram):
    ch = instagram(instagram_account_id="17841499999999999")
    post(admin, ch["id"], (shared_payloads() / "captured_dm_text.json").read_bytes())
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["outcome"] == "unsupported"
    assert delivery["summary"]["unsupported"][0]["event_type"] == "unknown_account"
    assert conversations(admin) == []


def test_it_says_which_changes_it_does_not_handle(admin, instagram):
    ch = instagram()
    mention = {"field": "mentions", "value": {"media_id": MEDIA, "comment_id": COMMENT}}
    post(admin, ch["id"], envelope({"changes": [mention]}))
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["summary"]["unsupported"][0]["event_type"] == "changes:mentions"


def test_it_refuses_a_delivery_not_signed_with_the_app_secret_and_stores_nothing(admin, instagram):
    ch = instagram()
    body = (shared_payloads() / "captured_dm_text.json").read_bytes()
    for signature in ("", signed(body, "another-secret")):
        response = post(admin, ch["id"], body, signature)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
    assert deliveries(admin, ch["id"]) == []


def test_it_answers_metas_subscription_handshake(admin, instagram):
    ch = instagram()
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
    answer = admin.client.get(f"/hooks/instagram/{ch['id']}", params=query)
    assert (answer.status_code, answer.text) == (200, "42")


def test_it_stores_a_redelivered_comment_once(admin, instagram):
    ch = instagram()
    body = comment()
    assert post(admin, ch["id"], body).json()["duplicate"] is False
    assert post(admin, ch["id"], body).json()["duplicate"] is True
    post(admin, ch["id"], comment())  # the same comment, notified again at another time
    assert len(messages(admin)) == 1


def test_it_answers_a_comment_publicly_under_it(admin, instagram, graph):
    graph.answers = [(200, {"id": OUR_REPLY})]
    ch = instagram()
    post(admin, ch["id"], comment())
    sent = reply(admin, "Nous sommes désolés, nous vous écrivons en message privé.")
    assert (sent["status"], sent["visibility"]) == ("sent", "public")
    assert sent["provider_message_id"] == OUR_REPLY
    [call] = graph.calls(f"/v21.0/{COMMENT}/replies")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.json()["message"].startswith("Nous sommes désolés")


def test_it_replies_to_a_direct_message_by_the_send_api(admin, instagram, graph):
    ch = instagram()
    post(admin, ch["id"], direct_message("Bonjour, ma taille ?", "aWdfZAG1f-customer-1"))
    sent = reply(admin, "Bonjour, le modèle taille grand.")
    assert (sent["status"], sent["provider_message_id"]) == ("sent", "aWdfZAG1f-sent-1")
    [call] = graph.calls("/v21.0/me/messages")
    body = call.json()
    assert body["recipient"] == {"id": CUSTOMER}
    assert body["messaging_type"] == "RESPONSE"
    assert body["message"]["text"].startswith("Bonjour, le modèle taille grand.")


def test_it_tags_a_direct_message_after_24_hours_and_refuses_after_7_days(graph):
    adapter = ADAPTERS["instagram"]
    settings = account_settings(graph)
    assert adapter.send(outbound(settings, age=timedelta(days=2))) == "aWdfZAG1f-sent-1"
    [call] = graph.calls("/v21.0/me/messages")
    assert (call.json()["messaging_type"], call.json()["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    with pytest.raises(DeliveryError) as refused:
        adapter.send(outbound(settings, age=timedelta(days=8)))
    assert refused.value.permanent
    assert "7 days" in str(refused.value)


def test_it_sends_a_long_direct_message_in_parts_of_at_most_1000_bytes(graph):
    text = ("Délai de livraison prévu : quelques jours ouvrés. " * 40).strip()
    assert ADAPTERS["instagram"].send(outbound(account_settings(graph), text=text))
    parts = [c.json()["message"]["text"] for c in graph.calls("/v21.0/me/messages")]
    assert len(parts) == 3
    assert all(len(p.encode()) <= 1000 for p in parts)
    assert " ".join(parts) == text


def test_it_marks_a_direct_message_read_when_instagram_says_so(admin, instagram):
    ch = instagram()
    post(admin, ch["id"], direct_message("Bonjour", "aWdfZAG1f-customer-1"))
    assert reply(admin, "Bonjour !")["status"] == "sent"
    read = {
        "sender": {"id": CUSTOMER},
        "recipient": {"id": ACCOUNT_ID},
        "timestamp": int(utcnow().timestamp() * 1000),
        "read": {"mid": "aWdfZAG1f-sent-1"},
    }
    post(admin, ch["id"], envelope({"messaging": [read]}))
    sent = next(m for m in messages(admin) if m["direction"] == "outbound")
    assert sent["status"] == "read"


def test_it_sends_a_private_reply_to_a_comment_in_the_authors_inbox(graph):
    settings = account_settings(graph)
    private = outbound(settings, options={"private_reply_to": COMMENT}, age=timedelta(days=3))
    assert ADAPTERS["instagram"].send(private) == Sent(
        "aWdfZAG1f-sent-1", Recipient("instagram", CUSTOMER)
    )
    [call] = graph.calls("/v21.0/me/messages")
    assert call.json() == {
        "recipient": {"comment_id": COMMENT},
        "message": {"text": "Bonjour, pouvez-vous nous donner votre numéro de commande ?"},
    }
    assert ADAPTERS["instagram"].private_replies


def test_it_refuses_a_file_in_a_public_reply_before_calling_instagram(graph):
    from filrouge.channels.base import IncomingAttachment

    photo = IncomingAttachment("photo.png", "image/png", content=b"\x89PNG")
    public = outbound(
        account_settings(graph),
        visibility=Visibility.PUBLIC,
        in_reply_to=COMMENT,
        attachments=(photo,),
    )
    with pytest.raises(DeliveryError) as refused:
        ADAPTERS["instagram"].send(public)
    assert refused.value.permanent
    assert "text only" in str(refused.value)
    assert graph.received == []


def test_it_hides_and_shows_again_a_comment(graph):
    graph.answers = [(200, {"success": True})]
    adapter = ADAPTERS["instagram"]
    assert adapter.hides_comments
    adapter.set_hidden(account_settings(graph), COMMENT, True)
    adapter.set_hidden(account_settings(graph), COMMENT, False)
    assert [c.json() for c in graph.calls(f"/v21.0/{COMMENT}")] == [
        {"hide": True},
        {"hide": False},
    ]


def test_it_says_so_when_instagram_will_not_hide_a_comment(graph):
    refusal = {
        "error": {
            "message": "Unsupported post request.",
            "type": "GraphMethodException",
            "code": 100,
        }
    }
    graph.answers = [(400, refusal)]
    with pytest.raises(DeliveryError) as refused:
        ADAPTERS["instagram"].set_hidden(account_settings(graph), COMMENT, True)
    assert refused.value.permanent
    assert "Unsupported post request" in str(refused.value)


def test_it_flags_the_channel_when_instagram_refuses_the_token(admin, instagram, graph):
    refusal = {
        "error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
    }
    graph.answers = [(400, refusal)]
    ch = instagram()
    post(admin, ch["id"], comment())
    sent = reply(admin, "Nous regardons.")
    assert sent["status"] == "failed"
    assert "Invalid OAuth access token" in sent["error"]
    assert admin.get(f"/api/v1/channels/{ch['id']}").json()["needs_reconnection"] is True


def outbound(
    settings: dict[str, Any], age: timedelta = timedelta(minutes=5), **overrides: Any
) -> OutboundMessage:
    fields: dict[str, Any] = {
        "message_id": 1,
        "conversation_id": 1,
        "channel_settings": settings,
        "recipient": Recipient("instagram", CUSTOMER),
        "text": "Bonjour, pouvez-vous nous donner votre numéro de commande ?",
        "html": None,
        "visibility": Visibility.PRIVATE,
        "customer_last_message_at": utcnow() - age,
        **overrides,
    }
    return OutboundMessage(**fields)
