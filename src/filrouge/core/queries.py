"""Reads: conversation lists with keyset pagination, threads, customer timelines."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from filrouge.core.access import conversation_scope, customer_scope
from filrouge.core.errors import Invalid
from filrouge.core.models import (
    CallbackRequest,
    Conversation,
    ConversationTag,
    Customer,
    Event,
    Identity,
    Message,
    Order,
    Survey,
    User,
)
from filrouge.core.search import matching_conversations
from filrouge.lib.timeutil import as_utc

CHANNEL_SWITCH = "conversation.channel_switched"


@dataclass
class ConversationFilters:
    status: str | None = None
    channel_id: int | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    tag: str | None = None
    customer_id: int | None = None
    q: str | None = None
    unassigned: bool = False
    statuses: list[str] | None = None
    team_ids: list[int] | None = None
    visibility: str | None = None
    owner_id: int | None = None  # conversations of the customers whose concierge this is
    segment: ColumnElement[bool] | None = None  # core/segments.segment_clause: its customers
    # the conversations behind a report's figure (core/indicators/dashboard.conversations_behind)
    cohort: ColumnElement[bool] | None = None


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


@dataclass
class Thread:
    conversation: Conversation
    messages: list[Message]
    switches: list[Event] = field(default_factory=list)


def encode_cursor(moment: datetime, row_id: int) -> str:
    raw = json.dumps([as_utc(moment).isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, row_id = json.loads(base64.urlsafe_b64decode(padded))
        decoded = as_utc(datetime.fromisoformat(moment)), int(row_id)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _bad_cursor() from exc
    if not 0 < decoded[1] < 2**63:
        raise _bad_cursor()
    return decoded


def _bad_cursor() -> Invalid:
    return Invalid("invalid_cursor", "The cursor is not valid.", field="cursor")


def list_conversations(
    session: Session,
    user: User,
    filters: ConversationFilters,
    limit: int,
    cursor: str | None = None,
) -> Page:
    """Most recent activity first; ``cursor`` continues after the last item of a page."""
    query = _filtered_conversations(user, filters)
    return keyset_page(
        session, query, Conversation.last_activity_at, Conversation.id, limit, cursor
    )


def list_sla_due(session: Session, user: User, filters: ConversationFilters, limit: int) -> Page:
    """The "SLA due soon" view: conversations with a running target, the one due first (or
    breached longest ago) first."""
    query = _filtered_conversations(user, filters).where(Conversation.sla_due_at.is_not(None))
    ordered = query.order_by(Conversation.sla_due_at, Conversation.id).limit(limit)
    return Page(list(session.scalars(ordered)), None)


def keyset_page(
    session: Session,
    query: Select[Any],
    moment: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[int],
    limit: int,
    cursor: str | None,
) -> Page:
    """Newest first by (moment, id); stable under inserts, unlike OFFSET."""
    if cursor:
        after_moment, after_id = decode_cursor(cursor)
        # A row-value comparison walks the (…, moment, id) index; an OR of two would not.
        query = query.where(
            tuple_(moment, row_id) < tuple_(literal(after_moment, moment.type), literal(after_id))
        )
    rows = list(session.scalars(query.order_by(moment.desc(), row_id.desc()).limit(limit + 1)))
    items = rows[:limit]
    if len(rows) <= limit:
        return Page(items, None)
    last = items[-1]
    return Page(items, encode_cursor(getattr(last, moment.key), getattr(last, row_id.key)))


def _filtered_conversations(
    user: User, filters: ConversationFilters
) -> Select[tuple[Conversation]]:
    query = (
        select(Conversation)
        .where(conversation_scope(user))
        .options(selectinload(Conversation.tag_rows))
    )
    simple = {
        Conversation.status: filters.status,
        Conversation.channel_id: filters.channel_id,
        Conversation.assignee_id: filters.assignee_id,
        Conversation.team_id: filters.team_id,
        Conversation.customer_id: filters.customer_id,
    }
    for column, value in simple.items():
        if value is not None:
            query = query.where(column == value)
    if filters.statuses is not None:
        query = query.where(Conversation.status.in_(filters.statuses))
    if filters.unassigned:
        query = query.where(Conversation.assignee_id.is_(None))
    if filters.segment is not None:
        members = select(Customer.id).where(Customer.workspace_id == user.workspace_id)
        query = query.where(Conversation.customer_id.in_(members.where(filters.segment)))
    if filters.team_ids is not None:
        query = query.where(Conversation.team_id.in_(filters.team_ids))
    if filters.cohort is not None:
        query = query.where(filters.cohort)
    if filters.visibility:
        query = query.where(Conversation.visibility == filters.visibility)
    if filters.owner_id is not None:
        owned = select(Customer.id).where(Customer.owner_id == filters.owner_id)
        query = query.where(Conversation.customer_id.in_(owned))
    if filters.tag:
        query = query.where(
            exists().where(
                ConversationTag.conversation_id == Conversation.id,
                ConversationTag.tag == filters.tag.strip().lower(),
            )
        )
    if filters.q and filters.q.strip():
        query = query.where(_matches_text(user, filters.q.strip()))
    return query


def _matches_text(user: User, typed: str) -> Any:
    """Conversations whose messages, subject or customer match ``typed`` (core/search.py);
    words that are only punctuation match nothing rather than refuse the whole list."""
    try:
        return matching_conversations(user, typed)
    except Invalid:
        return false()


def conversation_thread(session: Session, conversation: Conversation) -> Thread:
    messages = list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .options(selectinload(Message.attachments), selectinload(Message.triage))
            .order_by(Message.occurred_at, Message.id)
        )
    )
    switches = list(
        session.scalars(
            select(Event)
            .where(
                Event.subject_type == "conversation",
                Event.subject_id == conversation.id,
                Event.action == CHANNEL_SWITCH,
            )
            .order_by(Event.id)
        )
    )
    return Thread(conversation, messages, switches)


def list_customers(
    session: Session,
    user: User,
    limit: int,
    cursor: str | None = None,
    q: str | None = None,
    segment: ColumnElement[bool] | None = None,
) -> Page:
    query = (
        select(Customer)
        .where(customer_scope(user), Customer.merged_into_id.is_(None))
        .options(selectinload(Customer.identities))  # each shows its identities and reach
    )
    if segment is not None:
        query = query.where(segment)
    if q and q.strip():
        query = query.where(customer_matches_text(q))
    return keyset_page(session, query, Customer.created_at, Customer.id, limit, cursor)


def customer_matches_text(q: str) -> ColumnElement[bool]:
    """A customer whose name or one of whose identities contains ``q`` (any case)."""
    needle = q.strip().lower()
    return or_(
        func.lower(Customer.name).contains(needle, autoescape=True),
        exists().where(
            Identity.customer_id == Customer.id,
            Identity.value.contains(needle, autoescape=True),
        ),
    )


def count_customers(session: Session, user: User, segment: ColumnElement[bool]) -> int:
    """How many live customers ``user`` may see are in the segment."""
    query = select(func.count(Customer.id)).where(
        customer_scope(user), Customer.merged_into_id.is_(None), segment
    )
    return session.scalar(query) or 0


def customer_conversations(session: Session, user: User, customer_id: int) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.customer_id == customer_id, conversation_scope(user))
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        )
    )


JOURNEY_CUSTOMER_EVENTS = (
    "customer.created",
    "customer.merged",
    "customer.unmerged",
    "customer.unmerged_from",
)


def customer_timeline(
    session: Session, user: User, customer_id: int, limit: int = 500
) -> list[tuple[str, Any]]:
    """The customer's journey, newest last: every message on every channel (calls, store visits
    and letters logged by hand among them), channel switches, callbacks asked for, merges and
    unmerges, orders and satisfaction surveys, across the conversations ``user`` may see."""
    visible = (
        select(Conversation.id)
        .where(Conversation.customer_id == customer_id, conversation_scope(user))
        .scalar_subquery()
    )
    messages = list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(visible))
            .options(selectinload(Message.attachments), selectinload(Message.triage))
            .order_by(Message.occurred_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )
    events = list(
        session.scalars(
            select(Event)
            .where(
                or_(
                    and_(
                        Event.subject_type == "conversation",
                        Event.subject_id.in_(visible),
                        Event.action == CHANNEL_SWITCH,
                    ),
                    and_(
                        Event.subject_type == "customer",
                        Event.subject_id == customer_id,
                        Event.action.in_(JOURNEY_CUSTOMER_EVENTS),
                    ),
                )
            )
            .order_by(Event.id.desc())
            .limit(limit)
        )
    )
    entries: list[tuple[datetime, str, Any]] = [(m.occurred_at, "message", m) for m in messages]
    entries += [(e.occurred_at, "event", e) for e in events]
    entries += [(o.ordered_at, "order", o) for o in customer_orders(session, customer_id, limit)]
    callbacks = session.scalars(
        select(CallbackRequest)
        .where(CallbackRequest.conversation_id.in_(visible))
        .order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc())
        .limit(limit)
    )
    entries += [(c.created_at, "callback", c) for c in callbacks]
    surveys = session.scalars(
        select(Survey)
        .where(Survey.conversation_id.in_(visible))
        .order_by(Survey.sent_at.desc(), Survey.id.desc())
        .limit(limit)
    )
    entries += [(s.sent_at, "survey", s) for s in surveys]
    entries.sort(key=lambda entry: (entry[0], entry[1] == "message"))
    return [(kind, item) for _, kind, item in entries[-limit:]]


def customer_surveys(session: Session, customer_id: int, limit: int = 20) -> list[Survey]:
    """The customer's latest satisfaction surveys (over every conversation), newest first."""
    return list(
        session.scalars(
            select(Survey)
            .join(Conversation, Conversation.id == Survey.conversation_id)
            .where(Conversation.customer_id == customer_id)
            .order_by(Survey.sent_at.desc(), Survey.id.desc())
            .limit(limit)
        )
    )


def customer_orders(session: Session, customer_id: int, limit: int = 500) -> list[Order]:
    """The customer's latest orders, newest first."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.ordered_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class LastMessage:
    direction: str
    text: str
    occurred_at: datetime
    flag: str | None = None


def last_messages(session: Session, conversation_ids: list[int]) -> dict[int, LastMessage]:
    """The latest message (notes aside) of each conversation, in one query."""
    if not conversation_ids:
        return {}
    ranked = (
        select(
            Message.conversation_id,
            Message.direction,
            Message.text,
            Message.occurred_at,
            Message.flag,
            func.row_number()
            .over(
                partition_by=Message.conversation_id,
                order_by=(Message.occurred_at.desc(), Message.id.desc()),
            )
            .label("rank"),
        )
        .where(Message.conversation_id.in_(conversation_ids), Message.direction != "note")
        .subquery()
    )
    rows = session.execute(select(ranked).where(ranked.c.rank == 1))
    return {
        row.conversation_id: LastMessage(row.direction, row.text, row.occurred_at, row.flag)
        for row in rows
    }


def channels_used(session: Session, conversation_ids: list[int]) -> dict[int, list[int]]:
    """Every channel each conversation went through, in one query."""
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(Message.conversation_id, Message.channel_id)
        .where(Message.conversation_id.in_(conversation_ids), Message.direction == "inbound")
        .group_by(Message.conversation_id, Message.channel_id)
        .order_by(Message.conversation_id, func.min(Message.occurred_at))
    )
    used: dict[int, list[int]] = {}
    for conversation_id, channel_id in rows:
        used.setdefault(conversation_id, []).append(channel_id)
    return used
