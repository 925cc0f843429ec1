"""Generic API channel.

Inbound: ``POST /api/v1/inbound`` (the web layer parses it into ``NormalisedInbound``).
Outbound: each reply is POSTed as JSON to the channel's ``settings.outbound_url``, signed with
``X-Filrouge-Signature: sha256=<hex HMAC-SHA256(settings.outbound_secret, raw body)>``; the
receiver answers 2xx, optionally with ``{"id": "<its message id>"}``. The reply's files come in
``attachments``: ``{"filename", "content_type", "size", "sha256", "content_base64"}`` each (or
``{"filename", "content_type", "url"}`` for a file kept elsewhere); the signature covers them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import ClassVar

import httpx

from filrouge.channels.base import (
    ChannelAdapter,
    DeliveryError,
    IncomingAttachment,
    OutboundMessage,
)
from filrouge.core.models.enums import ChannelKind, IdentityKind
from filrouge.lib.http import BlockedAddress, json_bytes, post_json


class ApiAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.API
    identity_kinds: ClassVar[frozenset[str]] = frozenset(IdentityKind)

    def send(self, message: OutboundMessage) -> str | None:
        url = message.channel_settings.get("outbound_url")
        if not url:
            raise DeliveryError("this API channel has no outbound_url", permanent=True)
        body = json_bytes(outbound_payload(message))
        headers = signature_headers(body, message.channel_settings.get("outbound_secret"))
        try:
            response = post_json(str(url), body, headers)
        except BlockedAddress as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"outbound_url unreachable: {exc.__class__.__name__}") from exc
        return _provider_id(response)


def outbound_payload(message: OutboundMessage) -> dict[str, object]:
    return {
        "message_id": message.message_id,
        "conversation_id": message.conversation_id,
        "recipient": {"kind": message.recipient.kind, "value": message.recipient.value},
        "text": message.text,
        "visibility": str(message.visibility),
        "in_reply_to": message.in_reply_to,
        "attachments": [_attachment_payload(a) for a in message.attachments],
    }


def _attachment_payload(attachment: IncomingAttachment) -> dict[str, object]:
    payload: dict[str, object] = {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
    }
    if attachment.content is None:
        payload["url"] = attachment.url
        return payload
    payload["size"] = len(attachment.content)
    payload["sha256"] = hashlib.sha256(attachment.content).hexdigest()
    payload["content_base64"] = base64.b64encode(attachment.content).decode("ascii")
    return payload


def signature_headers(body: bytes, secret: object) -> dict[str, str]:
    if not secret:
        return {}
    digest = hmac.new(str(secret).encode(), body, hashlib.sha256).hexdigest()
    return {"X-Filrouge-Signature": f"sha256={digest}"}


def _provider_id(response: httpx.Response) -> str | None:
    status = response.status_code
    if status >= 500 or status == 429:
        raise DeliveryError(f"outbound_url answered {status}")
    if not 200 <= status < 300:  # a redirect is a misconfigured URL, not a delivery
        raise DeliveryError(f"outbound_url answered {status}", permanent=True)
    try:
        data = response.json()
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return None if value is None else str(value)
