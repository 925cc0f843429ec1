"""Service-level figures (docs/METRICS.md, "Service levels"), read from ``sla_outcomes`` (what
``core/actions/sla.py`` stored: met or breached, calendar and business seconds) and from the
conversations still open at the end of a period (the backlog). Each family is one query; Python
only divides (and adds up the backlog's periods)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from filrouge.core.indicators.figures import (
    SPAM_TAG,
    Figures,
    Grouping,
    cohort_of,
    conversation_cuts,
    facts_cohort,
    facts_cuts,
)
from filrouge.core.indicators.period import ReportFilters
from filrouge.core.indicators.ranks import backlog_ages_at_ranks, walks
from filrouge.core.indicators.sqlfn import (
    column_sums,
    percentiles,
    percentiles_of,
    ratio,
    seconds_between,
)
from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    ConversationTag,
    ReportConversation,
    SlaOutcome,
)
from filrouge.core.models.enums import ConversationStatus
from filrouge.core.sla import Target

UNFINISHED = (ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING)
COMPLIANCE_FIELDS = {
    Target.FIRST_RESPONSE: "sla_first_response_compliance",
    Target.NEXT_RESPONSE: "sla_next_response_compliance",
    Target.RESOLUTION: "sla_resolution_compliance",
}


FAMILIES = {
    "compliance": frozenset(
        {"sla_targets", "sla_breaches", "sla_compliance", *COMPLIANCE_FIELDS.values()}
    ),
    "within": frozenset({"responded_within_sla", "response_rate_within_sla"}),
    "business": frozenset({"first_response_business_median_s", "first_response_business_p90_s"}),
    "backlog": frozenset({"backlog"}),
    "backlog_age": frozenset({"backlog_age_median_s", "backlog_age_p90_s"}),
}


def add_service_levels(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    grouping: Grouping,
    figures: dict[Any, Figures],
    wanted: Collection[str] | None = None,
    from_facts: bool = True,
) -> None:
    """Fill the service-level fields of ``figures`` (groups as ``figures.compute`` made
    them; only the families of the ``wanted`` fields, every one when None). The backlog is
    counted at the end of the period, or of each period of a time series
    (``filters.extra["ends_of"]``: group → end, in order), from the reports' facts, or from
    the raw conversations (``from_facts`` False: the definition written out, which a test
    holds the facts to)."""
    dialect = session.get_bind().dialect.name
    cohort = _cohort(workspace_id, filters, grouping, from_facts)

    def of(key: Any) -> Figures:
        return figures.setdefault(key, Figures())

    def needs(family: str) -> bool:
        return wanted is None or bool(FAMILIES[family] & set(wanted))

    if needs("compliance") or needs("within"):
        _compliance(session, dialect, cohort, grouping, of)
    if needs("business"):
        _business_first_response(session, dialect, cohort, grouping, of, from_facts)
    ends: dict[Any, datetime] | None = filters.extra.get("ends_of")  # type: ignore[assignment]
    if ends is not None and needs("backlog"):
        _backlog_over_time(session, workspace_id, filters, ends, of)
    if ends is None and (needs("backlog") or needs("backlog_age")):
        ages = needs("backlog_age")
        _backlog_at_end(session, dialect, workspace_id, filters, grouping, of, from_facts, ages)
    elif ends is not None and needs("backlog_age"):
        moments = [(literal(key), end) for key, end in ends.items()]
        open_rows = _open_facts if from_facts else _open_conversations
        rows = open_rows(dialect, workspace_id, filters, moments)
        _backlog(session, dialect, rows, of, counts=False, from_facts=from_facts)
    for found in figures.values():
        found.response_rate_within_sla = ratio(found.responded_within_sla, found.conversations)


@dataclass(frozen=True)
class _Cohort:
    """Where a report's conversations are read: the facts (one range, no spam to look up) or
    the raw ``conversations`` (the definition written out)."""

    table: Any
    conversation_id: Any
    group: Any  # the grouping's key on the table
    where: ColumnElement[bool]


def _cohort(
    workspace_id: int, filters: ReportFilters, grouping: Grouping, from_facts: bool
) -> _Cohort:
    if from_facts:
        fact = ReportConversation
        return _Cohort(
            fact,
            fact.conversation_id,
            grouping.key(fact.origin_channel_id, fact.first_inbound_at),
            facts_cohort(workspace_id, filters),
        )
    return _Cohort(
        Conversation, Conversation.id, grouping.conversation(), cohort_of(workspace_id, filters)
    )


def decided() -> ColumnElement[bool]:
    """A target whose fate is known: met (``met_at``) or breached (as soon as it was)."""
    return or_(SlaOutcome.breached.is_(True), SlaOutcome.met_at.is_not(None))


def kept() -> ColumnElement[bool]:
    return and_(SlaOutcome.breached.is_(False), SlaOutcome.met_at.is_not(None))


def _compliance(
    session: Session, dialect: str, cohort: _Cohort, grouping: Grouping, of: Any
) -> None:
    """Decided targets and those kept, per target; the conversations whose kept targets
    include the first response are those answered within it (one query; with the total of
    the groups too, key None, when the grouping asks for it: in the same query on
    PostgreSQL, added up on SQLite, since a conversation's targets are all in its group)."""
    group = cohort.group.label("grp")
    by_target: list[Any] = [group, SlaOutcome.target]
    if grouping.with_total and dialect == "postgresql":
        by_target = [func.grouping_sets(tuple_(group, SlaOutcome.target), SlaOutcome.target)]
    rows: list[Any] = list(
        session.execute(
            select(
                group,
                SlaOutcome.target,
                func.count(),
                func.sum(case((kept(), 1), else_=0)),
                func.count(func.distinct(case((kept(), SlaOutcome.conversation_id)))),
            )
            .select_from(SlaOutcome)
            .join(cohort.table, cohort.conversation_id == SlaOutcome.conversation_id)
            .where(cohort.where, decided())
            .group_by(*by_target)
        )
    )
    if grouping.with_total and dialect != "postgresql":
        rows += _summed_per_target(rows)
    met: dict[Any, int] = {}
    for key, target, count, kept_count, kept_conversations in rows:
        found = of(key)
        found.sla_targets += count
        met[key] = met.get(key, 0) + int(kept_count or 0)
        if target in COMPLIANCE_FIELDS:
            setattr(found, COMPLIANCE_FIELDS[target], ratio(kept_count or 0, count))
        if target == Target.FIRST_RESPONSE:
            found.responded_within_sla = int(kept_conversations or 0)
    for key, count in met.items():
        found = of(key)
        found.sla_breaches = found.sla_targets - count
        found.sla_compliance = ratio(count, found.sla_targets)


def _summed_per_target(rows: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The groups' rows of ``_compliance`` added up per target, as rows of group None."""
    by_target: dict[Any, list[Sequence[Any]]] = {}
    for _, target, *numbers in rows:
        by_target.setdefault(target, []).append(numbers)
    return [(None, target, *column_sums(every)) for target, every in by_target.items()]


def kept_first_response() -> ColumnElement[bool]:
    """The conversation's first response came from a person within its target."""
    return exists().where(
        SlaOutcome.conversation_id == Conversation.id,
        SlaOutcome.target == Target.FIRST_RESPONSE,
        kept(),
    )


def _business_first_response(
    session: Session,
    dialect: str,
    cohort: _Cohort,
    grouping: Grouping,
    of: Any,
    from_facts: bool = True,
) -> None:
    rows = (
        select(cohort.group.label("grp"), SlaOutcome.business_seconds.label("v"))
        .select_from(SlaOutcome)
        .join(cohort.table, cohort.conversation_id == SlaOutcome.conversation_id)
        .where(
            cohort.where,
            SlaOutcome.target == Target.FIRST_RESPONSE,
            SlaOutcome.met_at.is_not(None),
        )
        .subquery()
    )
    found = _percentiles(session, dialect, rows, grouping.with_total, from_facts)
    for key, (_, (median, p90)) in found.items():
        figures = of(key)
        figures.first_response_business_median_s = _seconds(median)
        figures.first_response_business_p90_s = _seconds(p90)


def backlog_candidates(workspace_id: int, filters: ReportFilters) -> list[ColumnElement[bool]]:
    """Conversations the backlog may count: not spam, within the cuts, and either unfinished
    or with a resolution moment (one closed without a resolution has no closing moment)."""
    return [
        Conversation.workspace_id == workspace_id,
        not_(
            exists().where(
                ConversationTag.conversation_id == Conversation.id,
                ConversationTag.tag == SPAM_TAG,
            )
        ),
        or_(Conversation.status.in_(UNFINISHED), Conversation.resolved_at.is_not(None)),
        *conversation_cuts(filters),
    ]


def open_at(workspace_id: int, filters: ReportFilters, moment: Any) -> ColumnElement[bool]:
    """Conversations open at ``moment``: begun (by a customer's message) before it, and
    unfinished now or resolved only after it."""
    return and_(
        *backlog_candidates(workspace_id, filters),
        Conversation.first_inbound_at < moment,
        or_(Conversation.status.in_(UNFINISHED), Conversation.resolved_at >= moment),
    )


def _backlog_at_end(
    session: Session,
    dialect: str,
    workspace_id: int,
    filters: ReportFilters,
    grouping: Grouping,
    of: Any,
    from_facts: bool,
    ages: bool = True,
) -> None:
    """The backlog at the end of the period, per group, and its ages (only its counts when
    not ``ages``): walked on SQLite (``ranks.py``), sorted otherwise."""
    if from_facts and walks(dialect, grouping.by, filters):
        by, with_total = grouping.by, grouping.with_total
        _backlog_walked(session, workspace_id, filters, by, of, with_total, ages)
        return
    if from_facts:
        fact = ReportConversation
        group = grouping.key(fact.origin_channel_id, fact.first_inbound_at)
        rows = _open_facts(dialect, workspace_id, filters, [(group, filters.until)])
    else:
        rows = _open_conversations(
            dialect, workspace_id, filters, [(grouping.conversation(), filters.until)]
        )
    if not ages:
        _backlog_counted(session, rows, of, grouping.with_total)
        return
    _backlog(session, dialect, rows, of, with_total=grouping.with_total, from_facts=from_facts)


def _percentiles(
    session: Session, dialect: str, rows: Any, with_total: bool, from_facts: bool
) -> dict[Any, tuple[int, list[Any]]]:
    """Per group of ``rows``: the count, the median and the p90, read at their ranks for a
    report (``sqlfn.percentiles_of``); for the check from the raw tables, by the nearest rank's
    definition written out (``sqlfn.percentiles``), so the two ways are held to each other."""
    if from_facts:
        return percentiles_of(session, rows, (0.5, 0.9), with_total)
    query = percentiles(dialect, rows, "grp", "v", (0.5, 0.9), with_total)
    return {key: (count, values) for key, count, *values in session.execute(query)}


def _backlog_counted(session: Session, rows: Any, of: Any, with_total: bool) -> None:
    """Each group's open conversations counted, without their ages (and all together, key
    None, when ``with_total``)."""
    query = select(rows.c.grp, func.count()).group_by(rows.c.grp)
    counts: dict[Any, int] = dict(session.execute(query).tuples().all())
    if with_total and counts:
        counts[None] = sum(counts.values())
    for key, count in counts.items():
        of(key).backlog = count


def _open_conversations(
    dialect: str, workspace_id: int, filters: ReportFilters, moments: Sequence[tuple[Any, datetime]]
) -> Any:
    """The conversations open at each moment (a UNION ALL over the moments) with their group
    and age (calendar seconds since the customer's first message), from the raw tables."""
    when = Conversation.first_inbound_at.type
    branches = [
        select(
            group.label("grp"),
            seconds_between(
                dialect, Conversation.first_inbound_at, literal(moment, type_=when)
            ).label("v"),
        ).where(open_at(workspace_id, filters, literal(moment, type_=when)))
        for group, moment in moments
    ]
    return union_all(*branches).subquery()


def _open_fact_conditions(
    workspace_id: int, filters: ReportFilters, moment: datetime
) -> list[ColumnElement[bool]]:
    """Facts of conversations open at ``moment``: begun before it, open until after it
    (``open_until``, migration 0027), within the cuts: tested in that order, so a segment's
    or a type's look-up is made only for the conversations open then."""
    fact = ReportConversation
    when = literal(moment, type_=fact.first_inbound_at.type)
    return [
        fact.first_inbound_at < when,
        or_(fact.open_until.is_(None), fact.open_until >= when),
        *facts_cuts(workspace_id, filters),
    ]


def _open_facts(
    dialect: str, workspace_id: int, filters: ReportFilters, moments: Sequence[tuple[Any, datetime]]
) -> Any:
    """The same rows from the reports' facts: one range of the table."""
    fact = ReportConversation
    when = fact.first_inbound_at.type
    branches = [
        select(
            group.label("grp"),
            seconds_between(dialect, fact.first_inbound_at, literal(moment, type_=when)).label("v"),
        ).where(*_open_fact_conditions(workspace_id, filters, moment))
        for group, moment in moments
    ]
    return union_all(*branches).subquery()


def _backlog_walked(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    by: str,
    of: Any,
    with_total: bool = False,
    ages: bool = True,
) -> None:
    """The backlog at the end of the period per channel or all together (and, per channel
    ``with_total``, all together too, key None), its ages read at their ranks by walking the
    facts newest first (``ranks.py``: SQLite, no cut but the channel)."""
    fact = ReportConversation
    conditions = _open_fact_conditions(workspace_id, filters, filters.until)
    counted = (
        select(fact.origin_channel_id, func.count()).group_by(fact.origin_channel_id)
        if by == "channel"
        else select(literal(0), func.count())
    )
    counts: dict[Any, int] = dict(session.execute(counted.where(*conditions)).tuples().all())
    walked = {key: (key if by == "channel" else filters.channel_id) for key in counts}
    if by == "channel" and with_total:
        counts[None] = sum(counts.values())  # a count adds up; its ranks are walked again
        walked[None] = filters.channel_id
    for key, count in counts.items():
        if not count:
            continue
        found = of(key)
        found.backlog = count
        if not ages:
            continue
        median, p90 = backlog_ages_at_ranks(
            session, workspace_id, filters.until, walked[key], count, (0.5, 0.9)
        )
        found.backlog_age_median_s = _seconds(median)
        found.backlog_age_p90_s = _seconds(p90)


def _backlog(
    session: Session,
    dialect: str,
    rows: Any,
    of: Any,
    counts: bool = True,
    with_total: bool = False,
    from_facts: bool = True,
) -> None:
    """Each group's open conversations (``rows``: columns ``grp`` and ``v``, the age) counted,
    and their ages' median and p90; ``with_total``: all the groups together too, key None.
    From the raw tables, the nearest ranks' definition written out (``sqlfn.percentiles``)."""
    for key, (count, (median, p90)) in _percentiles(
        session, dialect, rows, with_total, from_facts
    ).items():
        figures = of(key)
        if counts:
            figures.backlog = count
        figures.backlog_age_median_s = _seconds(median)
        figures.backlog_age_p90_s = _seconds(p90)


def _backlog_over_time(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    ends: dict[Any, datetime],
    of: Any,
) -> None:
    """The backlog at the end of each period without a scan per period: open at T = begun
    before T − finished before T. Two GROUP BYs (by the period conversations began in, and
    the one they were finished in; -1: before the first); Python adds the periods up."""
    order = sorted(ends.items(), key=lambda item: item[1])
    finished = case(  # the last resolution, never before the conversation began
        (Conversation.resolved_at > Conversation.first_inbound_at, Conversation.resolved_at),
        else_=Conversation.first_inbound_at,
    )
    began = _by_period(session, workspace_id, filters, Conversation.first_inbound_at, order)
    ended = _by_period(
        session, workspace_id, filters, finished, order, Conversation.status.not_in(UNFINISHED)
    )
    running = began.get(-1, 0) - ended.get(-1, 0)
    for position, (key, _) in enumerate(order):
        running += began.get(position, 0) - ended.get(position, 0)
        of(key).backlog = running


def _by_period(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    moment: Any,
    order: Sequence[tuple[Any, datetime]],
    *more: ColumnElement[bool],
) -> dict[int, int]:
    when = Conversation.first_inbound_at.type
    period = case(
        (moment < literal(filters.since, type_=when), -1),
        *((moment < literal(end, type_=when), i) for i, (_, end) in enumerate(order)),
        else_=None,
    ).label("period")
    rows = session.execute(
        select(period, func.count())
        .where(
            *backlog_candidates(workspace_id, filters),
            Conversation.first_inbound_at < literal(order[-1][1], type_=when),
            moment < literal(order[-1][1], type_=when),
            *more,
        )
        .group_by(period)
    )
    return {position: count for position, count in rows if position is not None}


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def kept_promises_by_month_and_kind(
    session: Session, workspace_id: int, filters: ReportFilters, cut: Sequence[tuple[Any, ...]]
) -> dict[tuple[int, str], tuple[int, int]]:
    """For the transparency page: per period of ``cut`` (its index) and channel kind (the
    kind the conversation began on), the cohort's conversations and those whose first
    response met its target. One query."""
    bucket = case(
        *(
            (and_(Conversation.first_inbound_at >= start, Conversation.first_inbound_at < end), i)
            for i, (_, start, end) in enumerate(cut)
        ),
        else_=None,
    ).label("bucket")
    rows = session.execute(
        select(
            bucket,
            ChannelAccount.kind,
            func.count(),
            func.sum(case((kept_first_response(), 1), else_=0)),
        )
        .join(ChannelAccount, ChannelAccount.id == Conversation.origin_channel_id)
        .where(cohort_of(workspace_id, filters))
        .group_by(bucket, ChannelAccount.kind)
    )
    return {
        (index, kind): (count, int(within or 0))
        for index, kind, count, within in rows
        if index is not None
    }
