"""Replies leave through the queue: retried while the provider is down, failed visibly when it
refuses or never comes back, and found again when their job was lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from fake_provider import fake_provider
from filrouge.core.models import Message
from filrouge.jobs.deliveries import RETRIES, STALE_AFTER, deliver, sweep_lost_deliveries
from filrouge.lib.timeutil import utcnow
from helpers import inbound


def queued_reply(admin: Any, channel: Any, url: str) -> tuple[str, int]:
    ch = channel("api", outbound_url=url)
    received = admin.post("/api/v1/inbound", json=inbound(ch["id"], "a@example.fr")).json()
    conversation = f"/api/v1/conversations/{received['conversation_id']}"
    reply = admin.post(f"{conversation}/replies", json={"text": "Bonjour"}).json()
    return conversation, reply["id"]


def reply_in(admin: Any, conversation: str, message_id: int) -> dict[str, Any]:
    messages = admin.get(conversation).json()["messages"]
    found: dict[str, Any] = next(m for m in messages if m["id"] == message_id)
    return found


def test_it_marks_a_reply_failed_after_the_last_retry(admin, channel):
    with fake_provider() as provider:
        provider.answers = [(503, {})]
        conversation, message_id = queued_reply(admin, channel, provider.url)
        assert reply_in(admin, conversation, message_id)["status"] == "queued"
        deliver.call_local(message_id, RETRIES + 1)  # the last attempt: no retry left
        attempts = len(provider.received)
    message = reply_in(admin, conversation, message_id)
    assert message["status"] == "failed"
    assert f"after {RETRIES + 1} attempts" in message["error"]
    assert attempts == 2


def test_it_sends_again_a_reply_whose_job_was_lost(admin, channel, factory):
    with fake_provider() as provider:
        provider.answers = [(503, {}), (200, {"id": "late-1"})]
        conversation, message_id = queued_reply(admin, channel, provider.url)
        with factory() as session, session.begin():
            session.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(occurred_at=utcnow() - STALE_AFTER - timedelta(minutes=1))
            )
        assert sweep_lost_deliveries.call_local() == 1
    message = reply_in(admin, conversation, message_id)
    assert (message["status"], message["provider_message_id"]) == ("sent", "late-1")


def test_it_never_sends_a_reply_twice(admin, channel):
    with fake_provider() as provider:
        conversation, message_id = queued_reply(admin, channel, provider.url)
        deliver.call_local(message_id)
        deliver.call_local(message_id)
        assert len(provider.received) == 1
    assert reply_in(admin, conversation, message_id)["status"] == "sent"


def test_it_fails_a_reply_to_an_address_on_the_private_network(admin, channel, monkeypatch):
    monkeypatch.setenv("FILROUGE_HTTP_ALLOW_PRIVATE", "0")
    monkeypatch.setenv("FILROUGE_HTTP_LOOPBACK_ONLY", "0")
    conversation, message_id = queued_reply(admin, channel, "http://127.0.0.1:9/hook")
    message = reply_in(admin, conversation, message_id)
    assert message["status"] == "failed"
    assert "private address" in message["error"]
