"""Meta webhooks: the ``hub.mode=subscribe`` handshake answered with ``hub.challenge`` when
``hub.verify_token`` is the channel's ``verify_token``; every delivery signed
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from filrouge.channels.webhooks import (
    HookAnswer,
    HookRequest,
    SignatureError,
    hmac_sha256,
    required_secret,
    same_signature,
)

SIGNATURE_HEADER = "x-hub-signature-256"


def answer_subscription(settings: Mapping[str, Any], request: HookRequest) -> HookAnswer:
    query = request.query
    expected = settings.get("verify_token")
    if query.get("hub.mode") != "subscribe" or not isinstance(expected, str) or not expected:
        return HookAnswer("not a subscription request", status=400)
    if not same_signature(expected, query.get("hub.verify_token")):
        return HookAnswer("wrong verify token", status=403)
    return HookAnswer(str(query.get("hub.challenge", "")))


def verify_meta_signature(settings: Mapping[str, Any], request: HookRequest) -> None:
    secret = required_secret(settings, "app_secret")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given.startswith("sha256="):
        raise SignatureError("no X-Hub-Signature-256 header")
    expected = "sha256=" + hmac_sha256(secret, request.body).hex()
    if not same_signature(expected, given):
        raise SignatureError("X-Hub-Signature-256 does not match the body")
