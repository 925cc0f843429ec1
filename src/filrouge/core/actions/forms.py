"""Public forms: how often one address may post, and the acknowledgement sent to the customer.

The acknowledgement is a real outbound message (on the email channel the form names), so the
customer's answer to it threads back into the same conversation. It is flagged ``auto_reply``:
it is not a response from the team and never counts as one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.channels.registry import adapter_for
from filrouge.core.actions.replies import reply_identity
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import DomainError, TooMany
from filrouge.core.events import publish_after_commit
from filrouge.core.models import ChannelAccount, Conversation, FormSubmission, Message
from filrouge.core.models.enums import DeliveryStatus, Direction, MessageFlag, Visibility
from filrouge.lib.timeutil import utcnow

POSTS_PER_WINDOW = 5
WINDOW = timedelta(minutes=10)


def check_and_count_post(session: Session, channel_id: int, ip: str) -> None:
    """Refuse a sixth post from one address within ten minutes; else count this one."""
    now = utcnow()
    recent = session.scalar(
        select(func.count()).where(
            FormSubmission.channel_id == channel_id,
            FormSubmission.ip == ip,
            FormSubmission.at > now - WINDOW,
        )
    )
    if (recent or 0) >= POSTS_PER_WINDOW:
        raise TooMany(
            "too_many_posts",
            "Too many messages from your connection; please try again in a few minutes.",
        )
    session.add(FormSubmission(channel_id=channel_id, ip=ip[:64], at=now))


def acknowledge(
    session: Session, conversation: Conversation, channel: ChannelAccount, text: str
) -> Message | None:
    """Queue ``text`` to the customer on ``channel``; None when that channel cannot reach them."""
    adapter = adapter_for(channel.kind)
    if adapter is None or adapter.logs_only or not channel.active:
        return None
    try:
        identity = reply_identity(session, conversation, channel, adapter)
    except DomainError:
        return None
    if identity is None:
        return None
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.OUTBOUND,
        identity_id=identity.id,
        text=text,
        status=DeliveryStatus.QUEUED,
        visibility=Visibility.PRIVATE,
        flag=MessageFlag.AUTO_REPLY,
        occurred_at=utcnow(),
    )
    session.add(message)
    session.flush()
    record_event(
        session,
        conversation.workspace_id,
        Actor.system(),
        ("conversation", conversation.id),
        "acknowledgement.queued",
        after={"message_id": message.id, "channel_id": channel.id},
    )
    publish_after_commit(session, "message.queued", message_id=message.id)
    return message
