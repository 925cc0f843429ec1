"""The webhook side of a provider channel: how a delivery is checked and read.

A provider (Meta, X, Telegram, Twilio) calls ``/hooks/<kind>/<channel_id>``. The HTTP layer asks
the channel's ``WebhookReceiver`` to answer the provider's handshake (``challenge``), to verify
the signature on the raw body (``verify``) *before anything is stored*, and to check that the
body can be read at all (``check``); the raw delivery is then stored and answered, and read
later (``parse``) into messages, receipts and the parts we do not handle.

A receiver only translates: it never touches the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from filrouge.channels.base import WebhookBatch


class SignatureError(Exception):
    """The delivery is not signed by the provider with this channel's secret."""


class PayloadError(Exception):
    """The body cannot be read as the provider's format (truncated JSON, not a form…)."""


@dataclass(frozen=True)
class HookRequest:
    """What a receiver may look at: the full URL the provider called, headers (lower-case
    names), the raw body and its media type."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str = ""
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HookAnswer:
    """The answer to a handshake (or what a provider expects back instead of JSON)."""

    body: str
    media_type: str = "text/plain"
    status: int = 200


class WebhookReceiver(ABC):
    kind: ClassVar[str]
    # Settings without which the channel cannot check a signature.
    secret_settings: ClassVar[tuple[str, ...]] = ()
    # Providers that send all of one app's events to one URL (Meta: a page's messages and its
    # comments, every WhatsApp number of the app): channels of the same family signed with
    # the same ``app_secret`` each get a copy of the delivery and keep what is theirs.
    app_family: ClassVar[str | None] = None

    def challenge(self, settings: Mapping[str, Any], request: HookRequest) -> HookAnswer | None:
        """Answer the provider's GET handshake; None when this provider has none."""
        return None

    @abstractmethod
    def verify(self, settings: Mapping[str, Any], request: HookRequest) -> None:
        """Raise ``SignatureError`` unless the provider signed ``request`` for this channel."""

    def check(self, request: HookRequest) -> None:
        """Raise ``PayloadError`` when the body cannot be read (the default: a JSON object)."""
        json_object(request.body)

    @abstractmethod
    def parse(
        self, channel_id: int, settings: Mapping[str, Any], request: HookRequest
    ) -> WebhookBatch:
        """Read a stored delivery (already verified and checked)."""

    def fetch_media(self, settings: Mapping[str, Any], url: str, limit: int) -> bytes | None:
        """The bytes of a file the customer sent that the payload only names (a Telegram file
        id, a WhatsApp media id, a Twilio media URL); None when this channel fetches nothing.
        Raises ``DeliveryError`` (from the provider client) when the provider refuses."""
        return None

    def accepted(self) -> HookAnswer | None:
        """What to answer once the delivery is stored; None: the usual JSON."""
        return None


def json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"the body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise PayloadError("the body is not a JSON object")
    return payload


def hmac_sha256(secret: str, data: bytes) -> bytes:
    return hmac.new(secret.encode(), data, hashlib.sha256).digest()


def same_signature(expected: bytes | str, given: str | None) -> bool:
    if not given:
        return False
    expected_text = expected if isinstance(expected, str) else expected.hex()
    return hmac.compare_digest(expected_text.encode(), given.strip().encode())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def required_secret(settings: Mapping[str, Any], name: str) -> str:
    value = settings.get(name)
    if not isinstance(value, str) or not value:
        raise SignatureError(f"the channel has no {name} to check signatures with")
    return value


def from_timestamp(value: Any) -> datetime | None:
    """Seconds (or milliseconds, as X and Meta sometimes send) since the epoch, as UTC."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number > 1e11:  # milliseconds
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None
