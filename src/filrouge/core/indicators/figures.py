"""The figures of one group (a channel, a period…), each defined in docs/METRICS.md, read from
the reports' facts (core/models/report.py: one narrow row per conversation, kept by the
database). A family is one GROUP BY over one range of that table; Python only adds and divides.
``indicators/reference.py`` computes the same figures from the raw tables (the definitions,
written out), and a test checks that both agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, case, exists, func, literal, not_, select, text, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from filrouge.core.indicators.facts import SPAM_TAG
from filrouge.core.indicators.members import segment_members
from filrouge.core.indicators.period import ReportFilters
from filrouge.core.indicators.ranks import durations_at_ranks, walks
from filrouge.core.indicators.sqlfn import between, column_sums, percentiles_of, ratio
from filrouge.core.indicators.triage_cut import first_message_type_is
from filrouge.core.models import (
    Conversation,
    ConversationTag,
    Customer,
    ReportConversation,
    ReportOtherChannel,
    Survey,
)

DAYS_PER_MONTH = 30.4375
WORK_MEM = "64MB"
Counts = list[int]  # customer messages, human replies, public ones, signed ones


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
    """How rows fall into groups: per channel (a conversation on the channel it began on, a
    message on the channel it travelled on, a survey on the channel it went out on), all
    together, or per period (a conversation by when it began, a survey by when it was
    answered; ``periods``: the [start, end) of each, in order, end to end)."""

    by: Literal["channel", "total", "period"]
    periods: tuple[tuple[datetime, datetime], ...] = ()
    with_total: bool = False  # PostgreSQL: the total too, key None, in the same queries

    def key(self, channel: Any, moment: Any) -> Any:
        if self.by == "channel":
            return channel
        if self.by == "total":
            return literal(0)
        return period_index(moment, self.periods)

    def conversation(self) -> Any:
        """The group of a row of ``conversations`` (the service levels read those)."""
        return self.key(Conversation.origin_channel_id, Conversation.first_inbound_at)

    def group_by(self, key: Any, dialect: str) -> Any:
        if self.with_total and dialect == "postgresql":
            return func.grouping_sets(key, tuple_())
        return key


def period_index(column: Any, periods: Sequence[tuple[datetime, datetime]], first: int = 0) -> Any:
    """The index of the period ``column`` falls in (None: in none), by halving: a few
    comparisons per row even for a year cut into days."""
    if len(periods) == 1:
        start, end = periods[0]
        return case((and_(column >= start, column < end), literal(first)), else_=None)
    middle = len(periods) // 2
    return case(
        (column < periods[middle][0], period_index(column, periods[:middle], first)),
        else_=period_index(column, periods[middle:], first + middle),
    )


Compute = Callable[[Session, int, ReportFilters, Grouping], dict[Any, "Figures"]]

# The family of queries each figure comes from; a report of one figure (a time series) runs
# only its own (``filters.extra["metrics"]``: the figures wanted; all when absent).
# The durations: family → (the facts' column, each of its figures and the point it is read at)
DURATION_FIGURES: dict[str, tuple[str, dict[str, float]]] = {
    "first_response": (
        "first_response_s",
        {"first_response_median_s": 0.5, "first_response_p90_s": 0.9},
    ),
    "resolution": ("resolution_s", {"resolution_median_s": 0.5}),
}
DURATIONS = {field: family for family, (_, points) in DURATION_FIGURES.items() for field in points}
SATISFACTION = {"csat", "csat_answers", "nps", "solved_first_contact_reported"}
CUSTOMERS = {"customers", "contacts_per_customer_per_month"}  # a distinct count: costly


def families(filters: ReportFilters) -> set[str]:
    wanted: Any = filters.extra.get("metrics")
    if not wanted:
        return {"conversations", "customers", "first_response", "resolution", "surveys"}
    found: set[str] = set()
    for name in wanted:
        if name in CUSTOMERS:
            found |= {"conversations", "customers"}
        elif name in DURATIONS:
            found.add(DURATIONS[name])
        elif name in SATISFACTION:
            found.add("surveys")
        elif name != "sla_compliance":
            found.add("conversations")
    return found


def compute(
    session: Session, workspace_id: int, filters: ReportFilters, grouping: Grouping
) -> dict[Any, Figures]:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # sorts of a quarter's conversations stay in memory
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    if filters.segment is not None:
        members = segment_members(session, workspace_id, filters.segment)
        filters = replace(filters, extra={**filters.extra, "segment_members": members})
    cohort = facts_cohort(workspace_id, filters)
    figures: dict[Any, Figures] = {}

    def of(key: Any) -> Figures:
        return figures.setdefault(key, Figures())

    key = grouping.key(ReportConversation.origin_channel_id, ReportConversation.first_inbound_at)
    wanted = families(filters)
    counted = "conversations" in wanted  # the groups' counts, which a walk needs first
    if "conversations" in wanted:
        group = key.label("grp")
        postgresql = dialect == "postgresql"
        by = grouping.group_by(group, dialect)
        total = grouping.with_total and not postgresql
        customers = "customers" in wanted
        durations = wanted & {"first_response", "resolution"} if postgresql else set()
        counts = _conversations(session, cohort, group, by, of, durations, total, customers)
        if postgresql:  # the durations came with the counts
            wanted = wanted - {"first_response", "resolution"}
        if grouping.by == "channel":
            _messages_elsewhere(session, cohort, counts)
        for found_key, (inbound, replies, public, signed) in counts.items():
            set_message_counts(of(found_key), inbound, replies, public, signed)
    if counted and walks(dialect, grouping.by, filters):
        _durations_walked(session, workspace_id, filters, grouping.by, figures, wanted)
    else:
        _durations(session, cohort, key, of, wanted, grouping.with_total)
    if "surveys" in wanted:
        surveys(session, workspace_id, filters, grouping, of)
    for group, found in figures.items():
        finish(found, filters, group)
    return figures


def facts_cohort(workspace_id: int, filters: ReportFilters) -> ColumnElement[bool]:
    """The conversations a report counts (the facts hold no spam and only conversations a
    customer began), within the period and the cuts."""
    return and_(
        between(ReportConversation.first_inbound_at, filters.since, filters.until),
        *facts_cuts(workspace_id, filters),
    )


def facts_cuts(workspace_id: int, filters: ReportFilters) -> list[ColumnElement[bool]]:
    """The workspace and the cuts, as conditions on the facts (whatever the period)."""
    fact = ReportConversation
    conditions: list[ColumnElement[bool]] = [fact.workspace_id == workspace_id]
    for column, value in (
        (fact.origin_channel_id, filters.channel_id),
        (fact.team_id, filters.team_id),
        (fact.assignee_id, filters.agent_id),
        (fact.priority, filters.priority),
    ):
        if value is not None:
            conditions.append(column == value)
    if filters.segment is not None:
        conditions.append(fact.customer_id.in_(segment_customers(filters)))
    if filters.type is not None:  # triage's cut (triage_cut.py)
        conditions.append(first_message_type_is(filters.type, fact.conversation_id))
    return conditions


def _conversations(
    session: Session,
    cohort: Any,
    group: Any,
    group_by: Any,
    of: Any,
    durations: set[str],
    total: bool = False,
    customers: bool = True,
) -> dict[Any, Counts]:
    """Every per-conversation figure in one pass (with the ``durations`` families, PostgreSQL's
    ``percentile_disc`` too, which leaves out the unanswered); the messages' counts handed
    back, by the conversation's group, for the caller to place. ``total`` (SQLite, which
    has no grouping sets): all the groups together too, key None, added up from theirs.
    Without ``customers``, the distinct customers are not counted (0)."""
    fact = ReportConversation
    resolved = fact.resolution_s.is_not(None)
    ranked = [  # the percentiles of the durations wanted, by figure
        (field, func.percentile_disc(point).within_group(getattr(fact, column)))
        for family, (column, points) in DURATION_FIGURES.items()
        if family in durations
        for field, point in points.items()
    ]
    rows = session.execute(
        select(
            *(rank for _, rank in ranked),
            group,
            func.count(),
            func.count(fact.first_response_s),
            func.count(fact.resolution_s),
            func.count(func.distinct(fact.customer_id)) if customers else literal(0),
            func.sum(case((and_(resolved, fact.replies == 1, fact.reopened == 0), 1), else_=0)),
            func.sum(case((and_(resolved, fact.reopened == 1), 1), else_=0)),
            func.sum(fact.channel_switches),
            func.sum(fact.inbound_messages),
            func.sum(fact.replies),
            func.sum(fact.public_replies),
            func.sum(fact.signed_replies),
        )
        .where(cohort)
        .group_by(group_by)
    )
    counts: dict[Any, Counts] = {}
    every: list[Sequence[Any]] = []
    for row in rows:
        values, key, numbers = row[: len(ranked)], row[len(ranked)], row[len(ranked) + 1 :]
        found = of(key)
        _set_conversation_counts(found, numbers)
        counts[key] = [int(value or 0) for value in numbers[-4:]]
        for (field, _), value in zip(ranked, values, strict=True):
            setattr(found, field, _seconds(value))
        every.append(numbers)
    if total and every:  # every count adds up but the distinct customers
        summed = column_sums(every)
        distinct = select(func.count(func.distinct(fact.customer_id))).where(cohort)
        summed[3] = session.execute(distinct).scalar_one() if customers else 0
        _set_conversation_counts(of(None), summed)
        counts[None] = summed[-4:]
    return counts


def _set_conversation_counts(found: Figures, numbers: Sequence[Any]) -> None:
    """A group's row of ``_conversations`` (from its count on), onto its figures."""
    count, responded, resolved, customers, fcr, reopened, switches = numbers[:7]
    found.conversations, found.responded = count, responded
    found.resolved, found.customers = resolved, customers
    found.fcr_rate = ratio(fcr, resolved)
    found.reopen_rate = ratio(reopened, resolved)
    found.channel_switches_per_conversation = int(switches or 0)  # divided in finish


def _messages_elsewhere(session: Session, cohort: Any, counts: dict[Any, Counts]) -> None:
    """Messages that travelled on another channel than their conversation's first: taken
    from the channel the conversation began on, given to the one they went through."""
    other = ReportOtherChannel
    rows = session.execute(
        select(
            ReportConversation.origin_channel_id,
            other.channel_id,
            func.sum(other.inbound_messages),
            func.sum(other.replies),
            func.sum(other.public_replies),
            func.sum(other.signed_replies),
        )
        .join(ReportConversation, ReportConversation.conversation_id == other.conversation_id)
        .where(cohort)
        .group_by(ReportConversation.origin_channel_id, other.channel_id)
    )
    for origin, channel, *moved in rows:  # the total (key None) is the same either way
        for key, sign in ((origin, -1), (channel, 1)):
            found = counts.setdefault(key, [0, 0, 0, 0])
            for index, value in enumerate(moved):
                found[index] += sign * int(value or 0)


def set_message_counts(
    found: Figures, inbound: int, replies: int, public: int, signed: int
) -> None:
    found.inbound_messages, found.replies = inbound, replies
    found.public_replies, found.private_replies = public, replies - public
    found.signed_replies_share = ratio(signed, replies)


def _durations(
    session: Session, cohort: Any, key: Any, of: Any, wanted: set[str], with_total: bool
) -> None:
    """The durations' percentiles per group (``with_total``: all the groups together too)."""
    for family, (column, points) in DURATION_FIGURES.items():
        if family not in wanted:
            continue
        value = getattr(ReportConversation, column)
        rows = select(key.label("grp"), value.label("v")).where(cohort).subquery()
        found = percentiles_of(session, rows, tuple(points.values()), with_total)
        for group, (_, values) in found.items():
            for field, at_rank in zip(points, values, strict=True):
                setattr(of(group), field, _seconds(at_rank))


def _counted(found: Figures, family: str) -> int:
    """How many durations of ``family`` the group has (its counts' pass counted them)."""
    return found.responded if family == "first_response" else found.resolved


def _durations_walked(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    by: str,
    figures: dict[Any, Figures],
    wanted: set[str],
) -> None:
    """The same percentiles, each read at its rank by walking an index (``ranks.py``; SQLite,
    the whole channel table), the groups' counts being known; only the points of the figures
    asked for (``filters.extra["metrics"]``): a p90's walk is the longest."""
    asked: Any = filters.extra.get("metrics")
    for family, (column, points) in DURATION_FIGURES.items():
        if family not in wanted:
            continue
        chosen = {field: point for field, point in points.items() if not asked or field in asked}
        for key, found in figures.items():
            count = _counted(found, family)
            channel_id = key if by == "channel" and key is not None else filters.channel_id
            values = durations_at_ranks(
                session, workspace_id, filters, column, channel_id, count, tuple(chosen.values())
            )
            for field, value in zip(chosen, values, strict=True):
                setattr(found, field, _seconds(value))


def cohort_of(workspace_id: int, filters: ReportFilters) -> ColumnElement[bool]:
    """The conversations a report counts, as conditions on the raw ``conversations``: begun in
    the period by a customer's message, not spam, within the filters."""
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


def segment_customers(filters: ReportFilters) -> Any:
    """The segment's customers: found once per report when ``compute`` has, else by its
    conditions."""
    found = filters.extra.get("segment_members")
    return found if found is not None else select(Customer.id).where(filters.segment)


def conversation_cuts(filters: ReportFilters) -> list[ColumnElement[bool]]:
    """The cuts, as conditions on ``conversations`` (surveys and the raw SQL read them)."""
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
        cuts.append(Conversation.customer_id.in_(segment_customers(filters)))
    if filters.type is not None:  # triage's cut (triage_cut.py)
        cuts.append(first_message_type_is(filters.type))
    return cuts


def surveys(
    session: Session, workspace_id: int, filters: ReportFilters, grouping: Grouping, of: Any
) -> None:
    """Satisfaction answered in the period, on the channel the survey went out on."""
    group = grouping.key(Survey.channel_id, Survey.answered_at).label("grp")
    cuts = conversation_cuts(replace(filters, channel_id=None))
    if filters.channel_id is not None:
        cuts.append(Survey.channel_id == filters.channel_id)
    query = select(
        group,
        func.count(),
        func.sum(case((Survey.csat >= 4, 1), else_=0)),
        func.count(Survey.nps),
        func.sum(case((Survey.nps >= 9, 1), else_=0)),
        func.sum(case((Survey.nps <= 6, 1), else_=0)),
        func.count(Survey.solved_first_contact),
        func.sum(case((Survey.solved_first_contact.is_(True), 1), else_=0)),
    ).where(
        Survey.workspace_id == workspace_id,
        between(Survey.answered_at, filters.since, filters.until),
        *cuts,
    )
    if cuts:
        query = query.join(Conversation, Conversation.id == Survey.conversation_id)
    dialect = session.get_bind().dialect.name
    every = []
    for key, *numbers in session.execute(query.group_by(grouping.group_by(group, dialect))):
        _set_survey_counts(of(key), numbers)
        every.append(numbers)
    if grouping.with_total and dialect != "postgresql" and every:  # every count adds up
        _set_survey_counts(of(None), column_sums(every))


def _set_survey_counts(found: Figures, numbers: Sequence[Any]) -> None:
    answers, satisfied, scored, promoters, detractors, told, solved = numbers
    found.csat_answers = answers
    found.csat = ratio(satisfied, answers)
    share = ratio((promoters or 0) - (detractors or 0), scored)
    found.nps = None if share is None else round(share * 100, 1)
    found.solved_first_contact_reported = ratio(solved, told)


def finish(found: Figures, filters: ReportFilters, key: Any) -> None:
    """The shares that divide one family's count by another's."""
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
