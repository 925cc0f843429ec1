"""A Telegram ``Update`` → normalised messages. Private chats and groups alike: the sender is
the Telegram user (``from``), the thread is the chat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from filrouge.channels.base import (
    IncomingAttachment,
    NormalisedInbound,
    Sender,
    Unsupported,
    WebhookBatch,
)
from filrouge.channels.webhooks import PayloadError, from_timestamp
from filrouge.core.models.enums import IdentityKind

FILE_REF = "telegram-file:"
# Media kinds of a message, and the name given to a file that has none.
MEDIA = {
    "document": "document",
    "audio": "audio.mp3",
    "voice": "voice.ogg",
    "video": "video.mp4",
    "video_note": "video.mp4",
    "animation": "animation.mp4",
    "sticker": "sticker.webp",
}
MEDIA_TYPES = {
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
    "video": "video/mp4",
    "video_note": "video/mp4",
    "animation": "video/mp4",
    "sticker": "image/webp",
}


def read_update(channel_id: int, update: dict[str, Any]) -> WebhookBatch:
    if "update_id" not in update:
        raise PayloadError("a Telegram update has an update_id")
    for key, handler in HANDLERS.items():
        if isinstance(update.get(key), dict):
            return handler(channel_id, update[key])
    kinds = [k for k in update if k != "update_id"] or ["empty"]
    return WebhookBatch(unsupported=[Unsupported(kinds[0], "not a message Filrouge handles")])


def _message(channel_id: int, message: dict[str, Any]) -> WebhookBatch:
    return WebhookBatch(messages=[_normalised(channel_id, message, edited=False)])


def _edited(channel_id: int, message: dict[str, Any]) -> WebhookBatch:
    return WebhookBatch(messages=[_normalised(channel_id, message, edited=True)])


def _normalised(channel_id: int, message: dict[str, Any], edited: bool) -> NormalisedInbound:
    chat = message.get("chat") or {}
    author = message.get("from") or chat
    if "id" not in chat or "message_id" not in message or "id" not in author:
        raise PayloadError("a Telegram message names its chat, its id and its sender")
    provider_id = f"{chat['id']}:{message['message_id']}"
    when = from_timestamp(message.get("date"))
    if edited:
        provider_id += f":edited:{message.get('edit_date', '')}"
        when = from_timestamp(message.get("edit_date")) or when
    text = str(message.get("text") or message.get("caption") or "")
    return NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=provider_id,
        sender=_sender(author),
        text=text or _describe(message),
        attachments=_attachments(message),
        thread_key=f"telegram-chat:{chat['id']}",
        occurred_at=when,
        details=_details(message, edited),
    )


def _sender(author: dict[str, Any]) -> Sender:
    name = " ".join(str(author[k]) for k in ("first_name", "last_name") if author.get(k))
    attributes = {"handle": f"@{author['username']}"} if author.get("username") else {}
    return Sender(
        IdentityKind.TELEGRAM,
        str(author["id"]),
        name or author.get("title") or None,
        verified=False,
        attributes=attributes,
    )


def _attachments(message: dict[str, Any]) -> tuple[IncomingAttachment, ...]:
    files = []
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        largest = max(photos, key=lambda p: p.get("file_size") or p.get("width") or 0)
        files.append(IncomingAttachment("photo.jpg", "image/jpeg", url=_ref(largest)))
    for key, default_name in MEDIA.items():
        media = message.get(key)
        if isinstance(media, dict) and media.get("file_id"):
            name = str(media.get("file_name") or default_name)
            kind = str(media.get("mime_type") or MEDIA_TYPES.get(key, "application/octet-stream"))
            files.append(IncomingAttachment(name, kind, url=_ref(media)))
    return tuple(files)


def _ref(media: dict[str, Any]) -> str:
    return f"{FILE_REF}{media['file_id']}"


def _describe(message: dict[str, Any]) -> str:
    """Words for a message without text (a location, a contact card…)."""
    if isinstance(message.get("location"), dict):
        where = message["location"]
        return f"📍 {where.get('latitude')}, {where.get('longitude')}"
    if isinstance(message.get("contact"), dict):
        contact = message["contact"]
        return f"👤 {contact.get('first_name', '')} {contact.get('phone_number', '')}".strip()
    return ""


def _details(message: dict[str, Any], edited: bool) -> dict[str, Any] | None:
    details: dict[str, Any] = {}
    if edited:
        details["edited"] = True
    if "forward_from" in message or "forward_from_chat" in message or "forward_origin" in message:
        details["forwarded"] = True
    replied = message.get("reply_to_message")
    if isinstance(replied, dict) and "message_id" in replied:
        details["reply_to"] = replied["message_id"]
    if isinstance(message.get("location"), dict):
        details["location"] = message["location"]
    return details or None


HANDLERS: dict[str, Callable[[int, dict[str, Any]], WebhookBatch]] = {
    "message": _message,
    "edited_message": _edited,
    "business_message": _message,
}
