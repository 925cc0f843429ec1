"""Realtime: committed domain events pushed to open pages by Server-Sent Events.

Events carry ids only (which conversation changed); pages fetch what changed through their
usual, permission-checked routes. One process: events go straight from the committing thread to
the connected browsers. Several processes (``FILROUGE_REDIS_URL``): every process publishes to
one Redis channel and every process relays what it hears there to its own browsers.

The channel is named after the installation's database, so that two installations (or test
runs) sharing one Redis never hear each other. If Redis cannot be reached, this process's own
pages still get the event, and the relay connects again by itself. A page that cannot keep up
(1,000 events waiting) is told to ``resync``: it reloads what it shows instead of losing events.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from filrouge.core import events

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "filrouge:events:"
QUEUE_SIZE = 1000
RESYNC = json.dumps({"type": "resync"})
FORWARDED = (
    "message.received",
    "reply.added",
    "note.added",
    "conversation.updated",
    "message.sent",
    "message.failed",
    "customer.merged",
    "notification.created",  # with the user_id it is for: that user's pages update their bell
    "notification.read",
)
HEARTBEAT_SECONDS = 15.0


class Broker:
    """Fans events out to the SSE streams of this process."""

    def __init__(self, redis_url: str = "", installation: str = "") -> None:
        self.redis_url = redis_url
        self.channel = CHANNEL_PREFIX + hashlib.sha256(installation.encode()).hexdigest()[:16]
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
        if self._redis is None:
            self.dispatch(data)
            return
        try:
            self._redis.publish(self.channel, data)
        except Exception as exc:  # Redis away: at least this process's pages hear it
            log.warning("realtime: Redis publish failed (%s); local pages only", exc)
            self.dispatch(data)

    def _relay_from_redis(self) -> None:
        pause = 1.0
        while not self._stop.is_set():
            try:
                self._relay_until_error()
            except Exception as exc:  # a lost connection: connect again, a little later
                log.warning("realtime: Redis relay lost (%s); again in %.0f s", exc, pause)
                self._stop.wait(pause)
                pause = min(pause * 2, 30.0)

    def _relay_until_error(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is not None:
                    self.dispatch(message["data"].decode())
        finally:
            pubsub.close()

    def dispatch(self, data: str) -> None:
        """Hand ``data`` to every open stream (safe from any thread)."""
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue in listeners:
            loop.call_soon_threadsafe(_offer, queue, data)

    async def stream(self) -> AsyncIterator[str]:
        """One browser's stream: SSE frames, with a heartbeat so proxies keep it open."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
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


def _offer(queue: asyncio.Queue[str], data: str) -> None:
    """Queue ``data`` for a page; a page too far behind gets one ``resync`` instead."""
    try:
        queue.put_nowait(data)
    except asyncio.QueueFull:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(RESYNC)


def _ids(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key.endswith("_id")}
