"""The visitors' open sockets in this process, and how a change reaches them.

Nothing here needs the web framework: a connection is an asyncio queue the socket reads.
Signals travel on the realtime bus (``web/realtime.Broker``: in process, or through Redis
between processes), as ids only; each socket then reads what is new for its own visitor from
the database, which stays the truth (a visitor who was away gets it all on reconnect).

Signals: the domain events ``message.received``/``reply.added``/``message.sent`` (a
conversation changed), ``presence`` (an agent types in a conversation), ``resync``, and
``chat.pending`` (the adapter stored a reply for a visitor).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PENDING = "chat.pending"
_CONVERSATION_EVENTS = frozenset({"message.received", "reply.added", "message.sent"})


@dataclass(eq=False)
class Connection:
    """One open widget: what it listens for, and the queue its socket reads."""

    channel_id: int
    visitor_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(100))
    conversations: set[int] = field(default_factory=set)


class VisitorHub:
    def __init__(self) -> None:
        self._connections: set[Connection] = set()
        self._lock = threading.Lock()
        self._publish: Callable[[dict[str, Any]], None] | None = None

    def bind(self, publish: Callable[[dict[str, Any]], None]) -> None:
        """Signals go out through ``publish`` (the realtime broker's)."""
        self._publish = publish

    def join(self, connection: Connection) -> None:
        with self._lock:
            self._connections.add(connection)

    def leave(self, connection: Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def signal_pending(self, visitor_id: str, conversation_id: int) -> None:
        """A reply waits for this visitor (called by the adapter, from any thread)."""
        if self._publish is not None:
            signal = {"type": PENDING, "visitor": visitor_id, "conversation_id": conversation_id}
            self._publish(signal)

    def dispatch(self, data: str) -> None:
        """One bus message (JSON) → a wake-up for each connection it concerns."""
        try:
            signal = json.loads(data)
        except ValueError:
            return
        if not isinstance(signal, dict):
            return
        for connection in self._concerned(signal):
            connection.loop.call_soon_threadsafe(_offer, connection.queue, signal)

    def _concerned(self, signal: dict[str, Any]) -> list[Connection]:
        kind = signal.get("type")
        with self._lock:
            connections = list(self._connections)
        if kind == "resync":
            return connections
        if kind == PENDING:
            return [c for c in connections if c.visitor_id == signal.get("visitor")]
        if kind in _CONVERSATION_EVENTS or _agent_typing(signal):
            return [c for c in connections if signal.get("conversation_id") in c.conversations]
        return []


def _agent_typing(signal: dict[str, Any]) -> bool:
    return (
        signal.get("type") == "presence"
        and signal.get("state") == "typing"
        and isinstance(signal.get("user_id"), int)  # a visitor's own typing is not echoed
    )


def _offer(queue: asyncio.Queue[dict[str, Any]], signal: dict[str, Any]) -> None:
    """A socket far behind gets one resync rather than a backlog."""
    try:
        queue.put_nowait(signal)
    except asyncio.QueueFull:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait({"type": "resync"})


HUB = VisitorHub()
