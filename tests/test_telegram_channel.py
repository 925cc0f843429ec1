"""Telegram: every update of Telegram's own examples is stored the way it should be, signed with
the channel's secret token; replies leave by the Bot API (a fake one on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_provider import FakeProvider, fake_provider
from filrouge.jobs.deliveries import deliver
from helpers import conversations, shared_data, thread

SECRET = "s3cret-token_for-tests"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_updates() -> list[Path]:
    return sorted(shared_data("webhooks", "telegram").rglob("*.json"))


@pytest.fixture
def bot_api() -> Iterator[FakeProvider]:
    with fake_provider() as provider:
        provider.answers = [(200, {"ok": True, "result": {"message_id": 77}})]
        yield provider


@pytest.fixture
def telegram(channel: Any, bot_api: FakeProvider) -> Any:
    def make(**settings: Any) -> dict[str, Any]:
        settings = {"api_base_url": bot_api.base, **settings}
        return channel("telegram", secret_token=SECRET, bot_token="123:abc", **settings)

    return make


def post_update(admin: Any, channel_id: int, body: bytes, secret: str | None = SECRET) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[HEADER] = secret
    return admin.client.post(f"/hooks/telegram/{channel_id}", content=body, headers=headers)


def test_it_stores_every_update_of_telegrams_examples(admin, telegram, factory):
    ch = telegram()
    files = telegram_updates()
    assert len(files) >= 13
    expected = set()
    for path in files:
        update = json.loads(path.read_bytes())
        for key in ("message", "edited_message"):
            if key in update:
                message = update[key]
                edit = message.get("edit_date") if key == "edited_message" else None
                expected.add((message["chat"]["id"], message["message_id"], edit))
        response = post_update(admin, ch["id"], path.read_bytes())
        assert response.status_code == 200, (path.name, response.text)
        assert response.json()["received"] is True
    deliveries = admin.get(f"/api/v1/channels/{ch['id']}/webhook-deliveries?limit=100").json()
    outcomes = {d["outcome"] for d in deliveries["items"]}
    assert outcomes <= {"processed", "unsupported"}, deliveries
    unsupported = [d for d in deliveries["items"] if d["outcome"] == "unsupported"]
    assert {u["summary"]["unsupported"][0]["event_type"] for u in unsupported} >= {
        "inline_query",
        "callback_query",
    }
    texts = [m for c in conversations(admin) for m in thread(admin, c["id"])]
    assert len(texts) == len(expected)  # Telegram's examples reuse ids: those are one message


def test_it_threads_a_chat_under_the_telegram_user_with_their_name_and_handle(admin, telegram):
    ch = telegram()
    path = shared_data("webhooks", "telegram") / "core.telegram.org_bots_webhooks"
    post_update(admin, ch["id"], (path / "02_message_text.json").read_bytes())
    post_update(admin, ch["id"], (path / "06_edited_message.json").read_bytes())
    [conversation] = conversations(admin)
    customer = admin.get(f"/api/v1/customers/{conversation['customer_id']}").json()
    [identity] = customer["identities"]
    assert identity["kind"] == "telegram"
    assert identity["value"] == "1111111"
    assert identity["attributes"]["handle"] == "@Testusername"
    assert customer["name"] == "Test Firstname Test Lastname"
    messages = thread(admin, conversation["id"])
    assert len(messages) == 2
    assert messages[1]["details"]["edited"] is True


def test_it_fetches_a_document_the_customer_sent(admin, telegram, bot_api):
    bot_api.routes = {
        "/getFile": [(200, {"ok": True, "result": {"file_path": "docs/f.pdf"}})],
        "/docs/f.pdf": [(200, b"%PDF-1.4 test")],
    }
    ch = telegram()
    path = shared_data("webhooks", "telegram", "core.telegram.org_bots_webhooks")
    post_update(admin, ch["id"], (path / "10_message_with_document.json").read_bytes())
    assert bot_api.calls("/bot123:abc/getFile")[0].json() == {
        "file_id": "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX"
    }
    [conversation] = conversations(admin)
    [message] = thread(admin, conversation["id"])
    [attachment] = message["attachments"]
    assert attachment["filename"] == "Testfile.pdf"
    download = admin.get(f"/api/v1/attachments/{attachment['id']}")
    assert download.content == b"%PDF-1.4 test"


def test_it_refuses_a_delivery_without_the_secret_token_and_stores_nothing(admin, telegram):
    ch = telegram()
    body = b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5}, "from": {"id": 5}}}'
    for secret in (None, "wrong"):
        response = post_update(admin, ch["id"], body, secret)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
    deliveries = admin.get(f"/api/v1/channels/{ch['id']}/webhook-deliveries").json()
    assert deliveries["items"] == []
    assert conversations(admin) == []


def test_it_stores_a_redelivered_update_once(admin, telegram):
    ch = telegram()
    path = shared_data("webhooks", "telegram", "core.telegram.org_bots_webhooks")
    body = (path / "02_message_text.json").read_bytes()
    assert post_update(admin, ch["id"], body).json()["duplicate"] is False
    assert post_update(admin, ch["id"], body).json()["duplicate"] is True
    [conversation] = conversations(admin)
    assert len(thread(admin, conversation["id"])) == 1


def test_it_keeps_truncated_json_as_unreadable_and_says_so(admin, telegram):
    ch = telegram()
    response = post_update(admin, ch["id"], b'{"update_id": 1, "message": {"mess')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_payload"
    [kept] = admin.get(f"/api/v1/channels/{ch['id']}/webhook-deliveries").json()["items"]
    assert kept["outcome"] == "unreadable"
    assert "not JSON" in kept["summary"]["error"]


def test_it_refuses_a_huge_delivery_and_stores_nothing(admin, telegram):
    ch = telegram()
    huge = b'{"update_id": 1, "message": {"text": "' + b"x" * (3 * 1024 * 1024) + b'"}}'
    response = post_update(admin, ch["id"], huge)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert admin.get(f"/api/v1/channels/{ch['id']}/webhook-deliveries").json()["items"] == []


def test_it_answers_404_for_a_channel_of_another_kind(admin, telegram, channel):
    other = channel("api")
    response = post_update(admin, other["id"], b"{}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_channel"


def test_it_replies_by_the_bot_api_with_text_and_a_photo(admin, telegram):
    with fake_provider() as provider:
        provider.answers = [(200, {"ok": True, "result": {"message_id": 77}})]
        ch = telegram(api_base_url=provider.base)
        path = shared_data("webhooks", "telegram", "core.telegram.org_bots_webhooks")
        post_update(admin, ch["id"], (path / "02_message_text.json").read_bytes())
        [conversation] = conversations(admin)
        reply = admin.post(
            f"/api/v1/conversations/{conversation['id']}/replies",
            json={
                "text": "Bonjour, voici la photo du colis.",
                "attachments": [
                    {
                        "filename": "colis.png",
                        "content_type": "image/png",
                        "content_base64": PNG_BASE64,
                    }
                ],
            },
        )
        assert reply.status_code == 201, reply.text
        [photo] = provider.calls("/bot123:abc/sendPhoto")
        assert b'name="chat_id"\r\n\r\n1111111' in photo.body
        assert b"voici la photo" in photo.body
    sent = next(m for m in thread(admin, conversation["id"]) if m["direction"] == "outbound")
    assert (sent["status"], sent["provider_message_id"]) == ("sent", "1111111:77")


def test_it_flags_the_channel_when_telegram_refuses_the_bot_token(admin, telegram):
    with fake_provider() as provider:
        provider.answers = [(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})]
        ch = telegram(api_base_url=provider.base)
        path = shared_data("webhooks", "telegram", "core.telegram.org_bots_webhooks")
        post_update(admin, ch["id"], (path / "02_message_text.json").read_bytes())
        [conversation] = conversations(admin)
        admin.post(f"/api/v1/conversations/{conversation['id']}/replies", json={"text": "Bonjour"})
    sent = next(m for m in thread(admin, conversation["id"]) if m["direction"] == "outbound")
    assert sent["status"] == "failed"
    assert "Unauthorized" in sent["error"]
    shown = admin.get(f"/api/v1/channels/{ch['id']}").json()
    assert shown["needs_reconnection"] is True


def test_it_waits_as_long_as_telegram_asks_before_trying_again(admin, telegram):
    from filrouge.jobs.queue import huey

    with fake_provider() as provider:
        provider.answers = [
            (
                429,
                {
                    "ok": False,
                    "description": "Too Many Requests",
                    "parameters": {"retry_after": 42},
                },
            ),
            (200, {"ok": True, "result": {"message_id": 78}}),
        ]
        ch = telegram(api_base_url=provider.base)
        path = shared_data("webhooks", "telegram", "core.telegram.org_bots_webhooks")
        post_update(admin, ch["id"], (path / "02_message_text.json").read_bytes())
        [conversation] = conversations(admin)
        reply = admin.post(
            f"/api/v1/conversations/{conversation['id']}/replies", json={"text": "Bonjour"}
        ).json()
        queued = next(m for m in thread(admin, conversation["id"]) if m["id"] == reply["id"])
        assert queued["status"] == "queued"
        assert "Too Many Requests" in queued["error"]
        [scheduled] = [t for t in huey.scheduled() if t.args[:1] == (reply["id"],)]
        delay = (scheduled.eta - huey._get_timestamp()).total_seconds()
        assert 40 <= delay <= 43
        huey.storage.flush_schedule()
        deliver.call_local(reply["id"], 2)
    sent = next(m for m in thread(admin, conversation["id"]) if m["id"] == reply["id"])
    assert sent["status"] == "sent"


PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5Erk"
    "Jggg=="
)
