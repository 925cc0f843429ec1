"""The reports' cut by message type: a conversation counts under the type triage gave (or an
agent corrected) to its first customer message."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select

from filrouge.core.models import Conversation, Message, MessageTriage
from filrouge.core.models.enums import Direction


def first_message_type_is(kind: str) -> ColumnElement[bool]:
    first = (
        select(Message.id)
        .where(Message.conversation_id == Conversation.id, Message.direction == Direction.INBOUND)
        .order_by(Message.occurred_at, Message.id)
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    return exists().where(MessageTriage.message_id == first, MessageTriage.type == kind)
