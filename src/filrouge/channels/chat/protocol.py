"""The widget's frames, read strictly: JSON objects with a known ``type`` and typed fields.

Visitor → server: ``hello`` {token?, locale?} (first, once), ``message`` {text, client_id},
``typing`` {state: bool}, ``contact`` {name?, email?}, ``ping``.
Server → visitor: ``welcome``, ``message``, ``ack``, ``typing``, ``availability``,
``contact``, ``pong``, ``error`` {code, message} (the socket stays open after an error).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from typing import Any

from filrouge.i18n import N_

CLIENT_TYPES = frozenset({"hello", "message", "typing", "contact", "ping", "rating"})
MAX_NAME = 200
MAX_EMAIL = 320
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_PER_MINUTE = 20


class FrameError(Exception):
    """A frame the server will not take: answered with an error frame, the socket stays."""

    def __init__(self, code: str, message_id: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message_id = message_id
        self.params = params


def read_frame(raw: str) -> dict[str, Any]:
    """The frame as a dict with a known type, or ``FrameError``."""
    try:
        frame = json.loads(raw)
    except ValueError:
        raise FrameError("not_json", N_("The frame is not JSON.")) from None
    if not isinstance(frame, dict):
        raise FrameError("not_an_object", N_("The frame must be a JSON object."))
    if frame.get("type") not in CLIENT_TYPES:
        raise FrameError("unknown_type", N_("This type of frame is unknown."))
    return frame


def text_field(frame: dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    value = frame.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FrameError("invalid_field", N_("The field {field} must be text."), field=name)
    value = value.strip() if name != "text" else value
    if required and not value.strip():
        raise FrameError("empty_text", N_("The message is empty."))
    if len(value.encode()) > limit:
        raise FrameError(
            "too_long",
            N_("The field {field} is longer than {limit} bytes."),
            field=name,
            limit=limit,
        )
    return value


def client_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("client_id")
    if value is None:
        return None
    if not isinstance(value, str) or not _CLIENT_ID.match(value):
        raise FrameError("invalid_field", N_("The field {field} must be text."), field="client_id")
    return value


class RateLimit:
    """At most ``per_minute`` events per key in any minute (in this process)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, per_minute: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - 60:
                seen.popleft()
            if len(seen) >= per_minute:
                return False
            seen.append(now)
            if len(self._seen) > 50_000:  # forget idle visitors
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - 60}
            return True


def per_minute(channel_settings: dict[str, Any]) -> int:
    value = channel_settings.get("messages_per_minute")
    return value if isinstance(value, int) and value > 0 else DEFAULT_PER_MINUTE


def rate_limited() -> FrameError:
    return FrameError("rate_limited", N_("Too many messages: wait a minute before sending more."))
