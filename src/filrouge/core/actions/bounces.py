"""Bounces: a report that a reply could not be delivered fails that reply, visibly.

The report itself is kept in the reply's conversation (it is evidence, and it may say why),
flagged so that it never counts as the customer writing and never reopens anything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select, update
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.events import publish_after_commit
from filrouge.core.models import ChannelAccount, Conversation, Message
from filrouge.core.models.enums import DeliveryStatus, Direction

FAILABLE = (DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


def bounced_replies(
    conn: Connection, workspace_id: int, provider_ids: tuple[str, ...]
) -> list[Row[Any]]:
    """Our outbound messages of this workspace that a bounce names, oldest first."""
    return list(
        conn.execute(
            select(Message.id, Message.conversation_id, Message.status, Conversation.customer_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(ChannelAccount, ChannelAccount.id == Message.channel_id)
            .where(
                Message.provider_message_id.in_(provider_ids),
                Message.direction == Direction.OUTBOUND,
                ChannelAccount.workspace_id == workspace_id,
            )
            .order_by(Message.id)
        )
    )


def fail_bounced(
    session: Session, workspace_id: int, replies: list[Row[Any]], reason: str, actor: Actor
) -> None:
    """Mark each bounced reply failed, with the report's words as the error."""
    for reply in replies:
        if reply.status not in FAILABLE:
            continue
        session.connection().execute(
            update(Message)
            .where(Message.id == reply.id)
            .values(status=DeliveryStatus.FAILED, error=reason[:2000])
        )
        record_event(
            session,
            workspace_id,
            actor,
            ("conversation", reply.conversation_id),
            "message.failed",
            before={"status": str(reply.status)},
            after={"message_id": reply.id, "status": "failed", "error": reason[:500]},
        )
        publish_after_commit(
            session, "message.failed", message_id=reply.id, conversation_id=reply.conversation_id
        )
