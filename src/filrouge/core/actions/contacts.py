"""Contacts logged by hand: a phone call, a visit to a store, a letter — so that the customer's
history is complete even where no system saw the conversation.

A logged contact is a message of a ``phone``, ``in_person`` or ``postal`` channel in one of the
customer's conversations (the one given, else a new one), written by the customer (``inbound``:
they called, came, wrote) or by us (``outbound``: we called, wrote), with its details (duration,
store, outcome) and the agent who logged it. It never sends anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid, NotFound
from filrouge.core.events import publish_after_commit
from filrouge.core.models import ChannelAccount, Conversation, Customer, Message, User
from filrouge.core.models.enums import (
    ChannelKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Priority,
    Visibility,
)
from filrouge.lib.timeutil import as_utc, utcnow

LOGGED_KINDS = frozenset({ChannelKind.PHONE, ChannelKind.IN_PERSON, ChannelKind.POSTAL})
OUTCOMES = ("answered", "follow_up", "escalated", "no_answer", "information")
MAX_SUMMARY = 8000


@dataclass(frozen=True)
class ContactLog:
    channel_id: int
    direction: str  # "inbound" (the customer reached us) or "outbound" (we reached them)
    summary: str
    occurred_at: datetime | None = None
    duration_minutes: int | None = None
    store: str | None = None
    outcome: str | None = None


def log_contact(
    session: Session,
    customer: Customer,
    agent: User,
    entry: ContactLog,
    conversation: Conversation | None = None,
) -> Message:
    channel = _logged_channel(session, agent.workspace_id, entry.channel_id)
    _check(entry)
    at = _when(entry.occurred_at)
    if conversation is None:
        conversation = _new_conversation(session, customer, channel, at)
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=entry.direction,
        author_id=agent.id,
        text=entry.summary.strip(),
        status=DeliveryStatus.RECEIVED
        if entry.direction == Direction.INBOUND
        else DeliveryStatus.SENT,
        visibility=Visibility.PRIVATE,
        details=_details(entry),
        occurred_at=at,
    )
    session.add(message)
    session.flush()
    _touch(conversation, message)
    record_event(
        session,
        agent.workspace_id,
        Actor.user(agent.id),
        ("conversation", conversation.id),
        "contact.logged",
        after={"message_id": message.id, "channel_id": channel.id, **(message.details or {})},
    )
    publish_after_commit(
        session, "reply.added", message_id=message.id, conversation_id=conversation.id
    )
    return message


def _logged_channel(session: Session, workspace_id: int, channel_id: int) -> ChannelAccount:
    channel = session.get(ChannelAccount, channel_id)
    if channel is None or channel.workspace_id != workspace_id or not channel.active:
        raise NotFound(
            "unknown_channel", "There is no channel {id}.", field="channel_id", id=channel_id
        )
    if channel.kind not in LOGGED_KINDS:
        raise Invalid(
            "not_a_logged_channel",
            "Only phone, in-store and letter channels take contacts logged by hand.",
            field="channel_id",
        )
    return channel


def _check(entry: ContactLog) -> None:
    if entry.direction not in (Direction.INBOUND, Direction.OUTBOUND):
        raise Invalid("invalid_direction", "Say who reached whom.", field="direction")
    if not entry.summary.strip() or len(entry.summary) > MAX_SUMMARY:
        raise Invalid(
            "invalid_summary",
            "Write a summary of 1 to {max} characters.",
            field="summary",
            max=MAX_SUMMARY,
        )
    if entry.duration_minutes is not None and not 0 <= entry.duration_minutes <= 24 * 60:
        raise Invalid(
            "invalid_duration", "A duration is 0 to 1440 minutes.", field="duration_minutes"
        )
    if entry.outcome is not None and entry.outcome not in OUTCOMES:
        raise Invalid(
            "invalid_outcome", "Unknown outcome {value}.", field="outcome", value=entry.outcome
        )


def _when(moment: datetime | None) -> datetime:
    now = utcnow()
    if moment is None:
        return now
    moment = as_utc(moment)
    if moment > now:
        raise Invalid(
            "future_contact", "A contact cannot be logged in the future.", field="occurred_at"
        )
    return moment


def _details(entry: ContactLog) -> dict[str, Any]:
    found = {
        "duration_minutes": entry.duration_minutes,
        "store": (entry.store or "").strip()[:200] or None,
        "outcome": entry.outcome,
    }
    return {key: value for key, value in found.items() if value is not None}


def _new_conversation(
    session: Session, customer: Customer, channel: ChannelAccount, at: datetime
) -> Conversation:
    conversation = Conversation(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        origin_channel_id=channel.id,
        channel_id=channel.id,
        status=ConversationStatus.OPEN,
        priority=Priority.NORMAL,
        visibility=Visibility.PRIVATE,
        last_activity_at=at,
    )
    session.add(conversation)
    session.flush()
    return conversation


def _touch(conversation: Conversation, message: Message) -> None:
    at = message.occurred_at
    conversation.last_activity_at = max(conversation.last_activity_at, at)
    if message.direction == Direction.INBOUND:
        conversation.first_inbound_at = min(conversation.first_inbound_at or at, at)
        conversation.last_inbound_at = max(conversation.last_inbound_at or at, at)
