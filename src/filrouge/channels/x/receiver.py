"""X Account Activity API webhooks.

- The CRC challenge: X calls ``GET ?crc_token=T`` (with a ``nonce``) when the webhook is
  registered and then every hour; the answer is the JSON
  ``{"response_token": "sha256=" + base64(HMAC-SHA256(consumer_secret, T))}``.
- Every delivery is signed ``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256 of the
  raw body with the consumer secret>``.

Settings: ``consumer_secret`` (the X app's API secret), ``user_id`` (the subscribed account),
and for the photos and videos of tweets ``media_base_url`` (see ``client.download_media``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from filrouge.channels.base import WebhookBatch
from filrouge.channels.webhooks import (
    HookAnswer,
    HookRequest,
    SignatureError,
    WebhookReceiver,
    b64,
    hmac_sha256,
    json_object,
    required_secret,
    same_signature,
)
from filrouge.channels.x.client import download_media
from filrouge.channels.x.inbound import read_activity
from filrouge.core.models.enums import ChannelKind

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
JSON = "application/json"


def signature(secret: str, data: bytes) -> str:
    """X's form of an HMAC: ``sha256=`` and the digest in base64."""
    return "sha256=" + b64(hmac_sha256(secret, data))


class XReceiver(WebhookReceiver):
    kind: ClassVar[str] = ChannelKind.X
    secret_settings: ClassVar[tuple[str, ...]] = ("consumer_secret",)

    def challenge(self, settings: Mapping[str, Any], request: HookRequest) -> HookAnswer:
        """Answer X's CRC: proof that this URL holds the app's consumer secret."""
        token = request.query.get("crc_token")
        if not token:
            return _json_answer({"error": "crc_token is missing"}, 400)
        secret = settings.get("consumer_secret")
        if not isinstance(secret, str) or not secret:
            return _json_answer({"error": "this channel has no consumer_secret yet"}, 403)
        return _json_answer({"response_token": signature(secret, token.encode())})

    def verify(self, settings: Mapping[str, Any], request: HookRequest) -> None:
        secret = required_secret(settings, "consumer_secret")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given.startswith("sha256="):
            raise SignatureError("no x-twitter-webhooks-signature header")
        if not same_signature(signature(secret, request.body), given):
            raise SignatureError("x-twitter-webhooks-signature does not match the body")

    def fetch_media(self, settings: Mapping[str, Any], url: str, limit: int) -> bytes | None:
        return download_media(settings, url, limit)

    def parse(
        self, channel_id: int, settings: Mapping[str, Any], request: HookRequest
    ) -> WebhookBatch:
        return read_activity(channel_id, settings, json_object(request.body))


def _json_answer(body: dict[str, str], status: int = 200) -> HookAnswer:
    return HookAnswer(json.dumps(body, separators=(",", ":")), media_type=JSON, status=status)
