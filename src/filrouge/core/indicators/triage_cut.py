"""The reports' cut by message type: a conversation counts under the type triage gave (or an
agent corrected) to its first customer message."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import InstrumentedAttribute

from filrouge.core.models import Conversation, Message, MessageTriage
from filrouge.core.models.enums import Direction


def first_message_type_is(
    kind: str, conversation_id: ColumnElement[int] | InstrumentedAttribute[int] | None = None
) -> ColumnElement[bool]:
    """The conversation whose id is ``conversation_id`` (``conversations.id`` by default; the
    reports' facts give theirs) began with a customer message of type ``kind``."""
    conversation = Conversation.id if conversation_id is None else conversation_id
    first = (
        select(Message.id)
        .where(Message.conversation_id == conversation, Message.direction == Direction.INBOUND)
        .order_by(Message.occurred_at, Message.id)
        .limit(1)
        .correlate_except(Message)
        .scalar_subquery()
    )
    return exists().where(MessageTriage.message_id == first, MessageTriage.type == kind)
