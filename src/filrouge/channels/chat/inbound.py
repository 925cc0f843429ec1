"""What a visitor sends → ``NormalisedInbound``. The visitor id is the thread key, so a chat
goes on in one conversation across pages and visits; text stays text (HTML is never taken)."""

from __future__ import annotations

from filrouge.channels.base import IncomingAttachment, NormalisedInbound, Sender
from filrouge.core.models.enums import IdentityKind


def visitor_message(
    channel_id: int,
    visitor_id: str,
    text: str,
    client_id: str | None,
    name: str | None = None,
    attachments: tuple[IncomingAttachment, ...] = (),
) -> NormalisedInbound:
    """``client_id`` (the widget's id for the message) makes a resend after a lost connection
    a duplicate rather than a second message."""
    return NormalisedInbound(
        channel_id=channel_id,
        provider_message_id=f"chat:{visitor_id}:{client_id}" if client_id else None,
        # The token proves the visitor id: the identity is as verified as a chat one can be.
        sender=Sender(IdentityKind.CHAT_VISITOR, visitor_id, name=name or None, verified=True),
        text=text,
        attachments=attachments,
        thread_key=visitor_id,
    )
