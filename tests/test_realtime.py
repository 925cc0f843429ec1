"""Realtime across processes: an event written through one server reaches a browser connected
to another, through Redis pub/sub (FILROUGE_TEST_REDIS_URL, set in CI)."""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live_server import PASSWORD, environment, install, running

REDIS_URL = os.environ.get("FILROUGE_TEST_REDIS_URL")
SETUPS = ["one process"] + (["two processes and Redis"] if REDIS_URL else [])


@pytest.fixture(params=SETUPS)
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(where to write, where to listen, API token)."""
    two = request.param != "one process"
    env = environment(tmp_path, redis_url=REDIS_URL if two and REDIS_URL else "")
    token = install(env)
    with running(env, tmp_path, *([["serve"], ["serve"]] if two else [["serve"]])) as bases:
        yield bases[0], bases[-1], token


def listen(base: str, received: queue.Queue[dict[str, Any]], ready: threading.Event) -> None:
    """A browser's EventSource, in a thread; it ends when the server goes away."""
    try:
        _listen(base, received, ready)
    except httpx.HTTPError:
        return


def _listen(base: str, received: queue.Queue[dict[str, Any]], ready: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=httpx.Timeout(10, read=30)) as browser:
        browser.post("/login", data={"email": "admin@example.fr", "password": PASSWORD})
        with browser.stream("GET", "/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                ready.set()
                if line.startswith("data: "):
                    received.put(json.loads(line[6:]))


def test_it_pushes_a_new_message_to_open_pages(servers):
    write, listen_on, token = servers
    received: queue.Queue[dict[str, Any]] = queue.Queue()
    ready = threading.Event()
    threading.Thread(target=listen, args=(listen_on, received, ready), daemon=True).start()
    assert ready.wait(10), "the event stream did not open"
    time.sleep(0.3)  # the relay subscribes as the stream opens
    with httpx.Client(base_url=write, headers={"Authorization": f"Bearer {token}"}) as api:
        channel = api.post("/api/v1/channels", json={"kind": "api", "name": "Site"}).json()
        stored = api.post(
            "/api/v1/inbound",
            json={
                "channel_id": channel["id"],
                "text": "Bonjour",
                "sender": {"kind": "email", "value": "jeanne@example.fr"},
            },
        ).json()
    event = received.get(timeout=10)  # the figure itself is measured in docs/PERFORMANCE.md
    assert event == {
        "type": "message.received",
        "message_id": stored["message_id"],
        "conversation_id": stored["conversation_id"],
        "customer_id": stored["customer_id"],
        "channel_id": channel["id"],
    }


def test_it_refuses_the_event_stream_without_a_session(servers):
    _, listen_on, _ = servers
    response = httpx.get(f"{listen_on}/events", follow_redirects=False)
    assert response.status_code == 303


def test_it_keeps_installations_sharing_one_redis_apart():
    from filrouge.web.realtime import Broker

    one = Broker("redis://127.0.0.1:6379/15", installation="sqlite:///a.db")
    other = Broker("redis://127.0.0.1:6379/15", installation="sqlite:///b.db")
    assert one.channel != other.channel
    assert "a.db" not in one.channel  # the database URL (maybe with a password) is hashed


def test_it_tells_a_page_that_fell_behind_to_resync_instead_of_losing_events():
    import asyncio
    import json

    from filrouge.web.realtime import QUEUE_SIZE, _offer

    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
    for number in range(QUEUE_SIZE + 1):
        _offer(queue, json.dumps({"type": "message.received", "message_id": number}))
    assert queue.qsize() == 1
    assert json.loads(queue.get_nowait()) == {"type": "resync"}
