"""WhatsApp replies by the Cloud API (``client.py``): text, files (uploaded, then sent by media
id with the text as the first one's caption when it fits), a quoted ``context`` when the reply
answers a message, and templates.

WhatsApp's rule: free messages only within 24 hours of the customer's last message; after
that, only an approved template (``options["template"]``: ``{"name", "language",
"parameters"}``, the parameters filling the template's body in order).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from filrouge.channels.base import (
    ChannelAdapter,
    DeliveryError,
    IncomingAttachment,
    OutboundMessage,
)
from filrouge.channels.whatsapp import client
from filrouge.core.models.enums import ChannelKind, IdentityKind
from filrouge.lib.timeutil import utcnow

CAPTION_LIMIT = 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp"})
WINDOW_CLOSED = "the 24-hour window is closed: send a template"
FILES_NEED_WINDOW = (
    "the 24-hour window is closed: only a template can be sent, files must wait for the "
    "customer's answer"
)

# A file to send: its WhatsApp kind, its uploaded media id, its name.
Media = tuple[str, str, str]


class WhatsAppAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.WHATSAPP
    identity_kinds: ClassVar[frozenset[str]] = frozenset(
        {IdentityKind.WHATSAPP, IdentityKind.PHONE}
    )
    reply_window: ClassVar[timedelta | None] = timedelta(hours=24)

    def send(self, message: OutboundMessage) -> str | None:
        to = recipient_number(message)
        payloads = self._payloads(message)
        if not payloads:
            raise DeliveryError("nothing to send: the reply is empty", permanent=True)
        context = {"context": {"message_id": message.in_reply_to}} if message.in_reply_to else {}
        settings = message.channel_settings
        sent = [client.send_message(settings, to, {**p, **context}) for p in payloads]
        return sent[0]

    def _payloads(self, message: OutboundMessage) -> list[dict[str, Any]]:
        """The messages to send, files uploaded first (so that a failed upload sends nothing)."""
        template = message.options.get("template")
        files = [f for f in message.attachments if f.content is not None]
        self._check_window(message, template is not None, bool(files))
        settings = message.channel_settings
        media = [(media_kind(f), client.upload_media(settings, f), f.filename) for f in files]
        if template is not None:
            return [template_payload(template), *media_payloads(media, "")]
        return text_and_media(message.text.strip(), media)

    def _check_window(self, message: OutboundMessage, template: bool, files: bool) -> None:
        """Outside the window only a template goes out, and it goes alone."""
        if self.window_open(message.customer_last_message_at, utcnow()):
            return
        if not template:
            raise DeliveryError(WINDOW_CLOSED, permanent=True)
        if files:
            raise DeliveryError(FILES_NEED_WINDOW, permanent=True)


def recipient_number(message: OutboundMessage) -> str:
    """The customer's number as WhatsApp wants it: digits only, country code first."""
    recipient = message.recipient
    digits = "".join(c for c in recipient.value if c.isdigit())
    if recipient.kind not in WhatsAppAdapter.identity_kinds or not digits:
        raise DeliveryError("the customer has no WhatsApp number to write to", permanent=True)
    return digits


def media_kind(file: IncomingAttachment) -> str:
    """How WhatsApp sends a file: images and videos it plays, audio, else a document."""
    content_type = file.content_type.split(";")[0].strip().lower()
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type in VIDEO_TYPES:
        return "video"
    if content_type.startswith("audio/"):
        return "audio"
    return "document"


def text_and_media(text: str, media: list[Media]) -> list[dict[str, Any]]:
    """The text as the first file's caption when it can be one, else a message of its own."""
    captioned = bool(media) and media[0][0] != "audio" and len(text) <= CAPTION_LIMIT
    if not text or captioned:
        return media_payloads(media, text)
    return [text_payload(text), *media_payloads(media, "")]


def text_payload(text: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": text, "preview_url": False}}


def media_payloads(media: list[Media], caption: str) -> list[dict[str, Any]]:
    payloads = []
    for index, (kind, media_id, filename) in enumerate(media):
        body: dict[str, Any] = {"id": media_id}
        if index == 0 and caption:
            body["caption"] = caption
        if kind == "document":
            body["filename"] = filename
        payloads.append({"type": kind, kind: body})
    return payloads


def template_payload(template: Any) -> dict[str, Any]:
    """``{"name", "language", "parameters"}`` → a template message with a body component."""
    if not isinstance(template, Mapping):
        raise DeliveryError("the template must name its name and language", permanent=True)
    name, language = template.get("name"), template.get("language")
    if not isinstance(name, str) or not name or not isinstance(language, str) or not language:
        raise DeliveryError("the template must name its name and language", permanent=True)
    body: dict[str, Any] = {"name": name, "language": {"code": language}}
    parameters = template.get("parameters") or []
    if not isinstance(parameters, list):
        raise DeliveryError("the template's parameters must be a list", permanent=True)
    if parameters:
        values = [{"type": "text", "text": str(p)} for p in parameters]
        body["components"] = [{"type": "body", "parameters": values}]
    return {"type": "template", "template": body}
