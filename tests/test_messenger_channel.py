"""Messenger: every shared Messenger payload (full page envelopes, and bare ``messaging`` events
put in the envelope Meta sends them in) is posted signed with the app secret and stored the way
it should be; replies leave by the Send API of a fake Graph API on 127.0.0.1, within Meta's
24-hour and 7-day windows."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fake_provider import FakeProvider, fake_provider
from filrouge.channels.base import DeliveryError, OutboundMessage, Recipient
from filrouge.channels.registry import ADAPTERS
from filrouge.core.models.enums import Visibility
from filrouge.jobs.deliveries import deliver
from filrouge.lib.timeutil import utcnow
from helpers import conversations, meta_signature, shared_data

APP_SECRET = "messenger-app-secret-for-tests"
VERIFY_TOKEN = "messenger-verify-token"
PAGE_ID = "111111"  # the page of the fbmessenger-api-hs envelopes
TOKEN = "EAAB-messenger-page-token"
QUICK_REPLY_MID = (
    "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
)
DELIVERED_MID = "mid.1458668856218:ed81099e15d3f4f233"  # what both shared receipts name


def signed(body: bytes, secret: str = APP_SECRET) -> str:
    return meta_signature(body, secret)


def shared_payloads() -> Path:
    return shared_data("webhooks", "meta_messenger")


def envelope(events: list[dict[str, Any]], page_id: str = PAGE_ID) -> bytes:
    """A page webhook as Meta posts it: ``object: page``, one entry per page."""
    entry = {"id": page_id, "time": 1458692752478, "messaging": events}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


def shared_body(path: Path) -> bytes:
    """The bytes Meta would post for a shared file. Some files are bare ``messaging`` events
    (one, or a list of examples), not page envelopes: those are put, unchanged, in the
    envelope of this channel's page; full envelopes are posted byte for byte."""
    payload = json.loads(path.read_bytes())
    if isinstance(payload, dict) and "object" in payload:
        return path.read_bytes()
    return envelope(payload if isinstance(payload, list) else [payload])


def text_event(text: str, mid: str, age: timedelta = timedelta(minutes=5)) -> dict[str, Any]:
    """A text message as Meta documents it, written ``age`` ago."""
    when = int((utcnow() - age).timestamp() * 1000)
    return {
        "sender": {"id": "2900000000000001"},
        "recipient": {"id": PAGE_ID},
        "timestamp": when,
        "message": {"mid": mid, "text": text},
    }


@pytest.fixture
def graph() -> Iterator[FakeProvider]:
    with fake_provider() as provider:
        provider.answers = [(200, {"recipient_id": "2900000000000001", "message_id": "m_sent-1"})]
        yield provider


@pytest.fixture
def messenger(channel: Any, graph: FakeProvider) -> Any:
    def make(**overrides: Any) -> dict[str, Any]:
        settings = {
            "page_id": PAGE_ID,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": TOKEN,
            "api_base_url": graph.base,
            **overrides,
        }
        return channel("messenger", **settings)

    return make


def post(admin: Any, channel_id: int, body: bytes, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature != "":
        headers["X-Hub-Signature-256"] = signature or signed(body)
    return admin.client.post(f"/hooks/messenger/{channel_id}", content=body, headers=headers)


def deliveries(admin: Any, channel_id: int) -> list[dict[str, Any]]:
    url = f"/api/v1/channels/{channel_id}/webhook-deliveries?limit=100"
    found: list[dict[str, Any]] = admin.get(url).json()["items"]
    return sorted(found, key=lambda d: d["id"])


def messages(admin: Any) -> list[dict[str, Any]]:
    found = []
    for conversation in conversations(admin):
        found += admin.get(f"/api/v1/conversations/{conversation['id']}").json()["messages"]
    return sorted(found, key=lambda m: m["id"])


def reply(admin: Any, text: str = "Bonjour, nous regardons votre commande.") -> dict[str, Any]:
    [conversation] = conversations(admin)
    answer = admin.post(f"/api/v1/conversations/{conversation['id']}/replies", json={"text": text})
    assert answer.status_code == 201, answer.text
    return next(m for m in messages(admin) if m["id"] == answer.json()["id"])


@dataclass(frozen=True)
class Expected:
    messages: dict[str, str] = field(default_factory=dict)  # provider id → text
    statuses: int = 0
    unsupported: tuple[str, ...] = ()


EXPECTED = {
    # A mid and a watermark each: the message named, and every reply sent by then.
    "docs_message_deliveries_event.json": Expected(statuses=2),
    "fbmessenger-api-hs/wsAuthRequest.json": Expected(unsupported=("optin",)),
    "fbmessenger-api-hs/wsDeliveryRequest.json": Expected(statuses=2),
    "fbmessenger-api-hs/wsPostbackRequest.json": Expected(
        {"postback:USER_ID:1458692752478": "USER_DEFINED_PAYLOAD"}
    ),
    "fbmessenger-api-hs/wsStructuredMessageRequest.json": Expected(
        {"mid.1458696618141:b4ef9d19ec21086067": ""}
    ),
    "fbmessenger-api-hs/wsTextMessageRequest.json": Expected(
        {"mid.1457764197618:41d102a3e1ae206a38": "hello, world!"}
    ),
    "sociably/image.json": Expected({"mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c": ""}),
    # Three examples of one quick reply share one mid: a redelivery, stored once.
    "sociably/quick_reply.json": Expected({QUICK_REPLY_MID: "Green"}),
    "sociably/text.json": Expected(
        {
            "mid.1458696618141:b4ef9d19ec21086067": "<URL_SENT_BY_THE_USER>",
            "mid.$cAACFU2NCL81nc02tgVhQghkkuXzk": (
                "Transfer $50 to yourname@email.com tomorrow at 2pm"
            ),
        }
    ),
}


def test_it_has_an_expectation_for_every_shared_messenger_payload():
    files = {str(p.relative_to(shared_payloads())) for p in shared_payloads().rglob("*.json")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_stores_each_shared_messenger_payload_as_it_should(admin, messenger, name):
    ch = messenger()
    expected = EXPECTED[name]
    response = post(admin, ch["id"], shared_body(shared_payloads() / name))
    assert response.status_code == 200, response.text
    [delivery] = deliveries(admin, ch["id"])
    summary = delivery["summary"]
    assert delivery["outcome"] == ("unsupported" if expected.unsupported else "processed")
    assert summary["statuses"] == expected.statuses
    assert tuple(u["event_type"] for u in summary["unsupported"]) == expected.unsupported
    stored = {m["provider_message_id"]: m["text"] for m in messages(admin)}
    assert stored == expected.messages
    assert all(m["visibility"] == "private" for m in messages(admin))


def test_it_makes_the_psid_a_messenger_identity_that_is_not_verified(admin, messenger):
    ch = messenger()
    path = shared_payloads() / "fbmessenger-api-hs" / "wsTextMessageRequest.json"
    post(admin, ch["id"], path.read_bytes())
    [conversation] = conversations(admin)
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    [identity] = customer["identities"]
    assert (identity["kind"], identity["value"], identity["verified"]) == (
        "messenger",
        "USER_ID",
        False,
    )


def test_it_keeps_what_the_customer_pressed_a_quick_reply_or_a_button(admin, messenger):
    ch = messenger()
    post(admin, ch["id"], shared_body(shared_payloads() / "sociably" / "quick_reply.json"))
    post(
        admin,
        ch["id"],
        shared_body(shared_payloads() / "fbmessenger-api-hs/wsPostbackRequest.json"),
    )
    quick, button = messages(admin)
    assert quick["details"]["quick_reply"] == "DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_GREEN"
    assert button["details"]["postback"] == {"payload": "USER_DEFINED_PAYLOAD"}


def test_it_uses_the_buttons_title_as_the_text_of_a_postback(admin, messenger):
    ch = messenger()
    event = {
        "sender": {"id": "2900000000000001"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1700000000000,
        "postback": {"mid": "m_postback-1", "title": "Suivre ma commande", "payload": "TRACK"},
    }
    post(admin, ch["id"], envelope([event]))
    [message] = messages(admin)
    assert (message["provider_message_id"], message["text"]) == (
        "m_postback-1",
        "Suivre ma commande",
    )
    assert message["details"]["postback"] == {"title": "Suivre ma commande", "payload": "TRACK"}


def test_it_keeps_the_image_of_a_shared_payload_by_its_url(admin, messenger):
    ch = messenger()
    post(
        admin,
        ch["id"],
        (shared_payloads() / "fbmessenger-api-hs/wsStructuredMessageRequest.json").read_bytes(),
    )
    [message] = messages(admin)
    [attachment] = message["attachments"]
    assert (attachment["filename"], attachment["content_type"]) == ("image.jpg", "image/jpeg")
    assert attachment["url"] == "IMAGE_URL"


def test_it_keeps_a_shared_link_with_its_title(admin, messenger):
    ch = messenger()
    post(admin, ch["id"], shared_body(shared_payloads() / "sociably" / "text.json"))
    link = next(m for m in messages(admin) if m["text"] == "<URL_SENT_BY_THE_USER>")
    assert link["attachments"] == []
    assert link["details"]["links"] == [
        {
            "type": "fallback",
            "title": "<TITLE_OF_THE_URL_ATTACHMENT>",
            "url": "<URL_OF_THE_ATTACHMENT>",
        }
    ]


def test_it_fetches_a_photo_from_metas_cdn_without_sending_the_token(admin, messenger, graph):
    graph.routes = {"/cdn/photo_123_n.jpg": [(200, PNG)]}
    ch = messenger()
    event = text_event("", "m_photo-1")
    event["message"] = {
        "mid": "m_photo-1",
        "attachments": [
            {"type": "image", "payload": {"url": f"{graph.base}/cdn/photo_123_n.jpg?x=1"}}
        ],
    }
    post(admin, ch["id"], envelope([event]))
    [message] = messages(admin)
    [attachment] = message["attachments"]
    assert attachment["filename"] == "photo_123_n.jpg"
    assert admin.get(f"/api/v1/attachments/{attachment['id']}").content == PNG
    [fetch] = graph.calls("/cdn/photo_123_n.jpg")
    assert "Authorization" not in fetch.headers


def test_it_keeps_the_message_when_the_cdn_will_not_give_the_file(admin, messenger, graph):
    graph.routes = {"/cdn/gone.mp4": [(404, {"error": "gone"})]}
    ch = messenger()
    event = text_event("la vidéo", "m_video-1")
    url = f"{graph.base}/cdn/gone.mp4"
    event["message"]["attachments"] = [{"type": "video", "payload": {"url": url}}]
    post(admin, ch["id"], envelope([event]))
    [message] = messages(admin)
    assert message["text"] == "la vidéo"
    [attachment] = message["attachments"]
    assert (attachment["filename"], attachment["url"]) == ("gone.mp4", url)


def test_it_answers_metas_subscription_handshake_with_the_challenge(admin, messenger):
    ch = messenger()
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    answer = admin.client.get(f"/hooks/messenger/{ch['id']}", params=query)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    query["hub.verify_token"] = "not-ours"
    assert admin.client.get(f"/hooks/messenger/{ch['id']}", params=query).status_code == 403


def test_it_accepts_the_real_signed_meta_delivery_of_the_shared_vector(admin, messenger):
    folder = shared_data("webhooks", "whatsapp_cloud", "pywa_signed_example")
    vector = json.loads((folder / "signature.json").read_text())
    ch = messenger(app_secret=vector["app_secret"])
    body = (folder / "raw_body.json").read_bytes()
    assert post(admin, ch["id"], body, vector["x_hub_signature_256"]).status_code == 200
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["outcome"] == "unsupported"  # a WhatsApp body is not a page's
    assert delivery["summary"]["unsupported"][0]["event_type"] == "object:whatsapp_business_account"


def test_it_refuses_a_delivery_not_signed_with_the_app_secret_and_stores_nothing(admin, messenger):
    ch = messenger()
    body = (shared_payloads() / "fbmessenger-api-hs" / "wsTextMessageRequest.json").read_bytes()
    for signature in ("", signed(body, "another-secret"), "sha1=0d814d436b45c33ef664a317ff4b8dc2"):
        response = post(admin, ch["id"], body, signature)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
    assert deliveries(admin, ch["id"]) == []
    assert conversations(admin) == []


def test_it_stores_a_redelivered_message_once(admin, messenger):
    ch = messenger()
    body = (shared_payloads() / "fbmessenger-api-hs" / "wsTextMessageRequest.json").read_bytes()
    assert post(admin, ch["id"], body).json()["duplicate"] is False
    assert post(admin, ch["id"], body).json()["duplicate"] is True
    # The same message in another delivery (Meta retries with a new entry time): still once.
    again = json.loads(body)
    again["entry"][0]["time"] += 1000
    assert post(admin, ch["id"], json.dumps(again).encode()).json()["duplicate"] is False
    assert len(messages(admin)) == 1


def test_it_keeps_truncated_json_as_unreadable_and_says_so(admin, messenger):
    ch = messenger()
    response = post(admin, ch["id"], b'{"object":"page","entry":[{"id":"111111","mess')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"
    [kept] = deliveries(admin, ch["id"])
    assert kept["outcome"] == "unreadable"
    assert "not JSON" in kept["summary"]["error"]


def test_it_stores_an_entry_for_another_page_as_unknown_page(admin, messenger):
    ch = messenger(page_id="999999")
    body = (shared_payloads() / "fbmessenger-api-hs" / "wsTextMessageRequest.json").read_bytes()
    assert post(admin, ch["id"], body).status_code == 200
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["outcome"] == "unsupported"
    [unsupported] = delivery["summary"]["unsupported"]
    assert unsupported["event_type"] == "unknown_page"
    assert "111111" in unsupported["reason"]
    assert conversations(admin) == []


def test_it_does_not_take_the_pages_own_echo_for_a_customer_message(admin, messenger):
    ch = messenger()
    echo = text_event("Nous revenons vers vous.", "m_echo-1")
    echo["sender"], echo["recipient"] = {"id": PAGE_ID}, {"id": "2900000000000001"}
    echo["message"]["is_echo"] = True
    post(admin, ch["id"], envelope([echo]))
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["summary"]["unsupported"][0]["event_type"] == "echo"
    assert conversations(admin) == []


def receipt_event(kind: str, watermark_ms: int, **fields: Any) -> dict[str, Any]:
    """A ``delivery`` or ``read`` event of the customer, as Meta documents it."""
    return {
        "sender": {"id": "2900000000000001"},
        "recipient": {"id": PAGE_ID},
        "timestamp": watermark_ms + 210,
        kind: {"watermark": watermark_ms, **fields},
    }


def ms(when: Any) -> int:
    return int(when.timestamp() * 1000)


def outbound_messages(admin: Any) -> list[dict[str, Any]]:
    return [m for m in messages(admin) if m["direction"] == "outbound"]


def test_it_marks_every_reply_sent_before_a_read_watermark_read_and_no_later_one(
    admin, messenger, graph
):
    graph.answers = [
        (200, {"recipient_id": "2900000000000001", "message_id": "m_sent-1"}),
        (200, {"recipient_id": "2900000000000001", "message_id": "m_sent-2"}),
    ]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))
    first = reply(admin, "Il part demain.")
    seen = utcnow()
    later = reply(admin, "Voici le numéro de suivi.")
    assert post(admin, ch["id"], envelope([receipt_event("read", ms(seen))])).status_code == 200
    statuses = {m["id"]: m["status"] for m in outbound_messages(admin)}
    assert statuses == {first["id"]: "read", later["id"]: "sent"}
    receipt = deliveries(admin, ch["id"])[-1]
    assert (receipt["outcome"], receipt["summary"]["unsupported"]) == ("processed", [])


def test_it_marks_replies_delivered_by_watermark_and_then_read(admin, messenger, graph):
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))
    sent = reply(admin)
    now = ms(utcnow())
    post(admin, ch["id"], envelope([receipt_event("delivery", now, seq=37)]))
    assert outbound_messages(admin)[0]["status"] == "delivered"
    post(admin, ch["id"], envelope([receipt_event("read", now + 1)]))
    [read] = outbound_messages(admin)
    assert (read["id"], read["status"]) == (sent["id"], "read")
    # A late delivery watermark never moves the reply back.
    post(admin, ch["id"], envelope([receipt_event("delivery", now + 2)]))
    assert outbound_messages(admin)[0]["status"] == "read"


def test_a_watermark_never_touches_a_failed_reply(admin, messenger, graph):
    graph.answers = [(400, graph_error(551, "This person isn't available right now."))]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Bonjour", "m_customer-1")]))
    assert reply(admin)["status"] == "failed"
    post(admin, ch["id"], envelope([receipt_event("read", ms(utcnow()))]))
    assert outbound_messages(admin)[0]["status"] == "failed"


def test_a_watermark_of_another_person_leaves_our_reply_as_it_was(admin, messenger, graph):
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Bonjour", "m_customer-1")]))
    assert reply(admin)["status"] == "sent"
    someone_else = receipt_event("read", ms(utcnow()))
    someone_else["sender"] = {"id": "2900000000000099"}
    post(admin, ch["id"], envelope([someone_else]))
    assert outbound_messages(admin)[0]["status"] == "sent"


def test_it_marks_the_mids_of_a_delivery_even_after_the_watermark(admin, messenger, graph):
    graph.answers = [(200, {"recipient_id": "2900000000000001", "message_id": DELIVERED_MID})]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))
    reply(admin)
    # The shared receipt names our reply's mid with a watermark of 2016: the mid wins.
    shared = shared_payloads() / "fbmessenger-api-hs" / "wsDeliveryRequest.json"
    post(admin, ch["id"], shared.read_bytes())
    assert outbound_messages(admin)[0]["status"] == "delivered"


def test_it_applies_a_watermark_that_came_while_the_reply_was_being_sent(admin, messenger, graph):
    """Meta may tell the reply was read before its Send API answer reaches us: the read is
    kept, then applied when the send is recorded."""
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))

    def read_before_answering(call: Any) -> None:
        read = receipt_event("read", ms(utcnow()))
        assert post(admin, ch["id"], envelope([read])).status_code == 200

    graph.before_answer = read_before_answering
    assert reply(admin)["status"] == "read"


def test_a_watermark_kept_from_before_a_reply_was_sent_does_not_mark_it(admin, messenger, graph):
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))

    def read_of_earlier_messages(call: Any) -> None:
        read = receipt_event("read", ms(utcnow() - timedelta(seconds=5)))
        assert post(admin, ch["id"], envelope([read])).status_code == 200

    graph.before_answer = read_of_earlier_messages
    assert reply(admin)["status"] == "sent"


def test_a_reply_that_waited_to_be_sent_again_is_not_read_by_an_earlier_watermark(
    admin, messenger, graph
):
    """Queued, then refused for a while: the customer reading the thread meanwhile has not
    read a reply that went out only later."""
    from filrouge.jobs.queue import huey

    graph.answers = [
        (429, graph_error(4, "Application request limit reached"), {"Retry-After": "60"}),
        (200, {"recipient_id": "2900000000000001", "message_id": "m_sent-2"}),
    ]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))
    queued = reply(admin)
    assert queued["status"] == "queued"
    post(admin, ch["id"], envelope([receipt_event("read", ms(utcnow()))]))
    [scheduled] = [t for t in huey.scheduled() if t.args[:1] == (queued["id"],)]
    huey.storage.flush_schedule()
    deliver.call_local(*scheduled.args)
    [sent] = outbound_messages(admin)
    assert (sent["provider_message_id"], sent["status"]) == ("m_sent-2", "sent")
    post(admin, ch["id"], envelope([receipt_event("read", ms(utcnow()))]))
    assert outbound_messages(admin)[0]["status"] == "read"


def test_the_conversation_page_shows_a_reply_read_by_watermark(
    admin, messenger, graph, make_browser
):
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))
    sent = reply(admin)
    post(admin, ch["id"], envelope([receipt_event("read", ms(utcnow()))]))
    html = make_browser("agent").get(f"/conversations/{sent['conversation_id']}").text
    assert '<span class="delivery delivery-read">lu</span>' in html


def test_it_says_why_a_receipt_naming_neither_message_nor_time_is_left_aside(admin, messenger):
    ch = messenger()
    event = receipt_event("read", 0)
    event["read"] = {}
    post(admin, ch["id"], envelope([event]))
    [delivery] = deliveries(admin, ch["id"])
    assert delivery["outcome"] == "unsupported"
    [unsupported] = delivery["summary"]["unsupported"]
    assert unsupported["event_type"] == "read_receipt"


def test_it_marks_a_reply_delivered_when_messenger_says_so(admin, messenger, graph):
    graph.answers = [(200, {"recipient_id": "2900000000000001", "message_id": DELIVERED_MID})]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))
    assert reply(admin)["status"] == "sent"
    post(
        admin,
        ch["id"],
        (shared_payloads() / "fbmessenger-api-hs/wsDeliveryRequest.json").read_bytes(),
    )
    sent = next(m for m in messages(admin) if m["direction"] == "outbound")
    assert (sent["provider_message_id"], sent["status"]) == (DELIVERED_MID, "delivered")


def test_it_applies_a_delivery_receipt_that_came_before_the_reply_was_recorded(
    admin, messenger, graph
):
    graph.answers = [(200, {"recipient_id": "2900000000000001", "message_id": DELIVERED_MID})]
    ch = messenger()
    post(admin, ch["id"], shared_body(shared_payloads() / "docs_message_deliveries_event.json"))
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))
    assert reply(admin)["status"] == "delivered"


def test_it_replies_within_24_hours_as_a_response_to_the_psid(admin, messenger, graph):
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Où est mon colis ?", "m_customer-1")]))
    sent = reply(admin)
    assert (sent["status"], sent["provider_message_id"]) == ("sent", "m_sent-1")
    [call] = graph.calls(f"/v21.0/{PAGE_ID}/messages")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    body = call.json()
    assert body["recipient"] == {"id": "2900000000000001"}
    assert body["messaging_type"] == "RESPONSE"
    assert "tag" not in body
    assert body["message"]["text"].startswith("Bonjour, nous regardons votre commande.")


def test_it_replies_after_24_hours_with_the_human_agent_tag(admin, messenger, graph):
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Allô ?", "m_customer-1", timedelta(days=3))]))
    assert reply(admin)["status"] == "sent"
    [call] = graph.calls(f"/v21.0/{PAGE_ID}/messages")
    assert (call.json()["messaging_type"], call.json()["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_it_refuses_to_send_more_than_7_days_after_the_customers_last_message(graph):
    settings = {"page_id": PAGE_ID, "access_token": TOKEN, "api_base_url": graph.base}
    late = outbound(settings, customer_last_message_at=utcnow() - timedelta(days=8))
    with pytest.raises(DeliveryError) as refused:
        ADAPTERS["messenger"].send(late)
    assert refused.value.permanent
    assert "7 days" in str(refused.value)
    assert graph.received == []


def test_it_tells_the_composer_when_the_messenger_window_is_closed():
    adapter = ADAPTERS["messenger"]
    now = utcnow()
    assert adapter.window_open(now - timedelta(days=6), now)
    assert not adapter.window_open(now - timedelta(days=8), now)
    assert not adapter.private_replies


def test_it_uploads_a_file_with_the_reply_as_filedata(admin, messenger, graph):
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("La facture ?", "m_customer-1")]))
    [conversation] = conversations(admin)
    answer = admin.post(
        f"/api/v1/conversations/{conversation['id']}/replies",
        json={
            "text": "Voici la facture.",
            "attachments": [
                {
                    "filename": "facture.png",
                    "content_type": "image/png",
                    "content_base64": PNG_BASE64,
                }
            ],
        },
    )
    assert answer.status_code == 201, answer.text
    text_call, file_call = graph.calls(f"/v21.0/{PAGE_ID}/messages")
    assert text_call.json()["message"]["text"].startswith("Voici la facture.")
    assert b'name="filedata"; filename="facture.png"' in file_call.body
    assert PNG in file_call.body
    form = file_call.body.decode("latin-1")
    assert '"is_reusable": false' in form
    assert '"type": "image"' in form
    assert '{"id": "2900000000000001"}' in form
    assert 'name="messaging_type"\r\n\r\nRESPONSE' in form


def test_it_sends_a_long_reply_in_parts_messenger_accepts(graph):
    settings = {"page_id": PAGE_ID, "access_token": TOKEN, "api_base_url": graph.base}
    long = outbound(settings, text=("Une phrase de suivi. " * 150).strip())
    assert ADAPTERS["messenger"].send(long) == "m_sent-1"
    parts = [c.json()["message"]["text"] for c in graph.calls(f"/v21.0/{PAGE_ID}/messages")]
    assert len(parts) == 2
    assert all(len(p) <= 2000 for p in parts)
    assert " ".join(parts) == long.text


def test_it_flags_the_channel_when_meta_refuses_the_page_token(admin, messenger, graph):
    graph.answers = [(401, graph_error(190, "Error validating access token", "OAuthException"))]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Bonjour", "m_customer-1")]))
    sent = reply(admin)
    assert sent["status"] == "failed"
    assert "Error validating access token" in sent["error"]
    assert admin.get(f"/api/v1/channels/{ch['id']}").json()["needs_reconnection"] is True


def test_it_fails_a_reply_to_someone_messenger_cannot_reach_and_says_why(admin, messenger, graph):
    graph.answers = [(400, graph_error(551, "This person isn't available right now."))]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Bonjour", "m_customer-1")]))
    sent = reply(admin)
    assert sent["status"] == "failed"
    assert "cannot receive messages" in sent["error"]
    assert "isn't available right now" in sent["error"]
    assert admin.get(f"/api/v1/channels/{ch['id']}").json()["needs_reconnection"] is False


def test_it_fails_a_reply_meta_says_is_outside_the_window(admin, messenger, graph):
    refusal = graph_error(10, "This message is sent outside of allowed window.", subcode=2018278)
    graph.answers = [(400, refusal)]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Bonjour", "m_customer-1")]))
    sent = reply(admin)
    assert sent["status"] == "failed"
    assert "outside the messaging window" in sent["error"]


def test_it_tries_again_later_when_meta_rate_limits_the_page(admin, messenger, graph):
    from filrouge.jobs.queue import huey

    graph.answers = [
        (400, graph_error(613, "Calls to this api have exceeded the rate limit.")),
        (200, {"recipient_id": "2900000000000001", "message_id": "m_sent-2"}),
    ]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Bonjour", "m_customer-1")]))
    queued = reply(admin)
    assert queued["status"] == "queued"
    assert "rate limit" in queued["error"]
    [scheduled] = [t for t in huey.scheduled() if t.args[:1] == (queued["id"],)]
    huey.storage.flush_schedule()
    deliver.call_local(*scheduled.args)
    sent = next(m for m in messages(admin) if m["id"] == queued["id"])
    assert (sent["status"], sent["provider_message_id"]) == ("sent", "m_sent-2")


def test_it_honours_metas_retry_after_on_a_429(admin, messenger, graph):
    from filrouge.jobs.queue import huey

    graph.answers = [
        (429, graph_error(4, "Application request limit reached"), {"Retry-After": "90"})
    ]
    ch = messenger()
    post(admin, ch["id"], envelope([text_event("Bonjour", "m_customer-1")]))
    queued = reply(admin)
    assert queued["status"] == "queued"
    [scheduled] = [t for t in huey.scheduled() if t.args[:1] == (queued["id"],)]
    delay = (scheduled.eta - huey._get_timestamp()).total_seconds()
    assert 88 <= delay <= 91
    huey.storage.flush_schedule()


def outbound(settings: dict[str, Any], **overrides: Any) -> OutboundMessage:
    fields: dict[str, Any] = {
        "message_id": 1,
        "conversation_id": 1,
        "channel_settings": settings,
        "recipient": Recipient("messenger", "2900000000000001"),
        "text": "Bonjour",
        "html": None,
        "visibility": Visibility.PRIVATE,
        "customer_last_message_at": utcnow() - timedelta(minutes=5),
        **overrides,
    }
    return OutboundMessage(**fields)


def graph_error(
    code: int, message: str, kind: str = "OAuthException", subcode: int | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "A1b2"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Erk"
    "Jggg=="
)
PNG = base64.b64decode(PNG_BASE64)
