"""Choosing the conversation an inbound message belongs to.

1. An explicit hint wins: ``in_reply_to`` (an earlier message's provider id, e.g. an email's
   In-Reply-To/References) or the provider's ``thread_key``. A hint to a closed conversation
   starts a follow-up instead of reopening it.
2. Else the customer's latest conversation that is not closed continues, whatever channel it
   was on, if its last activity is within the thread window. A public post only continues a
   public conversation, so that nothing private is ever answered in public by default.
3. Else a new conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.base import NormalisedInbound
from filrouge.core.models import ChannelAccount, Conversation, Message, ThreadKey
from filrouge.core.models.enums import ConversationStatus, Visibility


@dataclass(frozen=True)
class ThreadChoice:
    conversation: Conversation | None
    reason: str  # "in_reply_to", "thread_key", "window" or "new"
    follow_up_of: int | None = None


def choose_conversation(
    session: Session,
    channel: ChannelAccount,
    customer_id: int,
    inbound: NormalisedInbound,
    occurred_at: datetime,
    window: timedelta,
) -> ThreadChoice:
    hinted = _hinted_conversation(session, channel, inbound)
    if hinted is not None:
        conversation, reason = hinted
        if conversation.status != ConversationStatus.CLOSED:
            return ThreadChoice(conversation, reason)
        return ThreadChoice(None, "new", follow_up_of=conversation.id)
    latest = latest_open_conversation(session, customer_id, inbound.visibility)
    if latest is not None and occurred_at - latest.last_activity_at <= window:
        return ThreadChoice(latest, "window")
    return ThreadChoice(None, "new")


def latest_open_conversation(
    session: Session, customer_id: int, visibility: str
) -> Conversation | None:
    query = select(Conversation).where(
        Conversation.customer_id == customer_id,
        Conversation.status != ConversationStatus.CLOSED,
    )
    if visibility == Visibility.PUBLIC:
        query = query.where(Conversation.visibility == Visibility.PUBLIC)
    order = (Conversation.last_activity_at.desc(), Conversation.id.desc())
    return session.scalar(query.order_by(*order).limit(1))


def _hinted_conversation(
    session: Session, channel: ChannelAccount, inbound: NormalisedInbound
) -> tuple[Conversation, str] | None:
    if inbound.in_reply_to:
        conversation_id = session.scalar(
            select(Message.conversation_id)
            .join(ChannelAccount, ChannelAccount.id == Message.channel_id)
            .where(
                Message.provider_message_id.in_(inbound.in_reply_to),
                ChannelAccount.workspace_id == channel.workspace_id,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        if conversation_id is not None:
            return session.get_one(Conversation, conversation_id), "in_reply_to"
    if inbound.thread_key:
        key = find_thread_key(session, channel.id, inbound.thread_key)
        if key is not None:
            return session.get_one(Conversation, key.conversation_id), "thread_key"
    return None


def find_thread_key(session: Session, channel_id: int, key: str) -> ThreadKey | None:
    return session.scalar(
        select(ThreadKey).where(ThreadKey.channel_id == channel_id, ThreadKey.key == key)
    )
