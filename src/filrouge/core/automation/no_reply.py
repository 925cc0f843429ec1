"""Conversations left unanswered: the customer wrote last, more than a rule's hours ago.

The sweeper asks for them every few minutes. Each rule looks at each unanswered message once
(a run recorded after the message means it was seen), so the same candidates are not read
again and again; a reply, then a new message from the customer, makes a new occurrence.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session

from filrouge.core.automation.engine import NO_REPLY_HOURS, Occurrence, Trigger
from filrouge.core.models import AutomationRule, AutomationRun, Conversation, Message
from filrouge.core.models.enums import ConversationStatus, DeliveryStatus, Direction

LOOKBACK = timedelta(days=7)  # a message older than this past its rule's hours is let go
PER_RULE = 500  # candidates read per rule and sweep
NOT_A_REPLY = (DeliveryStatus.REJECTED, DeliveryStatus.FAILED, DeliveryStatus.AWAITING_APPROVAL)


def no_reply_key(last_inbound_at: datetime) -> str:
    return f"no_reply:{int(last_inbound_at.timestamp())}"


def no_reply_occurrences(session: Session, now: datetime) -> list[Occurrence]:
    """Every conversation that an active no_reply rule has not yet looked at for its
    customer's last message, now that the rule's hours have passed."""
    rules = session.scalars(
        select(AutomationRule).where(
            AutomationRule.trigger == Trigger.NO_REPLY, AutomationRule.active
        )
    )
    found: dict[int, Occurrence] = {}
    for rule in rules:
        for conversation_id, last in session.execute(_candidates(rule, now)):
            if last is not None:
                found[conversation_id] = Occurrence(conversation_id, no_reply_key(last))
    return list(found.values())


def _candidates(rule: AutomationRule, now: datetime) -> Select[tuple[int, datetime | None]]:
    due = now - timedelta(hours=rule.hours or NO_REPLY_HOURS)
    answered = exists().where(
        Message.conversation_id == Conversation.id,
        Message.direction == Direction.OUTBOUND,
        Message.flag.is_(None),  # an automatic acknowledgement is not an answer
        Message.status.not_in(NOT_A_REPLY),
        Message.occurred_at >= Conversation.last_inbound_at,
    )
    seen = exists().where(
        and_(
            AutomationRun.rule_id == rule.id,
            AutomationRun.conversation_id == Conversation.id,
            AutomationRun.ran_at >= Conversation.last_inbound_at,
        )
    )
    return (
        select(Conversation.id, Conversation.last_inbound_at)
        .where(
            Conversation.workspace_id == rule.workspace_id,
            Conversation.status.not_in((ConversationStatus.RESOLVED, ConversationStatus.CLOSED)),
            Conversation.last_inbound_at <= due,
            Conversation.last_inbound_at > due - LOOKBACK,
            ~answered,
            ~seen,
        )
        .order_by(Conversation.last_inbound_at)
        .limit(PER_RULE)
    )
