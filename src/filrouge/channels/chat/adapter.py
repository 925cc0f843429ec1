"""Live chat: replies wait in the database and are pushed to the visitor's open widget.

``send`` cannot fail on a provider: the reply is already stored, and the widget reads what
is new on every signal and on every reconnection. It signals the visitor's sockets (in all
server processes, through the realtime bus) and answers ``sent``: stored for pickup.
"""

from __future__ import annotations

from typing import ClassVar

from filrouge.channels.base import ChannelAdapter, DeliveryError, OutboundMessage
from filrouge.channels.chat.hub import HUB
from filrouge.core.models.enums import ChannelKind, IdentityKind


class ChatAdapter(ChannelAdapter):
    kind: ClassVar[str] = ChannelKind.CHAT
    identity_kinds: ClassVar[frozenset[str]] = frozenset({IdentityKind.CHAT_VISITOR})

    def send(self, message: OutboundMessage) -> str | None:
        if message.recipient.kind != IdentityKind.CHAT_VISITOR or not message.recipient.value:
            raise DeliveryError("a chat reply needs a chat visitor to go to", permanent=True)
        HUB.signal_pending(message.recipient.value, message.conversation_id)
        return f"chat-reply-{message.message_id}"
