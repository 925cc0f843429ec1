"""A WhatsApp Cloud API webhook → normalised messages, receipts and what Filrouge leaves aside.

The body is ``{"object": "whatsapp_business_account", "entry": [{"id": <WABA id>, "changes":
[{"field", "value"}]}]}``. A ``messages`` change carries ``value.metadata.phone_number_id``
(it must be the channel's ``phone_number_id`` setting, else ``unknown_phone_number``),
``contacts`` (``wa_id`` and ``profile.name``), ``messages``, ``statuses`` (receipts of our
messages) and ``errors``. ``smb_message_echoes`` are messages sent from the WhatsApp Business
app on the number: our own echoes. Every other field (account_update, message_template_*,
calls, user_preferences, flows…) is kept as unsupported under its field name.

A sender is ``+<wa_id>`` (E.164): WhatsApp has proved the number, so it is verified. A
``system`` message (a number or an identity changed) is flagged ``system``: no person wrote it,
so it never wakes a conversation up; a new number is named as the sender's alias.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from filrouge.channels.base import (
    NormalisedInbound,
    Sender,
    StatusUpdate,
    Unsupported,
    WebhookBatch,
)
from filrouge.channels.webhooks import PayloadError, from_timestamp
from filrouge.channels.whatsapp.content import Content, describe_errors, read_content
from filrouge.core.errors import Invalid
from filrouge.core.identity import normalise_identity
from filrouge.core.models.enums import DeliveryStatus, IdentityKind

OBJECT = "whatsapp_business_account"
STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,  # a voice note listened to: read, and more
    "failed": DeliveryStatus.FAILED,
}


def read_payload(
    channel_id: int, phone_number_id: str | None, payload: dict[str, Any]
) -> WebhookBatch:
    """Read one webhook body for the channel whose number is ``phone_number_id``."""
    entries = payload.get("entry")
    if "object" not in payload or not isinstance(entries, list):
        raise PayloadError("a WhatsApp webhook names its object and lists its entries")
    if payload["object"] != OBJECT:
        why = "not a WhatsApp Business Account update"
        return WebhookBatch(unsupported=[Unsupported(str(payload["object"]), why)])
    batch = WebhookBatch()
    for change in (c for entry in entries for c in _list(entry, "changes")):
        batch.extend(_read_change(channel_id, phone_number_id, change))
    if not (batch.messages or batch.statuses or batch.unsupported):
        batch.unsupported.append(Unsupported("empty", "a WhatsApp webhook without changes"))
    return batch


def _read_change(
    channel_id: int, phone_number_id: str | None, change: dict[str, Any]
) -> WebhookBatch:
    field = str(change.get("field") or "unknown")
    value = _dict(change, "value")
    reader = FIELDS.get(field)
    if reader is None:
        return _unsupported(field, _not_handled(value))
    number = _dict(value, "metadata").get("phone_number_id")
    if not phone_number_id or str(number) != str(phone_number_id):
        why = f"an update for the phone number id {number}, not this channel's"
        return _unsupported("unknown_phone_number", why)
    return reader(channel_id, value)


def _messages_change(channel_id: int, value: dict[str, Any]) -> WebhookBatch:
    contacts = {str(c.get("wa_id")): c for c in _list(value, "contacts")}
    errors = _list(value, "errors")
    batch = WebhookBatch()
    for message in _list(value, "messages"):
        batch.extend(_read_message(channel_id, message, contacts, errors))
    for status in _list(value, "statuses"):
        batch.extend(_read_status(channel_id, status))
    if not (batch.messages or batch.statuses or batch.unsupported):
        reason = describe_errors(errors) or "neither messages nor statuses"
        batch.unsupported.append(Unsupported("errors" if errors else "messages", reason))
    return batch


def _read_message(
    channel_id: int, message: dict[str, Any], contacts: dict[str, Any], errors: list[Any]
) -> WebhookBatch:
    content = read_content(message, errors)
    if isinstance(content, Unsupported):
        return WebhookBatch(unsupported=[content])
    wa_id = _sender_id(message, contacts)
    if wa_id is None or not message.get("id"):
        return _unsupported("message", "a message without its id or its sender's number")
    inbound = _normalised(channel_id, message, content, wa_id, contacts.get(wa_id) or {})
    return WebhookBatch(messages=[inbound])


def _normalised(
    channel_id: int,
    message: dict[str, Any],
    content: Content,
    wa_id: str,
    contact: dict[str, Any],
) -> NormalisedInbound:
    context = _dict(message, "context")
    replied = (str(context["id"]),) if context.get("id") else ()
    return NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=str(message["id"]),
        sender=_sender(wa_id, contact),
        text=content.text,
        attachments=content.attachments,
        in_reply_to=tuple(dict.fromkeys((*replied, *content.refers_to))),
        occurred_at=from_timestamp(message.get("timestamp")),
        details=_details(message, context, content) or None,
        flag=content.flag,
        sender_aliases=_new_number(content),
    )


def _new_number(content: Content) -> tuple[Sender, ...]:
    """The number a customer moved to, verified like any WhatsApp number (when it is one)."""
    number = content.details.get("new_number")
    if not isinstance(number, str):
        return ()
    try:
        value = normalise_identity(IdentityKind.WHATSAPP, number, "ZZ")
    except Invalid:
        return ()
    return (Sender(IdentityKind.WHATSAPP, value, verified=True),)


def _sender_id(message: dict[str, Any], contacts: dict[str, Any]) -> str | None:
    """The customer's number: ``from``, else the one contact WhatsApp named."""
    given = str(message.get("from") or "")
    if given.isdigit():
        return given
    numbers = [wa_id for wa_id in contacts if wa_id.isdigit()]
    return numbers[0] if len(numbers) == 1 else None


def _sender(wa_id: str, contact: dict[str, Any]) -> Sender:
    profile = _dict(contact, "profile")
    name = profile.get("name")
    username = profile.get("username")
    attributes = {"handle": str(username)} if username else {}
    return Sender(
        IdentityKind.WHATSAPP,
        f"+{wa_id}",
        str(name) if name else None,
        verified=True,
        attributes=attributes,
    )


def _details(message: dict[str, Any], context: dict[str, Any], content: Content) -> dict[str, Any]:
    details = dict(content.details)
    if context.get("forwarded") or context.get("frequently_forwarded"):
        details["forwarded"] = True
    if context.get("frequently_forwarded"):
        details["frequently_forwarded"] = True
    if isinstance(message.get("referral"), dict):
        details["referral"] = message["referral"]
    return details


def _read_status(channel_id: int, status: dict[str, Any]) -> WebhookBatch:
    name = str(status.get("status") or "").lower()
    state = STATUSES.get(name)
    if state is None or not status.get("id"):
        return _unsupported(f"status_{name or 'unknown'}", "a receipt Filrouge does not track")
    errors = _list(status, "errors")
    error = (describe_errors(errors) or None) if state == DeliveryStatus.FAILED else None
    update = StatusUpdate(
        channel_id, str(status["id"]), state, from_timestamp(status.get("timestamp")), error
    )
    return WebhookBatch(statuses=[update])


def _echoes(channel_id: int, value: dict[str, Any]) -> WebhookBatch:
    return _unsupported("echo", "sent from the WhatsApp Business app on this number")


def _not_handled(value: dict[str, Any]) -> str:
    event = value.get("event")
    suffix = f" ({event})" if isinstance(event, str) and event else ""
    return f"a WhatsApp update that is not a customer's message{suffix}"


def _unsupported(event_type: str, reason: str) -> WebhookBatch:
    return WebhookBatch(unsupported=[Unsupported(event_type, reason)])


def _list(parent: Any, key: str) -> list[dict[str, Any]]:
    items = parent.get(key) if isinstance(parent, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _dict(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


FIELDS: dict[str, Callable[[int, dict[str, Any]], WebhookBatch]] = {
    "messages": _messages_change,
    "smb_message_echoes": _echoes,
}
