"""Telegram replies: text by ``sendMessage``, each file by ``sendPhoto`` or ``sendDocument``
(the text as the first file's caption when it fits)."""

from __future__ import annotations

from typing import ClassVar

from filrouge.channels.base import ChannelAdapter, DeliveryError, OutboundMessage
from filrouge.channels.telegram import client
from filrouge.core.models.enums import ChannelKind, IdentityKind

CAPTION_LIMIT = 1024


class TelegramAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.TELEGRAM
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.TELEGRAM})

    def send(self, message: OutboundMessage) -> str | None:
        if message.recipient.kind != IdentityKind.TELEGRAM or not message.recipient.value:
            raise DeliveryError("the customer has no Telegram chat to write to", permanent=True)
        settings, chat_id = message.channel_settings, message.recipient.value
        files = [f for f in message.attachments if f.content is not None]
        text = message.text.strip()
        sent = []
        if text and (not files or len(text) > CAPTION_LIMIT):
            sent.append(client.send_text(settings, chat_id, text))
            text = ""
        for index, file in enumerate(files):
            sent.append(client.send_file(settings, chat_id, file, text if index == 0 else ""))
        if not sent:
            raise DeliveryError("nothing to send: the reply is empty", permanent=True)
        return f"{chat_id}:{sent[0].get('message_id')}"
