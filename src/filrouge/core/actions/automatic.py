"""Messages no person writes: a satisfaction survey, an acknowledgement. They go out like
replies (queued, delivered by the same job, idempotent), but unsigned, flagged ``automatic``,
never in public, never counted as the team's response, and only where free text may go (a
closed WhatsApp or Messenger window is a reason not to send, not an error)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from filrouge.channels.registry import adapter_for
from filrouge.core.actions.deliveries import last_inbound_at
from filrouge.core.actions.replies import last_inbound_on, reply_identity, reply_visibility
from filrouge.core.errors import DomainError
from filrouge.core.events import publish_after_commit
from filrouge.core.models import ChannelAccount, Conversation, Message
from filrouge.core.models.enums import DeliveryStatus, Direction, MessageFlag, Visibility
from filrouge.lib.timeutil import utcnow


@dataclass(frozen=True)
class NotSent:
    """Why an automatic message did not go out (recorded by the caller, shown to no customer)."""

    reason: str  # no_channel, logs_only, public, window_closed, unreachable


def send_automatic(
    session: Session, conversation: Conversation, text: str, purpose: str, **details: Any
) -> Message | NotSent:
    """Queue ``text`` to the customer on the conversation's current channel."""
    channel = session.get(ChannelAccount, conversation.channel_id)
    adapter = None if channel is None or not channel.active else adapter_for(channel.kind)
    if channel is None or adapter is None:
        return NotSent("no_channel")
    if adapter.logs_only:
        return NotSent("logs_only")
    last_inbound = last_inbound_on(session, conversation.id, channel.id)
    if reply_visibility(conversation, last_inbound) == Visibility.PUBLIC:
        return NotSent("public")
    try:
        identity = reply_identity(session, conversation, channel, adapter)
    except DomainError:
        return NotSent("unreachable")
    since = last_inbound_at(session, channel.id, None if identity is None else identity.id)
    now = utcnow()
    if not adapter.window_open(since, now):
        return NotSent("window_closed")
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.OUTBOUND,
        identity_id=None if identity is None else identity.id,
        text=text,
        in_reply_to_id=None if last_inbound is None else last_inbound.id,
        status=DeliveryStatus.QUEUED,
        visibility=Visibility.PRIVATE,
        flag=MessageFlag.AUTOMATIC,
        details={"automatic": purpose, **details},
        occurred_at=now,
    )
    session.add(message)
    session.flush()
    publish_after_commit(session, "message.queued", message_id=message.id)
    return message
