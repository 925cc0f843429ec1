"""The figures of one group (a channel, a day…), each defined in docs/METRICS.md, and the SQL
that counts them. Every query is one GROUP BY in the database; Python only divides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from filrouge.core.indicators.period import ReportFilters
from filrouge.core.indicators.sqlfn import between, percentiles, ratio, seconds_between
from filrouge.core.indicators.triage_cut import first_message_type_is
from filrouge.core.models import (
    Conversation,
    ConversationTag,
    Customer,
    Event,
    Message,
    Survey,
)
from filrouge.core.models.enums import AUTOMATIC_FLAGS, DeliveryStatus, Direction

SPAM_TAG = "spam"
CHANNEL_SWITCH = "conversation.channel_switched"
REOPENED = "conversation.reopened"
NOT_A_REPLY = (DeliveryStatus.AWAITING_APPROVAL, DeliveryStatus.REJECTED)
DAYS_PER_MONTH = 30.4375


@dataclass
class Figures:
    conversations: int = 0
    customers: int = 0
    inbound_messages: int = 0
    replies: int = 0
    responded: int = 0
    response_rate: float | None = None
    first_response_median_s: float | None = None
    first_response_p90_s: float | None = None
    resolution_median_s: float | None = None
    resolved: int = 0
    resolution_rate: float | None = None
    fcr_rate: float | None = None
    reopen_rate: float | None = None
    csat: float | None = None
    csat_answers: int = 0
    nps: float | None = None
    solved_first_contact_reported: float | None = None
    sla_compliance: float | None = None
    public_replies: int = 0
    private_replies: int = 0
    signed_replies_share: float | None = None
    channel_switches_per_conversation: float | None = None
    contacts_per_customer_per_month: float | None = None
    # service levels (core/indicators/service_levels.py)
    sla_targets: int = 0
    sla_breaches: int = 0
    sla_first_response_compliance: float | None = None
    sla_next_response_compliance: float | None = None
    sla_resolution_compliance: float | None = None
    responded_within_sla: int = 0
    response_rate_within_sla: float | None = None
    first_response_business_median_s: float | None = None
    first_response_business_p90_s: float | None = None
    backlog: int = 0
    backlog_age_median_s: float | None = None
    backlog_age_p90_s: float | None = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Grouping:
    """How rows fall into groups: conversations and their messages by the conversation (its
    first channel, or the period it began in), surveys by their own channel or answer date."""

    conversation: Callable[[], Any]  # a column or an SQL expression
    message: Callable[[], Any]
    survey: Callable[[], Any]


def compute(
    session: Session, workspace_id: int, filters: ReportFilters, grouping: Grouping
) -> dict[Any, Figures]:
    dialect = session.get_bind().dialect.name
    cohort = cohort_of(workspace_id, filters)
    figures: dict[Any, Figures] = {}

    def of(key: Any) -> Figures:
        return figures.setdefault(key, Figures())

    _conversations(session, cohort, grouping, of)
    _durations(session, dialect, cohort, grouping, of)
    _messages(session, cohort, grouping, of)
    _resolutions(session, cohort, grouping, of)
    _switches(session, cohort, grouping, of)
    _surveys(session, workspace_id, filters, grouping, of)
    for key, found in figures.items():
        _shares(found, filters, key)
    return figures


def cohort_of(workspace_id: int, filters: ReportFilters) -> ColumnElement[bool]:
    """The conversations a report counts: begun in the period by a customer's message, not
    spam, within the filters."""
    conditions: list[ColumnElement[bool]] = [
        Conversation.workspace_id == workspace_id,
        between(Conversation.first_inbound_at, filters.since, filters.until),
        not_(
            exists().where(
                ConversationTag.conversation_id == Conversation.id,
                ConversationTag.tag == SPAM_TAG,
            )
        ),
    ]
    conditions += conversation_cuts(filters)
    return and_(*conditions)


def conversation_cuts(filters: ReportFilters) -> list[ColumnElement[bool]]:
    cuts: list[ColumnElement[bool]] = []
    if filters.channel_id is not None:
        cuts.append(Conversation.origin_channel_id == filters.channel_id)
    if filters.team_id is not None:
        cuts.append(Conversation.team_id == filters.team_id)
    if filters.agent_id is not None:
        cuts.append(Conversation.assignee_id == filters.agent_id)
    if filters.priority is not None:
        cuts.append(Conversation.priority == filters.priority)
    if filters.segment is not None:
        members = select(Customer.id).where(filters.segment)
        cuts.append(Conversation.customer_id.in_(members))
    if filters.type is not None:  # triage's cut (triage_cut.py)
        cuts.append(first_message_type_is(filters.type))
    return cuts


def _conversations(session: Session, cohort: Any, grouping: Grouping, of: Any) -> None:
    group = grouping.conversation().label("grp")
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
    for key, count, responded, resolved, customers in rows:
        found = of(key)
        found.conversations, found.responded = count, responded
        found.resolved, found.customers = resolved, customers


def _durations(session: Session, dialect: str, cohort: Any, grouping: Grouping, of: Any) -> None:
    for end, fields in (
        (Conversation.first_response_at, ("first_response_median_s", "first_response_p90_s")),
        (Conversation.resolved_at, ("resolution_median_s", None)),
    ):
        rows = (
            select(
                grouping.conversation().label("grp"),
                seconds_between(dialect, Conversation.first_inbound_at, end).label("v"),
            )
            .where(cohort, end.is_not(None))
            .subquery()
        )
        for key, median, p90 in session.execute(percentiles(dialect, rows, "grp", "v", (0.5, 0.9))):
            found = of(key)
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


def _messages(session: Session, cohort: Any, grouping: Grouping, of: Any) -> None:
    group = grouping.message().label("grp")
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
    for key, inbound, replies, public, signed in rows:
        found = of(key)
        found.inbound_messages, found.replies = int(inbound or 0), int(replies or 0)
        found.public_replies = int(public or 0)
        found.private_replies = found.replies - found.public_replies
        found.signed_replies_share = ratio(signed, found.replies)


def _resolutions(session: Session, cohort: Any, grouping: Grouping, of: Any) -> None:
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
    group = grouping.conversation().label("grp")
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
    for key, resolved, first_contact, came_back in rows:
        found = of(key)
        found.fcr_rate = ratio(first_contact, resolved)
        found.reopen_rate = ratio(came_back, resolved)


def _switches(session: Session, cohort: Any, grouping: Grouping, of: Any) -> None:
    group = grouping.conversation().label("grp")
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
    for key, switches in rows:
        of(key).channel_switches_per_conversation = switches  # divided in _shares


def _surveys(
    session: Session, workspace_id: int, filters: ReportFilters, grouping: Grouping, of: Any
) -> None:
    """Satisfaction answered in the period, on the channel the survey went out on."""
    group = grouping.survey().label("grp")
    cuts = conversation_cuts(replace(filters, channel_id=None))
    if filters.channel_id is not None:
        cuts.append(Survey.channel_id == filters.channel_id)
    rows = session.execute(
        select(
            group,
            func.count(),
            func.sum(case((Survey.csat >= 4, 1), else_=0)),
            func.count(Survey.nps),
            func.sum(case((Survey.nps >= 9, 1), else_=0)),
            func.sum(case((Survey.nps <= 6, 1), else_=0)),
            func.count(Survey.solved_first_contact),
            func.sum(case((Survey.solved_first_contact.is_(True), 1), else_=0)),
        )
        .join(Conversation, Conversation.id == Survey.conversation_id)
        .where(
            Survey.workspace_id == workspace_id,
            between(Survey.answered_at, filters.since, filters.until),
            *cuts,
        )
        .group_by(group)
    )
    for key, answers, satisfied, scored, promoters, detractors, told, solved in rows:
        found = of(key)
        found.csat_answers = answers
        found.csat = ratio(satisfied, answers)
        share = ratio((promoters or 0) - (detractors or 0), scored)
        found.nps = None if share is None else round(share * 100, 1)
        found.solved_first_contact_reported = ratio(solved, told)


def _shares(found: Figures, filters: ReportFilters, key: Any) -> None:
    found.response_rate = ratio(found.responded, found.conversations)
    found.resolution_rate = ratio(found.resolved, found.conversations)
    switches = found.channel_switches_per_conversation
    found.channel_switches_per_conversation = (
        ratio(switches or 0, found.conversations) if found.conversations else None
    )
    days = filters.extra.get("days_of", {}).get(key, filters.days)  # type: ignore[attr-defined]
    months = float(days) / DAYS_PER_MONTH
    per_customer = ratio(found.conversations, found.customers)
    found.contacts_per_customer_per_month = (
        None if per_customer is None or months <= 0 else round(per_customer / months, 4)
    )


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
