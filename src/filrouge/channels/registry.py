"""The explicit lists: channel kinds that can send and their adapters, and kinds that take
provider webhooks and their receivers. No magic discovery."""

from __future__ import annotations

from filrouge.channels.api.adapter import ApiAdapter
from filrouge.channels.base import ChannelAdapter
from filrouge.channels.callback.adapter import CallbackAdapter
from filrouge.channels.chat.adapter import ChatAdapter
from filrouge.channels.email.adapter import EmailAdapter
from filrouge.channels.facebook_comments.adapter import FacebookCommentsAdapter
from filrouge.channels.facebook_comments.receiver import FacebookCommentsReceiver
from filrouge.channels.instagram.adapter import InstagramAdapter
from filrouge.channels.instagram.receiver import InstagramReceiver
from filrouge.channels.manual.adapter import InPersonAdapter, PhoneAdapter, PostalAdapter
from filrouge.channels.messenger.adapter import MessengerAdapter
from filrouge.channels.messenger.receiver import MessengerReceiver
from filrouge.channels.sms.adapter import SmsAdapter
from filrouge.channels.sms.receiver import SmsReceiver
from filrouge.channels.telegram.adapter import TelegramAdapter
from filrouge.channels.telegram.receiver import TelegramReceiver
from filrouge.channels.webhooks import WebhookReceiver
from filrouge.channels.whatsapp.adapter import WhatsAppAdapter
from filrouge.channels.whatsapp.receiver import WhatsAppReceiver
from filrouge.channels.x.adapter import XAdapter
from filrouge.channels.x.receiver import XReceiver

ADAPTERS: dict[str, ChannelAdapter] = {
    adapter.kind: adapter
    for adapter in (
        ApiAdapter(),
        ChatAdapter(),
        EmailAdapter(),
        PhoneAdapter(),
        InPersonAdapter(),
        PostalAdapter(),
        CallbackAdapter(),
        TelegramAdapter(),
        XAdapter(),
        SmsAdapter(),
        FacebookCommentsAdapter(),
        MessengerAdapter(),
        InstagramAdapter(),
        WhatsAppAdapter(),
    )
}

RECEIVERS: dict[str, WebhookReceiver] = {
    receiver.kind: receiver
    for receiver in (
        TelegramReceiver(),
        WhatsAppReceiver(),
        XReceiver(),
        FacebookCommentsReceiver(),
        MessengerReceiver(),
        InstagramReceiver(),
        SmsReceiver(),
    )
}


def adapter_for(kind: str) -> ChannelAdapter | None:
    """The adapter that sends on ``kind``, or None while that channel cannot send yet."""
    return ADAPTERS.get(kind)


def receiver_for(kind: str) -> WebhookReceiver | None:
    """The receiver of ``kind``'s webhooks, or None when that kind takes none."""
    return RECEIVERS.get(kind)
