"""Twilio's form-encoded webhooks → normalised messages and receipts.

Two callbacks arrive on one URL, told apart by their status: an incoming SMS/MMS
(``SmsStatus=received``: ``From``, ``To``, ``Body``, ``NumMedia`` with ``MediaUrl{n}`` and
``MediaContentType{n}``), and the status of a message we sent (``MessageStatus`` queued … read,
with ``ErrorCode``/``ErrorMessage``). Both are named by ``MessageSid`` (or the older ``SmsSid``).
Settings read: ``phone_number`` (must be the ``To`` of an incoming message) or
``messaging_service_sid`` (a number of that Messaging Service).

Twilio proves the sender's number, so the sender is a *verified* phone; a ``From`` that is not
E.164 (a masked example, an alphanumeric sender, ``whatsapp:…``) is not a number to trust.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from filrouge.channels.base import (
    IncomingAttachment,
    NormalisedInbound,
    Sender,
    StatusUpdate,
    Unsupported,
    WebhookBatch,
)
from filrouge.channels.webhooks import PayloadError
from filrouge.core.models.enums import DeliveryStatus, IdentityKind

Form = dict[str, list[str]]
E164 = re.compile(r"\+[1-9]\d{6,14}")
INBOUND_STATUSES = frozenset({"received", "receiving"})
STATUSES = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
# Words for the codes Twilio sends without an ErrorMessage (its error dictionary).
ERRORS = {
    "21610": "Attempt to send to unsubscribed recipient",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error",
}
MAX_MEDIA = 10  # Twilio's limit per message


def read_form(body: bytes, *, strict: bool = True) -> Form:
    """The posted parameters, blanks kept (Twilio signs them too)."""
    try:
        return parse_qs(
            body.decode(), keep_blank_values=True, strict_parsing=strict, errors="strict"
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"the body is not a form: {exc}") from exc


def first(form: Form, name: str) -> str:
    values = form.get(name)
    return values[0].strip() if values else ""


def message_sid(form: Form) -> str:
    return first(form, "MessageSid") or first(form, "SmsSid")


def callback_kind(form: Form) -> str | None:
    """``message`` (an SMS/MMS received), ``status`` (a receipt), or None: not Twilio's."""
    status = first(form, "MessageStatus") or first(form, "SmsStatus")
    if status in INBOUND_STATUSES or (not status and ("Body" in form or "NumMedia" in form)):
        return "message"
    return "status" if status else None


def read_callback(channel_id: int, settings: Mapping[str, Any], form: Form) -> WebhookBatch:
    if not message_sid(form) or callback_kind(form) is None:
        raise PayloadError("not a message callback of Twilio's (no MessageSid or status)")
    if callback_kind(form) == "status":
        return _status(channel_id, form)
    return _message(channel_id, settings, form)


def _status(channel_id: int, form: Form) -> WebhookBatch:
    status = first(form, "MessageStatus") or first(form, "SmsStatus")
    if status not in STATUSES:
        reason = f"Twilio status {status!r} is not one Filrouge tracks"
        return WebhookBatch(unsupported=[Unsupported(f"status_{status}", reason)])
    update = StatusUpdate(
        channel_id=channel_id,
        provider_message_id=message_sid(form),
        status=STATUSES[status],
        error=_error(form, status) if STATUSES[status] == DeliveryStatus.FAILED else None,
    )
    return WebhookBatch(statuses=[update])


def _error(form: Form, status: str) -> str | None:
    code = first(form, "ErrorCode")
    words = first(form, "ErrorMessage") or ERRORS.get(code, "")
    text = f"{code} {words}".strip()
    return text or ("canceled before it was sent" if status == "canceled" else None)


def _message(channel_id: int, settings: Mapping[str, Any], form: Form) -> WebhookBatch:
    refusal = _not_ours(settings, form) or _untrusted_sender(first(form, "From"))
    if refusal is not None:
        return WebhookBatch(unsupported=[refusal])
    inbound = NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=message_sid(form),
        sender=Sender(IdentityKind.PHONE, first(form, "From"), verified=True),
        text=first(form, "Body"),
        attachments=_attachments(form),
        details=_details(form),
    )
    return WebhookBatch(messages=[inbound])


def _not_ours(settings: Mapping[str, Any], form: Form) -> Unsupported | None:
    """An SMS to another number (or another Messaging Service) is not this channel's."""
    ours, to = _digits(settings.get("phone_number")), first(form, "To")
    service = str(settings.get("messaging_service_sid") or "")
    if (ours and ours == _digits(to)) or (
        service and service == first(form, "MessagingServiceSid")
    ):
        return None
    mine = settings.get("phone_number") or "none set"
    return Unsupported("unknown_number", f"sent to {to}, not to this channel's number ({mine})")


def _untrusted_sender(sender: str) -> Unsupported | None:
    prefix, colon, _ = sender.partition(":")
    if colon:
        return Unsupported(prefix, f"{prefix} messages through Twilio are not SMS")
    if not E164.fullmatch(sender):
        reason = f"{sender!r} is not a phone number in E.164 (masked, short code or a name)"
        return Unsupported("unknown_sender", reason)
    return None


def _attachments(form: Form) -> tuple[IncomingAttachment, ...]:
    try:
        count = min(max(int(first(form, "NumMedia") or 0), 0), MAX_MEDIA)
    except ValueError:
        count = 0
    files = []
    for index in range(count):
        url = first(form, f"MediaUrl{index}")
        kind = first(form, f"MediaContentType{index}") or "application/octet-stream"
        if url:
            files.append(IncomingAttachment(_filename(url, kind), kind, url=url))
    return tuple(files)


def _filename(url: str, kind: str) -> str:
    """The media sid (last part of the URL) with the extension of its type."""
    name = urlsplit(url).path.rstrip("/").rpartition("/")[2] or "media"
    return name + (mimetypes.guess_extension(kind) or "")


def _details(form: Form) -> dict[str, Any] | None:
    opt_out = first(form, "OptOutType")  # STOP / START / HELP, with Advanced Opt-Out
    return {"opt_out": opt_out} if opt_out else None


def _digits(value: Any) -> str:
    return re.sub(r"[^\d+]", "", str(value or ""))
