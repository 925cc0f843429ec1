"""SMS replies through Twilio's Messaging API: ``POST …/Accounts/{account_sid}/Messages.json``
with ``To``, ``From`` (setting ``phone_number``) or ``MessagingServiceSid`` (setting
``messaging_service_sid``, preferred when set), ``Body`` and, when the setting
``status_callback_url`` is set, ``StatusCallback`` — so delivery receipts come back.

The provider id is Twilio's ``sid``. A reply longer than Twilio's 1,600 characters fails at
once; files go as ``MediaUrl`` only when they have a public URL (Twilio does not take bytes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from filrouge.channels.base import ChannelAdapter, DeliveryError, OutboundMessage
from filrouge.channels.sms import client
from filrouge.core.models.enums import ChannelKind, IdentityKind

MAX_BODY = 1600


class SmsAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.SMS
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.PHONE})

    def send(self, message: OutboundMessage) -> str | None:
        if message.recipient.kind != IdentityKind.PHONE or not message.recipient.value:
            raise DeliveryError("the customer has no phone number to text", permanent=True)
        settings = message.channel_settings
        form = {
            "To": message.recipient.value,
            **sender_fields(settings),
            **content_fields(message),
            **callback_fields(settings),
        }
        sid = client.create_message(settings, form).get("sid")
        if not isinstance(sid, str) or not sid:
            raise DeliveryError("Twilio accepted the message but named no sid", permanent=True)
        return sid


def sender_fields(settings: Mapping[str, Any]) -> dict[str, str]:
    service, number = settings.get("messaging_service_sid"), settings.get("phone_number")
    if isinstance(service, str) and service:
        return {"MessagingServiceSid": service}
    if isinstance(number, str) and number:
        return {"From": number}
    raise DeliveryError(
        "this SMS channel has no phone_number or messaging_service_sid to send from",
        permanent=True,
    )


def content_fields(message: OutboundMessage) -> dict[str, Any]:
    text = message.text.strip()
    if len(text) > MAX_BODY:
        raise DeliveryError(
            f"an SMS holds at most {MAX_BODY} characters; this reply has {len(text)}",
            permanent=True,
        )
    media = [a.url for a in message.attachments if a.url and a.url.startswith("https://")]
    if len(media) < len(message.attachments):
        raise DeliveryError(
            "an SMS cannot carry these files: Twilio sends only files at a public URL",
            permanent=True,
        )
    if not text and not media:
        raise DeliveryError("nothing to send: the reply is empty", permanent=True)
    return {"Body": text, **({"MediaUrl": media} if media else {})}


def callback_fields(settings: Mapping[str, Any]) -> dict[str, str]:
    url = settings.get("status_callback_url")
    return {"StatusCallback": url} if isinstance(url, str) and url else {}
