"""The Messenger Platform's Send API (``POST /<page id>/messages``), shared by Messenger and
Instagram direct messages, and the download of files customers sent.

A message is ``{"recipient": {"id": <PSID or IGSID>}, "messaging_type": "RESPONSE",
"message": {"text": …}}``; within 24 hours of the customer's last message it is a
``RESPONSE``, then up to 7 days a ``MESSAGE_TAG`` with ``tag: HUMAN_AGENT``, never later. A
file is uploaded with the message as multipart form data (``recipient``, ``message`` with
``attachment.payload.is_reusable`` false, and the bytes as ``filedata``). The answer names the
``message_id``. Graph calls and refusals go through ``channels/meta/graph.py`` (settings
``access_token``, ``api_base_url``, ``api_version``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from filrouge.channels.base import DeliveryError, IncomingAttachment, OutboundMessage
from filrouge.channels.meta.graph import graph_call
from filrouge.lib.http import BlockedAddress, send_request
from filrouge.lib.timeutil import as_utc

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
# What some Send API refusals mean, in words an agent understands.
HINTS = {
    10: "Meta refused to deliver outside the messaging window (or without the permission)",
    551: "this person cannot receive messages from the account right now",
}


def window_fields(last_message_at: datetime | None, now: datetime) -> dict[str, str]:
    """``messaging_type`` (and ``tag``) for a reply sent ``now``; raises ``DeliveryError``
    when Meta allows none any more."""
    if last_message_at is None:
        raise DeliveryError(
            "the customer has never written on this channel, and Meta lets a business answer "
            "only people who wrote first",
            permanent=True,
        )
    age = now - as_utc(last_message_at)
    if age < STANDARD_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if age < HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    raise DeliveryError(
        "the customer last wrote more than 7 days ago: Meta lets a person answer only within "
        "7 days of the customer's last message (HUMAN_AGENT tag)",
        permanent=True,
    )


def send_text(
    settings: Mapping[str, Any],
    path: str,
    recipient: Mapping[str, str],
    text: str,
    window: Mapping[str, str],
) -> str | None:
    body = {"recipient": dict(recipient), **window, "message": {"text": text}}
    return _message_id(_call(settings, path, json=body))


def send_file(
    settings: Mapping[str, Any],
    path: str,
    recipient: Mapping[str, str],
    file: IncomingAttachment,
    window: Mapping[str, str],
) -> str | None:
    """One file: its bytes uploaded with the message (or, without bytes, its URL)."""
    if file.content is None:
        payload = {"url": file.url, "is_reusable": False}
        body = {"recipient": dict(recipient), **window, "message": _attachment(file, payload)}
        return _message_id(_call(settings, path, json=body))
    data = {
        "recipient": json.dumps(dict(recipient)),
        **window,
        "message": json.dumps(_attachment(file, {"is_reusable": False})),
    }
    files = {"filedata": (file.filename, file.content, file.content_type)}
    return _message_id(_call(settings, path, data=data, files=files))


def messages_path(settings: Mapping[str, Any], account_setting: str) -> str:
    account = str(settings.get(account_setting) or "").strip()
    return f"{account}/messages" if account else "me/messages"


def send_parts(
    settings: Mapping[str, Any],
    path: str,
    message: OutboundMessage,
    window: Mapping[str, str],
    limit: int,
) -> str | None:
    """The text, then each file, to ``message.recipient``; the first part's id is the reply's."""
    recipient = {"id": message.recipient.value}
    files = [f for f in message.attachments if f.content is not None or f.url]
    parts = split_text(message.text, limit)
    if not parts and not files:
        raise DeliveryError("nothing to send: the reply is empty", permanent=True)
    sent = [send_text(settings, path, recipient, part, window) for part in parts]
    sent += [send_file(settings, path, recipient, file, window) for file in files]
    return next((provider_id for provider_id in sent if provider_id), None)


def attachment_type(content_type: str) -> str:
    """image, video, audio or file: the Send API's attachment types."""
    major = content_type.split("/", 1)[0].lower()
    return major if major in {"image", "video", "audio"} else "file"


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-8 bytes (Instagram counts bytes, and so no
    part passes Messenger's count of characters either), cut at a line or a space."""
    parts, rest = [], text.strip()
    while len(rest.encode()) > limit:
        fit = len(rest.encode()[:limit].decode(errors="ignore"))
        cut = max(rest.rfind("\n", 0, fit), rest.rfind(" ", 0, fit))
        cut = cut if cut > fit // 2 else fit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest] if rest else parts


def download(url: str, limit: int) -> bytes:
    """The bytes at a media URL of a webhook (a signed CDN link: no token is sent, since a
    token must never go to a host that a payload names)."""
    try:
        response = send_request("GET", url)
    except BlockedAddress as exc:
        raise DeliveryError(f"refused to fetch the file: {exc}", permanent=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"the file could not be fetched: {exc}") from exc
    if not response.is_success:
        raise DeliveryError(f"the file could not be fetched (HTTP {response.status_code})")
    if len(response.content) > limit:
        raise DeliveryError("the file is larger than the attachment limit", permanent=True)
    return response.content


def _attachment(file: IncomingAttachment, payload: dict[str, Any]) -> dict[str, Any]:
    return {"attachment": {"type": attachment_type(file.content_type), "payload": payload}}


def _call(settings: Mapping[str, Any], path: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return graph_call(settings, "POST", path, **kwargs)
    except DeliveryError as exc:
        raise _explained(exc) from exc


def _explained(exc: DeliveryError) -> DeliveryError:
    for code, hint in HINTS.items():
        if str(exc).endswith(f"[code {code}]"):
            return DeliveryError(
                f"{hint}: {exc}",
                permanent=exc.permanent,
                retry_after=exc.retry_after,
                reconnect=exc.reconnect,
            )
    return exc


def _message_id(answer: dict[str, Any]) -> str | None:
    found = answer.get("message_id")
    return str(found) if found else None
