"""The WhatsApp Cloud API, as far as Filrouge uses it, all through Meta's Graph API
(``channels/meta/graph.py``: the token in the ``Authorization`` header, Meta's refusals read
once for every Meta channel):

- ``POST /<phone_number_id>/messages`` with ``messaging_product: whatsapp`` sends a message and
  answers ``{"messages": [{"id": "wamid…"}]}``;
- ``POST /<phone_number_id>/media`` (multipart: ``messaging_product``, ``type``, ``file``)
  uploads a file and answers its media ``id``;
- ``GET /<media id>`` answers the media's ``url`` (and ``file_size``), downloaded with the token.

Settings: ``phone_number_id``, ``access_token``, ``api_base_url``, ``api_version``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from filrouge.channels.base import DeliveryError, IncomingAttachment
from filrouge.channels.meta.graph import graph_call, graph_download


def send_message(settings: Mapping[str, Any], to: str, payload: dict[str, Any]) -> str:
    """Send one message (``payload`` names its ``type`` and body); return its ``wamid``."""
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **payload}
    answer = graph_call(settings, "POST", f"{phone_number_id(settings)}/messages", json=body)
    messages = answer.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else None
    if not isinstance(first, dict) or not first.get("id"):
        raise DeliveryError(f"WhatsApp answered without a message id: {answer!r:.200}")
    return str(first["id"])


def upload_media(settings: Mapping[str, Any], file: IncomingAttachment) -> str:
    """Upload a file's bytes; return the media id to send it by."""
    answer = graph_call(
        settings,
        "POST",
        f"{phone_number_id(settings)}/media",
        data={"messaging_product": "whatsapp", "type": file.content_type},
        files={"file": (file.filename, file.content or b"", file.content_type)},
    )
    if not answer.get("id"):
        raise DeliveryError(f"WhatsApp answered the upload without a media id: {answer!r:.200}")
    return str(answer["id"])


def download_media(settings: Mapping[str, Any], media_id: str, limit: int) -> bytes:
    """The bytes of a file a customer sent (its URL first, then the file, with the token)."""
    if not media_id or not all(c.isalnum() or c in "._-" for c in media_id):
        raise DeliveryError("not a WhatsApp media id", permanent=True)
    found = graph_call(settings, "GET", media_id)
    url = found.get("url")
    if not isinstance(url, str) or not url:
        raise DeliveryError("WhatsApp gave no URL for this media", permanent=True)
    if int(found.get("file_size") or 0) > limit:
        raise DeliveryError("the file is larger than the attachment limit", permanent=True)
    return graph_download(settings, url, limit)


def phone_number_id(settings: Mapping[str, Any]) -> str:
    number = settings.get("phone_number_id")
    if not isinstance(number, str | int) or not str(number).strip():
        raise DeliveryError("this WhatsApp channel has no phone_number_id", permanent=True)
    return str(number).strip()
