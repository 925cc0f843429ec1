"""Messenger replies by the Send API: the text (in parts of 2,000 bytes), then each file
uploaded; within 24 hours of the customer's last message as a ``RESPONSE``, then up to 7 days
with the ``HUMAN_AGENT`` tag, never later. Settings: ``page_id`` (the messages are sent as
``/<page_id>/messages``, else ``/me/messages``) and the Graph settings of ``meta/graph.py``.

Private replies to page comments belong to the ``facebook_comments`` channel."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from filrouge.channels.base import ChannelAdapter, DeliveryError, OutboundMessage
from filrouge.channels.messenger import client
from filrouge.core.models.enums import ChannelKind, IdentityKind
from filrouge.lib.timeutil import utcnow

TEXT_LIMIT = 2000


class MessengerAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.MESSENGER
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.MESSENGER})
    reply_window: ClassVar[timedelta | None] = client.HUMAN_AGENT_WINDOW
    private_replies: ClassVar[bool] = False

    def send(self, message: OutboundMessage) -> str | None:
        if message.recipient.kind != IdentityKind.MESSENGER or not message.recipient.value:
            raise DeliveryError("the customer has no Messenger id to write to", permanent=True)
        window = client.window_fields(message.customer_last_message_at, utcnow())
        settings = message.channel_settings
        path = client.messages_path(settings, "page_id")
        return client.send_parts(settings, path, message, window, TEXT_LIMIT)
