"""Realtime: committed domain events pushed to open pages by Server-Sent Events.

Events carry ids only (which conversation changed); pages fetch what changed through their
usual, permission-checked routes. One process: events go straight from the committing thread to
the connected browsers. Several processes (``FILROUGE_REDIS_URL``): every process publishes to
one Redis channel and every process relays what it hears there to its own browsers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from filrouge.core import events

log = logging.getLogger(__name__)
CHANNEL = "filrouge:events"
FORWARDED = (
    "message.received",
    "reply.added",
    "note.added",
    "conversation.updated",
    "message.sent",
    "message.failed",
    "customer.merged",
)
HEARTBEAT_SECONDS = 15.0


class Broker:
    """Fans events out to the SSE streams of this process."""

    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = set()
        self._lock = threading.Lock()
        self._redis: Any = None
        self._stop = threading.Event()

    def start(self) -> None:
        for name in FORWARDED:
            events.subscribe(name, self._on_domain_event)
        if self.redis_url:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url)
            threading.Thread(
                target=self._relay_from_redis, name="realtime-redis", daemon=True
            ).start()

    def stop(self) -> None:
        for name in FORWARDED:
            events.unsubscribe(name, self._on_domain_event)
        self._stop.set()

    def _on_domain_event(self, event: events.DomainEvent) -> None:
        self.publish({"type": event.name, **_ids(event.payload)})

    def publish(self, message: dict[str, Any]) -> None:
        """Send ``message`` to every open page, in this process or (with Redis) in all."""
        data = json.dumps(message)
        if self._redis is not None:
            self._redis.publish(CHANNEL, data)
        else:
            self.dispatch(data)

    def _relay_from_redis(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(CHANNEL)
        while not self._stop.is_set():
            message = pubsub.get_message(timeout=1.0)
            if message is not None:
                self.dispatch(message["data"].decode())
        pubsub.close()

    def dispatch(self, data: str) -> None:
        """Hand ``data`` to every open stream (safe from any thread)."""
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue in listeners:
            loop.call_soon_threadsafe(queue.put_nowait, data)

    async def stream(self) -> AsyncIterator[str]:
        """One browser's stream: SSE frames, with a heartbeat so proxies keep it open."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._listeners.add(entry)
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    data = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                    yield f"data: {data}\n\n"
                except TimeoutError:
                    yield ": heartbeat\n\n"
        finally:
            with self._lock:
                self._listeners.discard(entry)


def _ids(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key.endswith("_id")}
