"""The figures computed from the raw tables (conversations, messages, events, tags): the
definitions of docs/METRICS.md written out as SQL. Too slow for a year of activity, so
reports read the facts (``indicators/figures.py``); this is what the facts must agree with
(tests/test_report_facts.py, ``filrouge reports check``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from filrouge.core.indicators.facts import CHANNEL_SWITCH, REOPENED
from filrouge.core.indicators.figures import (
    Figures,
    Grouping,
    cohort_of,
    finish,
    set_message_counts,
    surveys,
)
from filrouge.core.indicators.period import ReportFilters
from filrouge.core.indicators.sqlfn import percentiles, ratio, seconds_between
from filrouge.core.models import Conversation, Event, Message
from filrouge.core.models.enums import AUTOMATIC_FLAGS, DeliveryStatus, Direction

NOT_A_REPLY = (DeliveryStatus.AWAITING_APPROVAL, DeliveryStatus.REJECTED)


def compute_from_tables(
    session: Session, workspace_id: int, filters: ReportFilters, grouping: Grouping
) -> dict[Any, Figures]:
    dialect = session.get_bind().dialect.name
    grouping = replace(grouping, with_total=False)  # the total: a call of its own
    cohort = cohort_of(workspace_id, filters)
    figures: dict[Any, Figures] = {}

    def of(key: Any) -> Figures:
        return figures.setdefault(key, Figures())

    conversation = grouping.key(Conversation.origin_channel_id, Conversation.first_inbound_at)
    message = grouping.key(Message.channel_id, Conversation.first_inbound_at)
    _conversations(session, cohort, conversation, of)
    _durations(session, dialect, cohort, conversation, of)
    _messages(session, cohort, message, of)
    _resolutions(session, cohort, conversation, of)
    _switches(session, cohort, conversation, of)
    surveys(session, workspace_id, filters, grouping, of)
    for key, found in figures.items():
        finish(found, filters, key)
    return figures


def _conversations(session: Session, cohort: Any, key: Any, of: Any) -> None:
    group = key.label("grp")
    rows = session.execute(
        select(
            group,
            func.count(),
            func.count(Conversation.first_response_at),
            func.count(Conversation.resolved_at),
            func.count(func.distinct(Conversation.customer_id)),
        )
        .where(cohort)
        .group_by(group)
    )
    for found_key, count, responded, resolved, customers in rows:
        found = of(found_key)
        found.conversations, found.responded = count, responded
        found.resolved, found.customers = resolved, customers


def _durations(session: Session, dialect: str, cohort: Any, key: Any, of: Any) -> None:
    for end, fields in (
        (Conversation.first_response_at, ("first_response_median_s", "first_response_p90_s")),
        (Conversation.resolved_at, ("resolution_median_s", None)),
    ):
        rows = (
            select(
                key.label("grp"),
                seconds_between(dialect, Conversation.first_inbound_at, end).label("v"),
            )
            .where(cohort, end.is_not(None))
            .subquery()
        )
        for found_key, _count, median, p90 in session.execute(
            percentiles(dialect, rows, "grp", "v", (0.5, 0.9))
        ):
            found = of(found_key)
            setattr(found, fields[0], _seconds(median))
            if fields[1]:
                setattr(found, fields[1], _seconds(p90))


def human_reply() -> ColumnElement[bool]:
    """A reply a person of the team wrote and let go (not a note, not an automatic message,
    not a contributor's reply still waiting or rejected)."""
    return and_(
        Message.direction == Direction.OUTBOUND,
        Message.author_id.is_not(None),
        Message.status.not_in(NOT_A_REPLY),
    )


def customer_message() -> ColumnElement[bool]:
    return and_(
        Message.direction == Direction.INBOUND,
        or_(Message.flag.is_(None), Message.flag.not_in(AUTOMATIC_FLAGS)),
    )


def _messages(session: Session, cohort: Any, key: Any, of: Any) -> None:
    group = key.label("grp")
    reply = human_reply()
    rows = session.execute(
        select(
            group,
            func.sum(case((customer_message(), 1), else_=0)),
            func.sum(case((reply, 1), else_=0)),
            func.sum(case((and_(reply, Message.visibility == "public"), 1), else_=0)),
            func.sum(case((and_(reply, Message.signed_by_id.is_not(None)), 1), else_=0)),
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(cohort)
        .group_by(group)
    )
    for found_key, *counts in rows:
        set_message_counts(of(found_key), *(int(value or 0) for value in counts))


def _resolutions(session: Session, cohort: Any, key: Any, of: Any) -> None:
    """First-contact resolution: resolved with a single reply from the team and never
    reopened; the reopen rate: resolved conversations that came back."""
    replies = (
        select(func.count())
        .where(Message.conversation_id == Conversation.id, human_reply())
        .correlate(Conversation)
        .scalar_subquery()
    )
    reopened = exists().where(
        Event.subject_type == "conversation",
        Event.subject_id == Conversation.id,
        Event.action == REOPENED,
    )
    group = key.label("grp")
    rows = session.execute(
        select(
            group,
            func.count(),
            func.sum(case((and_(replies == 1, not_(reopened)), 1), else_=0)),
            func.sum(case((reopened, 1), else_=0)),
        )
        .where(cohort, Conversation.resolved_at.is_not(None))
        .group_by(group)
    )
    for found_key, resolved, first_contact, came_back in rows:
        found = of(found_key)
        found.fcr_rate = ratio(first_contact, resolved)
        found.reopen_rate = ratio(came_back, resolved)


def _switches(session: Session, cohort: Any, key: Any, of: Any) -> None:
    group = key.label("grp")
    rows = session.execute(
        select(group, func.count())
        .select_from(Event)
        .join(
            Conversation,
            and_(Event.subject_type == "conversation", Event.subject_id == Conversation.id),
        )
        .where(cohort, Event.action == CHANNEL_SWITCH)
        .group_by(group)
    )
    for found_key, switches in rows:
        of(found_key).channel_switches_per_conversation = switches  # divided in finish


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
