"""Reading stored triage for lists: each conversation's latest customer message's triage."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.models import Message, MessageTriage
from filrouge.core.models.enums import Direction


def latest_triage(session: Session, conversation_ids: Sequence[int]) -> dict[int, MessageTriage]:
    """Conversation id → the triage of its latest inbound message (one query for a page)."""
    if not conversation_ids:
        return {}
    latest = (
        select(func.max(Message.id))
        .where(
            Message.conversation_id.in_(conversation_ids),
            Message.direction == Direction.INBOUND,
        )
        .group_by(Message.conversation_id)
    )
    rows = session.execute(
        select(Message.conversation_id, MessageTriage)
        .join(MessageTriage, MessageTriage.message_id == Message.id)
        .where(Message.id.in_(latest))
    )
    return {row.conversation_id: row.MessageTriage for row in rows}
