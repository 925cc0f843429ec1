"""WhatsApp Cloud API: every update of pywa's collected examples, and one real signed capture,
is posted through the webhook signed Meta's way and stored as it should be; replies leave by a
fake Graph API on 127.0.0.1, and WhatsApp's receipts for them come back by webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fake_provider import FakeProvider, fake_provider
from filrouge.channels.base import DeliveryError, OutboundMessage, Recipient
from filrouge.channels.whatsapp.adapter import WhatsAppAdapter
from filrouge.core.models import EarlyReceipt
from filrouge.core.models.enums import Visibility
from filrouge.lib.timeutil import utcnow
from helpers import conversations, meta_signature, shared_data, thread

APP_SECRET = "whatsapp-app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
TOKEN = "EAAG-test-access-token"
PHONE_ID = "1122334455667"
MEDIA_BYTES = b"\xff\xd8\xff\xe0 whatsapp media bytes"
SENT = {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OURS-1"}]}

# What each of pywa's examples must become: a message (words it shows, type of its file), a
# receipt (the status it carries), or an update kept as unsupported (its event type).
MESSAGES: dict[str, tuple[str, str | None]] = {
    "callback_button__button": ("title", None),
    "callback_button__quick_reply": ("title", None),
    "callback_button__quick_reply_without_context": ("title", None),
    "callback_selection__callback": ("title", None),
    "callback_selection__description": ("title\ndescription", None),
    "deleted_message__revoke": ("message deleted", None),
    "edited_message__image": ("Updated image caption", "image/jpeg"),
    "flow_completion__completion": ("comment_text: Comment Text", None),
    "flow_completion__without_flow_token": ("delivery_rating: 4", None),
    "message__animated_sticker": ("", "image/webp"),
    "message__audio": ("", "audio/ogg"),
    "message__chosen_location": ("Facebook HQ\n1 Hacker Way, Menlo Park", None),
    "message__contacts": ("👤 Chandler Bing +1 555-555-5555", None),
    "message__current_location": ("📍 12.25089, 43.90539", None),
    "message__document": ("caption", "application/pdf"),
    "message__forwarded": ("forwarded text", None),
    "message__forwarded_many_times": ("text forwarded many times", None),
    "message__image": ("", "image/jpeg"),
    "message__interactive_message_with_err": ("Unsupported webhook payload", None),
    "message__media_with_url": ("", "image/jpeg"),
    "message__order": ("🛒 3 × HAMBURGER — 30 ILS", None),
    "message__reaction": ("😮", None),
    "message__referral": ("BODY", None),
    "message__reply": ("replied text", None),
    "message__static_sticker": ("", "image/webp"),
    "message__text": ("Body Text", None),
    "message__unreaction_empty": ("reaction removed", None),
    "message__unreaction_no_emoji": ("reaction removed", None),
    "message__unsupported": ("Message type is currently not supported", None),
    "message__unsupported_with_type": ("[pool]", None),
    "message__video": ("caption", "video/mp4"),
    "message__voice": ("", "audio/ogg"),
    "system__identity_change": ("User identity changed", None),
    "system__phone_number_change": ("changed from 972987654321 to 972912345678", None),
}
STATUSES = {
    "message_status__sent": "sent",
    "message_status__delivered": "delivered",
    "message_status__read": "read",
    "message_status__played": "read",
    "message_status__failed": "failed",
    "message_status__with_tracker": "sent",
    "message_status__group": "read",
}
UNSUPPORTED_BY_PREFIX = {
    "account_update__": "account_update",
    "call_connect__": "calls",
    "call_status__": "calls",
    "call_terminate__": "calls",
    "call_permission_update__": "call_permission_reply",
    "outgoing_message__": "echo",
    "template_category_update__": "template_category_update",
    "template_components_update__": "message_template_components_update",
    "template_quality_update__": "message_template_quality_update",
    "template_status_update__": "message_template_status_update",
    "user_marketing_preferences__": "user_preferences",
}


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return meta_signature(body, secret)


def whatsapp_data(*parts: str) -> Path:
    return shared_data("webhooks", "whatsapp_cloud", *parts)


def examples(source: str) -> list[tuple[str, bytes]]:
    """(name, body) of every example: the split files as they are, or each entry of the
    collected files (``message.json`` holds ``text``, ``image``…)."""
    if source == "split":
        split = sorted(whatsapp_data("pywa", "split").glob("*.json"))
        return [(path.stem, path.read_bytes()) for path in split]
    found = []
    for path in sorted(whatsapp_data("pywa").glob("*.json")):
        for key, body in json.loads(path.read_bytes()).items():
            found.append((f"{path.stem}__{key}", json.dumps(body).encode()))
    return found


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(whatsapp_data("pywa", "split", f"{name}.json").read_bytes())
    return loaded


def first_value(body: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = body["entry"][0]["changes"][0]["value"]
    return value


def phone_number_id_of(body: bytes) -> str:
    metadata = first_value(json.loads(body)).get("metadata") or {}
    return str(metadata.get("phone_number_id") or PHONE_ID)


def post_hook(admin: Any, channel_id: int, body: bytes, signature: str | None = "") -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature or sign(body)
    return admin.client.post(f"/hooks/whatsapp/{channel_id}", content=body, headers=headers)


def text_update(
    message_id: str = "wamid.IN-1",
    wa_id: str = "33612345678",
    text: str = "Bonjour, mon colis n'est pas arrivé.",
    at: float | None = None,
    context_id: str | None = None,
) -> bytes:
    """pywa's text example, from another customer and (by default) written just now."""
    body = example("message__text")
    value = first_value(body)
    value["contacts"][0].update({"wa_id": wa_id, "profile": {"name": "Jeanne Martin"}})
    message = value["messages"][0]
    message.update({"id": message_id, "from": wa_id, "timestamp": str(int(at or time.time()))})
    message["text"]["body"] = text
    if context_id:
        message["context"] = {"from": "972123456789", "id": context_id}
    return json.dumps(body).encode()


def status_update(message_id: str, status: str, errors: list[Any] | None = None) -> bytes:
    """pywa's receipt example for ``message_id``."""
    body = example("message_status__failed" if status == "failed" else "message_status__sent")
    receipt = first_value(body)["statuses"][0]
    receipt.update({"id": message_id, "status": status, "timestamp": str(int(time.time()))})
    if errors is not None:
        receipt["errors"] = errors
    return json.dumps(body).encode()


@pytest.fixture
def graph() -> Iterator[FakeProvider]:
    with fake_provider() as provider:
        provider.answers = [(200, SENT)]
        provider.routes = {
            "/media": [(200, {"id": "media-upload-1"})],
            "/lookaside/file": [(200, MEDIA_BYTES)],
        }
        yield provider


@pytest.fixture
def whatsapp(channel: Any, graph: FakeProvider) -> Any:
    def make(**settings: Any) -> dict[str, Any]:
        settings = {
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": TOKEN,
            "phone_number_id": PHONE_ID,
            "api_base_url": graph.base,
            **settings,
        }
        return channel("whatsapp", name=f"WhatsApp {settings['phone_number_id']}", **settings)

    return make


def serve_media(graph: FakeProvider) -> None:
    """Every ``GET /<media id>`` answers a media URL on the fake server."""
    info = {"url": f"{graph.base}/lookaside/file", "mime_type": "image/jpeg", "file_size": 30}
    graph.answers = [(200, info)]


def deliveries(admin: Any, channel_id: int) -> list[dict[str, Any]]:
    found = admin.get(f"/api/v1/channels/{channel_id}/webhook-deliveries?limit=100").json()
    items: list[dict[str, Any]] = found["items"]
    return items


def messages_on(admin: Any, channel_id: int) -> list[dict[str, Any]]:
    """What the customer wrote on this channel (its conversation is now on this channel)."""
    return [
        m
        for c in conversations(admin)
        if c["channel_id"] == channel_id
        for m in thread(admin, c["id"])
        if m["channel_id"] == channel_id
    ]


def reply(admin: Any, conversation_id: int, **body: Any) -> dict[str, Any]:
    response = admin.post(
        f"/api/v1/conversations/{conversation_id}/replies", json={"text": "Bonjour", **body}
    )
    assert response.status_code == 201, response.text
    return next(m for m in thread(admin, conversation_id) if m["id"] == response.json()["id"])


def customer_writes(admin: Any, channel_id: int, **update: Any) -> dict[str, Any]:
    """A customer's fresh text message, posted and stored; its conversation."""
    response = post_hook(admin, channel_id, text_update(**update))
    assert response.status_code == 200, response.text
    return next(c for c in conversations(admin) if c["channel_id"] == channel_id)


def check_outcome(admin: Any, factory: Any, name: str, delivery: dict[str, Any]) -> None:
    channel_id, summary = delivery["channel_id"], delivery["summary"]
    if name in MESSAGES:
        assert (delivery["outcome"], summary["messages"]) == ("processed", 1), summary
        check_message(admin, name, channel_id)
    elif name in STATUSES:
        assert (delivery["outcome"], summary["statuses"]) == ("processed", 1), summary
        check_early_receipt(factory, name, channel_id)
    else:
        prefix = next(p for p in UNSUPPORTED_BY_PREFIX if name.startswith(p))
        assert delivery["outcome"] == "unsupported", summary
        [left_aside] = summary["unsupported"]
        assert left_aside["event_type"] == UNSUPPORTED_BY_PREFIX[prefix]
        assert left_aside["reason"]


def check_message(admin: Any, name: str, channel_id: int) -> None:
    words, file_type = MESSAGES[name]
    [message] = messages_on(admin, channel_id)
    assert words in message["text"], (name, message["text"])
    assert message["direction"] == "inbound"
    if file_type is None:
        assert message["attachments"] == []
        return
    [attachment] = message["attachments"]
    assert attachment["content_type"] == file_type
    assert admin.get(f"/api/v1/attachments/{attachment['id']}").content == MEDIA_BYTES


def check_early_receipt(factory: Any, name: str, channel_id: int) -> None:
    with factory() as session:
        [kept] = session.scalars(select(EarlyReceipt).where(EarlyReceipt.channel_id == channel_id))
    assert kept.status == STATUSES[name]
    if kept.status == "failed":
        assert kept.error is not None
        assert "User's number is part of an experiment" in kept.error
        assert "(code 130472)" in kept.error


def test_it_stores_every_example_update_as_a_message_a_receipt_or_an_unsupported_event(
    admin, whatsapp, graph, factory
):
    serve_media(graph)
    split, collected = dict(examples("split")), dict(examples("collected"))
    assert len(split) == 74
    assert collected.keys() == split.keys()
    for index, (name, body) in enumerate(split.items()):
        # One app per channel: channels of one app would each get a copy of every update.
        secret = f"{APP_SECRET}-{index}"
        ch = whatsapp(phone_number_id=phone_number_id_of(body), app_secret=secret)
        assert post_hook(admin, ch["id"], body, sign(body, secret)).status_code == 200, name
        [first] = deliveries(admin, ch["id"])
        check_outcome(admin, factory, name, {**first, "channel_id": ch["id"]})
        # The same update as the collected file holds it: other bytes, the same outcome.
        again_body = collected[name]
        again_signed = post_hook(admin, ch["id"], again_body, sign(again_body, secret))
        assert again_signed.status_code == 200, name
        again = next(d for d in deliveries(admin, ch["id"]) if d["id"] != first["id"])
        assert (again["outcome"], again["summary"]) == (first["outcome"], first["summary"])
        if name in MESSAGES:
            assert len(messages_on(admin, ch["id"])) == 1, name
    assert graph.calls("/v21.0/65463453")  # the image's media id, asked for its URL
    downloads = graph.calls("/lookaside/file")
    assert downloads
    assert {d.headers["Authorization"] for d in downloads} == {f"Bearer {TOKEN}"}


def test_it_names_the_sender_by_their_verified_number_and_whatsapp_name(admin, whatsapp):
    ch = whatsapp()
    post_hook(admin, ch["id"], whatsapp_data("pywa", "split", "message__text.json").read_bytes())
    [conversation] = conversations(admin)
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    [identity] = customer["identities"]
    assert (identity["kind"], identity["value"]) == ("whatsapp", "+972987654321")
    assert identity["verified"] is True
    assert customer["name"] == "Test Name"


def test_it_checks_the_real_signed_capture_with_its_own_secret(admin, whatsapp):
    folder = whatsapp_data("pywa_signed_example")
    vector = json.loads((folder / "signature.json").read_bytes())
    raw = (folder / "raw_body.json").read_bytes()
    ch = whatsapp(app_secret=vector["app_secret"], phone_number_id="277321005464405")
    assert post_hook(admin, ch["id"], raw, sign(raw)).status_code == 401  # our test secret
    assert post_hook(admin, ch["id"], raw + b" ", vector["x_hub_signature_256"]).status_code == 401
    response = post_hook(admin, ch["id"], raw, vector["x_hub_signature_256"])
    assert response.status_code == 200, response.text
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    assert message["text"] == "Hey there! I am using PyWa."
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    assert customer["identities"][0]["value"] == "+972544401243"
    assert customer["name"] == "PyWa Tests"


def test_it_refuses_a_delivery_without_the_apps_signature_and_stores_nothing(admin, whatsapp):
    ch = whatsapp()
    body = text_update()
    sha1 = "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    for signature in (None, sign(body, "another-secret"), sha1, "sha256=00"):
        response = post_hook(admin, ch["id"], body, signature)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
    assert deliveries(admin, ch["id"]) == []
    assert conversations(admin) == []


def test_it_answers_metas_subscription_handshake_with_the_verify_token(admin, whatsapp):
    ch = whatsapp()
    url = f"/hooks/whatsapp/{ch['id']}"
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    answer = admin.client.get(url, params=query)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    wrong = admin.client.get(url, params={**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403


def test_it_leaves_aside_updates_for_another_phone_number(admin, whatsapp):
    ch = whatsapp(phone_number_id="999000111")
    post_hook(admin, ch["id"], whatsapp_data("pywa", "split", "message__text.json").read_bytes())
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["outcome"] == "unsupported"
    [left_aside] = delivery["summary"]["unsupported"]
    assert left_aside["event_type"] == "unknown_phone_number"
    assert "1122334455667" in left_aside["reason"]
    assert conversations(admin) == []


def test_it_leaves_aside_a_body_that_is_not_a_whatsapp_update(admin, whatsapp):
    ch = whatsapp()
    page = json.dumps({"object": "page", "entry": [{"id": "1", "messaging": []}]}).encode()
    assert post_hook(admin, ch["id"], page).status_code == 200
    not_meta = b'{"update_id": 1, "message": {"text": "hi"}}'
    assert post_hook(admin, ch["id"], not_meta).status_code == 200
    outcomes = {d["outcome"]: d["summary"] for d in deliveries(admin, ch["id"])}
    assert outcomes["unsupported"]["unsupported"][0]["event_type"] == "page"
    assert "lists its entries" in outcomes["unreadable"]["error"]


def test_it_keeps_truncated_json_as_unreadable_and_says_so(admin, whatsapp):
    ch = whatsapp()
    response = post_hook(admin, ch["id"], b'{"object": "whatsapp_business_account", "entr')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unreadable"


def test_it_stores_a_redelivered_message_once(admin, whatsapp):
    ch = whatsapp()
    raw = whatsapp_data("pywa", "split", "message__text.json").read_bytes()
    assert post_hook(admin, ch["id"], raw).json()["duplicate"] is False
    assert post_hook(admin, ch["id"], raw).json()["duplicate"] is True
    reserialised = json.dumps(json.loads(raw)).encode()  # the same message, other bytes
    assert post_hook(admin, ch["id"], reserialised).json()["duplicate"] is False
    assert len(messages_on(admin, ch["id"])) == 1


def test_it_links_the_whatsapp_number_to_the_customer_with_the_same_verified_phone(
    admin, whatsapp, channel
):
    api = channel("api")
    known = admin.post(
        "/api/v1/inbound",
        json={
            "channel_id": api["id"],
            "sender": {"kind": "phone", "value": "+33612345678", "verified": True},
            "text": "Je vous ai appelé hier.",
        },
    ).json()
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"], wa_id="33612345678")
    assert conversation["customer_id"] == known["customer_id"]
    customer = admin.get(f"/api/v1/customers/{known['customer_id']}").json()
    assert {(i["kind"], i["value"]) for i in customer["identities"]} == {
        ("phone", "+33612345678"),
        ("whatsapp", "+33612345678"),
    }


def test_it_replies_quoting_the_customers_message_and_threads_their_answer(
    admin, whatsapp, graph, channel
):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"], message_id="wamid.IN-1")
    sent = reply(admin, conversation["id"], text="Nous regardons tout de suite.")
    assert (sent["status"], sent["provider_message_id"]) == ("sent", "wamid.OURS-1")
    [call] = graph.calls(f"/v21.0/{PHONE_ID}/messages")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    body = call.json()
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "33612345678",
        "type": "text",
        "text": {"body": body["text"]["body"], "preview_url": False},
        "context": {"message_id": "wamid.IN-1"},
    }
    assert body["text"]["body"].startswith("Nous regardons tout de suite.")
    # Meanwhile the customer has a newer conversation (someone wrote as them, unverified)…
    api = channel("api")
    claim = {"kind": "whatsapp", "value": "+33612345678", "verified": False}
    newer = admin.post(
        "/api/v1/inbound", json={"channel_id": api["id"], "sender": claim, "text": "Allô ?"}
    ).json()
    assert newer["conversation_id"] != conversation["id"]
    # …but their answer quotes our reply, so it joins the conversation of that reply.
    quoted = text_update("wamid.IN-2", text="Merci !", context_id="wamid.OURS-1")
    post_hook(admin, ch["id"], quoted)
    assert [m["text"] for m in thread(admin, newer["conversation_id"])] == ["Allô ?"]
    assert "Merci !" in [m["text"] for m in thread(admin, conversation["id"])]


def test_it_marks_a_reply_delivered_then_read_by_whatsapps_receipts(admin, whatsapp):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"])
    sent = reply(admin, conversation["id"])
    steps = [("delivered", "delivered"), ("read", "read"), ("delivered", "read")]
    for status, shown in steps:  # a late "delivered" never undoes "read"
        post_hook(admin, ch["id"], status_update("wamid.OURS-1", status))
        now = next(m for m in thread(admin, conversation["id"]) if m["id"] == sent["id"])
        assert now["status"] == shown


def test_it_applies_a_receipt_that_arrived_before_the_send_was_recorded(admin, whatsapp, graph):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"])
    post_hook(admin, ch["id"], status_update("wamid.EARLY-7", "delivered"))
    graph.answers = [
        (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.EARLY-7"}]})
    ]
    sent = reply(admin, conversation["id"])
    assert (sent["provider_message_id"], sent["status"]) == ("wamid.EARLY-7", "delivered")


def test_it_shows_whatsapps_reason_when_a_sent_reply_could_not_be_delivered(admin, whatsapp):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"])
    sent = reply(admin, conversation["id"])
    errors = [
        {
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "The recipient's phone number is not a WhatsApp number."},
        }
    ]
    post_hook(admin, ch["id"], status_update("wamid.OURS-1", "failed", errors))
    failed = next(m for m in thread(admin, conversation["id"]) if m["id"] == sent["id"])
    assert failed["status"] == "failed"
    assert "Message undeliverable" in failed["error"]
    assert "not a WhatsApp number" in failed["error"]


def test_it_sends_only_a_template_once_the_24_hour_window_is_closed(admin, whatsapp, graph):
    template = {"name": "colis_retard", "language": "fr", "text": "Bonjour {{1}}, colis {{2}}."}
    ch = whatsapp(templates=[template])
    conversation = customer_writes(admin, ch["id"], at=time.time() - 25 * 3600)
    url = f"/api/v1/conversations/{conversation['id']}/replies"
    refused = admin.post(url, json={"text": "Bonjour"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "window_closed"
    assert graph.calls("/messages") == []
    chosen = {"name": "colis_retard", "parameters": ["Jeanne", "FR-1234"]}
    sent = admin.post(url, json={"template": chosen}).json()
    assert sent["text"] == "Bonjour Jeanne, colis FR-1234."
    [call] = graph.calls("/messages")
    assert call.json()["type"] == "template"
    assert call.json()["template"] == {
        "name": "colis_retard",
        "language": {"code": "fr"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Jeanne"},
                    {"type": "text", "text": "FR-1234"},
                ],
            }
        ],
    }
    shown = next(m for m in thread(admin, conversation["id"]) if m["id"] == sent["id"])
    assert (shown["status"], shown["provider_message_id"]) == ("sent", "wamid.OURS-1")


def test_it_refuses_free_text_at_sending_time_if_the_window_closed_meanwhile(graph):
    settings = {"access_token": TOKEN, "phone_number_id": PHONE_ID, "api_base_url": graph.base}
    last = utcnow() - timedelta(hours=24, minutes=1)
    with pytest.raises(DeliveryError, match="the 24-hour window is closed: send a template") as no:
        WhatsAppAdapter().send(outbound(settings, last, {}))
    assert no.value.permanent is True
    assert graph.calls("/messages") == []
    template = {"name": "colis_retard", "language": "fr", "parameters": []}
    assert WhatsAppAdapter().send(outbound(settings, last, {"template": template}))
    [call] = graph.calls("/messages")
    assert call.json()["template"] == {"name": "colis_retard", "language": {"code": "fr"}}


def outbound(settings: dict[str, Any], last: Any, options: dict[str, Any]) -> OutboundMessage:
    return OutboundMessage(
        message_id=1,
        conversation_id=1,
        channel_settings=settings,
        recipient=Recipient("whatsapp", "+33612345678"),
        text="Bonjour Jeanne",
        html=None,
        visibility=Visibility.PRIVATE,
        customer_last_message_at=last,
        options=options,
    )


def test_it_uploads_files_then_sends_them_by_media_id_with_the_text_as_caption(
    admin, whatsapp, graph
):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"])
    files = [
        {"filename": "colis.png", "content_type": "image/png", "content_base64": PNG_BASE64},
        {"filename": "facture.pdf", "content_type": "application/pdf", "content_base64": PDF},
    ]
    sent = reply(admin, conversation["id"], text="Voici la photo et la facture.", attachments=files)
    assert sent["status"] == "sent"
    uploads = graph.calls(f"/v21.0/{PHONE_ID}/media")
    assert len(uploads) == 2
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in uploads[0].body
    assert b"\x89PNG" in uploads[0].body
    photo, invoice = (c.json() for c in graph.calls("/messages"))
    assert photo["image"]["id"] == "media-upload-1"
    assert photo["image"]["caption"].startswith("Voici la photo et la facture.")
    assert invoice["document"] == {"id": "media-upload-1", "filename": "facture.pdf"}


def test_it_fails_for_good_when_whatsapp_asks_for_a_re_engagement_template(admin, whatsapp, graph):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"])
    graph.answers = [(400, graph_error(131047, "Re-engagement message", "more than 24 hours"))]
    sent = reply(admin, conversation["id"])
    assert sent["status"] == "failed"
    assert "Re-engagement message" in sent["error"]
    assert admin.get(f"/api/v1/channels/{ch['id']}").json()["needs_reconnection"] is False


def test_it_tries_again_later_when_whatsapp_limits_the_rate(admin, whatsapp, graph):
    from filrouge.jobs.queue import huey

    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"])
    graph.answers = [(400, graph_error(130429, "Rate limit hit", "Cloud API message throughput"))]
    queued = reply(admin, conversation["id"])
    assert queued["status"] == "queued"
    assert "Rate limit hit" in queued["error"]
    assert [t for t in huey.scheduled() if t.args[:1] == (queued["id"],)]
    huey.storage.flush_schedule()


def test_it_flags_the_channel_when_meta_refuses_the_access_token(admin, whatsapp, graph):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"])
    graph.answers = [(400, graph_error(190, "Error validating access token", "session expired"))]
    sent = reply(admin, conversation["id"])
    assert sent["status"] == "failed"
    assert "Error validating access token" in sent["error"]
    assert admin.get(f"/api/v1/channels/{ch['id']}").json()["needs_reconnection"] is True


def graph_error(code: int, message: str, details: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        }
    }


PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Erk"
    "Jggg=="
)
PDF = "JVBERi0xLjQKJSBmaWxyb3VnZSB0ZXN0CiUlRU9GCg=="


def system_update(name: str, at: float | None = None) -> bytes:
    """pywa's system example ``name`` (``system__phone_number_change``…), sent at ``at``."""
    body = example(name)
    if at is not None:
        first_value(body)["messages"][0]["timestamp"] = str(int(at))
    return json.dumps(body).encode()


def resolve(admin: Any, conversation_id: int) -> None:
    answer = admin.patch(f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"})
    assert answer.status_code == 200, answer.text


def test_a_number_change_never_reopens_a_resolved_conversation_and_shows_as_a_notice(
    admin, whatsapp, make_browser
):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"], wa_id="972987654321")
    resolve(admin, conversation["id"])
    body = system_update("system__phone_number_change", at=time.time())
    assert post_hook(admin, ch["id"], body).status_code == 200
    detail = admin.get(f"/api/v1/conversations/{conversation['id']}").json()
    assert detail["status"] == "resolved"
    notice = detail["messages"][-1]
    assert (notice["flag"], notice["details"]["new_number"]) == ("system", "+972912345678")
    html = make_browser("agent").get(f"/conversations/{conversation['id']}").text
    assert (
        "Le client a changé de numéro WhatsApp, de +972987654321 à +972912345678 : "
        "ses prochains messages viennent du nouveau numéro."
    ) in html
    assert "User A changed from" not in html  # WhatsApp's own English words are not shown


def test_an_identity_change_is_a_notice_asking_to_check_it_is_still_the_customer(
    admin, whatsapp, make_browser
):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"], wa_id="972987654321")
    resolve(admin, conversation["id"])
    post_hook(admin, ch["id"], system_update("system__identity_change", at=time.time()))
    detail = admin.get(f"/api/v1/conversations/{conversation['id']}").json()
    assert detail["status"] == "resolved"
    assert detail["messages"][-1]["flag"] == "system"
    html = make_browser("agent").get(f"/conversations/{conversation['id']}").text
    assert "L&#39;identité WhatsApp du client a changé" in html
    assert "avis du réseau" in html


def test_a_system_notice_does_not_open_the_24_hour_window(admin, whatsapp, graph):
    ch = whatsapp()
    conversation = customer_writes(
        admin, ch["id"], wa_id="972987654321", at=time.time() - 25 * 3600
    )
    post_hook(admin, ch["id"], system_update("system__identity_change", at=time.time()))
    url = f"/api/v1/conversations/{conversation['id']}/replies"
    refused = admin.post(url, json={"text": "Bonjour"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "window_closed"
    assert graph.calls("/messages") == []


def test_after_a_number_change_the_new_number_continues_the_same_customers_thread(admin, whatsapp):
    ch = whatsapp()
    conversation = customer_writes(admin, ch["id"], wa_id="972987654321")
    post_hook(admin, ch["id"], system_update("system__phone_number_change", at=time.time()))
    later = customer_writes(admin, ch["id"], message_id="wamid.IN-2", wa_id="972912345678")
    assert (later["id"], later["customer_id"]) == (conversation["id"], conversation["customer_id"])
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    numbers = {(i["kind"], i["value"], i["verified"]) for i in customer["identities"]}
    assert ("whatsapp", "+972912345678", True) in numbers


def test_a_number_change_never_takes_a_number_another_customer_holds(admin, whatsapp):
    ch = whatsapp()
    holder = admin.post(
        "/api/v1/customers",
        json={"name": "Autre", "identities": [{"kind": "whatsapp", "value": "+972912345678"}]},
    ).json()
    conversation = customer_writes(admin, ch["id"], wa_id="972987654321")
    post_hook(admin, ch["id"], system_update("system__phone_number_change", at=time.time()))
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    assert "+972912345678" not in {i["value"] for i in customer["identities"]}
    kept = admin.get(f"/api/v1/customers/{holder['id']}").json()
    assert [i["value"] for i in kept["identities"]] == ["+972912345678"]
