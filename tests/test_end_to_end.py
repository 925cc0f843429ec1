"""The product as a user runs it: migrate, create a user and a token, serve, receive, reply.

The server and the worker run as real processes; the reply goes out through the task queue
(the embedded SQLite queue, and Redis when FILROUGE_TEST_REDIS_URL is set, as in CI) to a fake
provider on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_provider import fake_provider
from live_server import environment, install, wait_until
from live_server import running as live

REDIS_URL = os.environ.get("FILROUGE_TEST_REDIS_URL")
QUEUES = ["sqlite", "redis"] if REDIS_URL else ["sqlite"]


@pytest.fixture(params=QUEUES)
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    queue = "" if request.param == "sqlite" else f"{REDIS_URL}"
    if queue:
        import redis

        redis.Redis.from_url(queue).flushdb()
    env = environment(tmp_path, queue_url=queue, http_allow_private="1")
    token = install(env)
    commands = [["serve", "--no-worker"], ["worker"]] if queue else [["serve", "--worker"]]
    with live(env, tmp_path, *commands) as bases:
        yield bases[0], token


def test_it_receives_a_message_and_delivers_the_reply_through_the_queue(running):
    base, token = running
    auth = {"Authorization": f"Bearer {token}"}
    with fake_provider() as provider, httpx.Client(base_url=base, headers=auth) as api:
        channel = api.post(
            "/api/v1/channels",
            json={"kind": "api", "name": "Boutique", "settings": {"outbound_url": provider.url}},
        )
        assert channel.status_code == 201, channel.text
        received = api.post(
            "/api/v1/inbound",
            json={
                "channel_id": channel.json()["id"],
                "provider_message_id": "order-42",
                "sender": {"kind": "email", "value": "jeanne@example.fr", "name": "Jeanne"},
                "text": "Où en est ma commande ?",
            },
        ).json()
        conversation = f"/api/v1/conversations/{received['conversation_id']}"
        reply = api.post(f"{conversation}/replies", json={"text": "Elle part demain."})
        assert reply.status_code == 201, reply.text

        def delivered() -> Any:
            last = api.get(conversation).json()["messages"][-1]
            return last if last["status"] != "queued" else None

        last = wait_until(delivered)
        assert (last["status"], last["provider_message_id"]) == ("sent", "prov-1")
        assert provider.received[0].json()["text"].startswith("Elle part demain.")
        assert api.get("/api/v1/openapi.json").json()["info"]["title"] == "Filrouge"
