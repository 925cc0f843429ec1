"""Visitor tokens: ``v1.<channel>.<visitor>.<issued>.<signature>``, signed with HMAC-SHA256.

The token is the visitor's only credential: whoever holds it reads and continues that
visitor's chat. It is kept in the site's localStorage and renewed on every connection, so a
visitor who comes back within ``LIFETIME`` keeps the same conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from filrouge.lib.keys import installation_key
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings

LIFETIME = timedelta(days=180)
VERSION = "v1"
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_visitor_id() -> str:
    return secrets.token_urlsafe(18)


def issue_token(key: bytes, channel_id: int, visitor_id: str, now: datetime | None = None) -> str:
    issued = int((now or utcnow()).timestamp())
    payload = f"{VERSION}.{channel_id}.{visitor_id}.{issued}"
    return f"{payload}.{_sign(key, payload)}"


def read_token(
    key: bytes, channel_id: int, token: object, now: datetime | None = None
) -> str | None:
    """The visitor id in ``token``, or None if it is forged, expired or for another channel."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    payload, _, signature = token.rpartition(".")
    if not hmac.compare_digest(_sign(key, payload).encode(), signature.encode()):
        return None
    version, channel, visitor_id, issued = [*payload.split("."), "", "", ""][:4]
    if version != VERSION or channel != str(channel_id) or not _VISITOR_ID.match(visitor_id):
        return None
    if not issued.isdigit():
        return None
    age = (now or utcnow()).timestamp() - int(issued)
    return visitor_id if -300 <= age <= LIFETIME.total_seconds() else None


def _sign(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signing_key(settings: Settings) -> bytes:
    """The installation's key (``lib/keys.py``)."""
    return installation_key(settings)
