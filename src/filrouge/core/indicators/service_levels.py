"""Service-level figures (docs/METRICS.md, "Service levels"), read from ``sla_outcomes`` (what
``core/actions/sla.py`` stored: met or breached, calendar and business seconds) and from the
conversations still open at the end of a period (the backlog). Each family is one query; Python
only divides."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, not_, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from filrouge.core.indicators.figures import (
    SPAM_TAG,
    Figures,
    Grouping,
    cohort_of,
    conversation_cuts,
)
from filrouge.core.indicators.period import ReportFilters
from filrouge.core.indicators.sqlfn import percentiles, ratio, seconds_between
from filrouge.core.models import ChannelAccount, Conversation, ConversationTag, SlaOutcome
from filrouge.core.models.enums import ConversationStatus
from filrouge.core.sla import Target

UNFINISHED = (ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING)
COMPLIANCE_FIELDS = {
    Target.FIRST_RESPONSE: "sla_first_response_compliance",
    Target.NEXT_RESPONSE: "sla_next_response_compliance",
    Target.RESOLUTION: "sla_resolution_compliance",
}


def add_service_levels(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    grouping: Grouping,
    figures: dict[Any, Figures],
) -> None:
    """Fill the service-level fields of ``figures`` (groups as ``figures.compute`` made
    them). The backlog is counted at the end of the period, or of each period of a time
    series (``filters.extra["ends_of"]``: group → end)."""
    dialect = session.get_bind().dialect.name
    cohort = cohort_of(workspace_id, filters)

    def of(key: Any) -> Figures:
        return figures.setdefault(key, Figures())

    _compliance(session, cohort, grouping, of)
    _kept_first_response(session, cohort, grouping, of)
    _business_first_response(session, dialect, cohort, grouping, of)
    ends: dict[Any, datetime] | None = filters.extra.get("ends_of")  # type: ignore[assignment]
    moments = (
        [(literal(key), end) for key, end in ends.items()]
        if ends is not None
        else [(grouping.conversation(), filters.until)]
    )
    _backlog(session, dialect, workspace_id, filters, moments, of)
    for found in figures.values():
        found.response_rate_within_sla = ratio(found.responded_within_sla, found.conversations)


def decided() -> ColumnElement[bool]:
    """A target whose fate is known: met (``met_at``) or breached (as soon as it was)."""
    return or_(SlaOutcome.breached.is_(True), SlaOutcome.met_at.is_not(None))


def kept() -> ColumnElement[bool]:
    return and_(SlaOutcome.breached.is_(False), SlaOutcome.met_at.is_not(None))


def _compliance(session: Session, cohort: Any, grouping: Grouping, of: Any) -> None:
    group = grouping.conversation().label("grp")
    rows = session.execute(
        select(group, SlaOutcome.target, func.count(), func.sum(case((kept(), 1), else_=0)))
        .select_from(SlaOutcome)
        .join(Conversation, Conversation.id == SlaOutcome.conversation_id)
        .where(cohort, decided())
        .group_by(group, SlaOutcome.target)
    )
    met: dict[Any, int] = {}
    for key, target, count, kept_count in rows:
        found = of(key)
        found.sla_targets += count
        met[key] = met.get(key, 0) + int(kept_count or 0)
        if target in COMPLIANCE_FIELDS:
            setattr(found, COMPLIANCE_FIELDS[target], ratio(kept_count or 0, count))
    for key, count in met.items():
        found = of(key)
        found.sla_breaches = found.sla_targets - count
        found.sla_compliance = ratio(count, found.sla_targets)


def kept_first_response() -> ColumnElement[bool]:
    """The conversation's first response came from a person within its target."""
    return exists().where(
        SlaOutcome.conversation_id == Conversation.id,
        SlaOutcome.target == Target.FIRST_RESPONSE,
        kept(),
    )


def _kept_first_response(session: Session, cohort: Any, grouping: Grouping, of: Any) -> None:
    group = grouping.conversation().label("grp")
    rows = session.execute(
        select(group, func.sum(case((kept_first_response(), 1), else_=0)))
        .where(cohort)
        .group_by(group)
    )
    for key, within in rows:
        of(key).responded_within_sla = int(within or 0)


def _business_first_response(
    session: Session, dialect: str, cohort: Any, grouping: Grouping, of: Any
) -> None:
    rows = (
        select(grouping.conversation().label("grp"), SlaOutcome.business_seconds.label("v"))
        .select_from(SlaOutcome)
        .join(Conversation, Conversation.id == SlaOutcome.conversation_id)
        .where(cohort, SlaOutcome.target == Target.FIRST_RESPONSE, SlaOutcome.met_at.is_not(None))
        .subquery()
    )
    for key, median, p90 in session.execute(percentiles(dialect, rows, "grp", "v", (0.5, 0.9))):
        found = of(key)
        found.first_response_business_median_s = _seconds(median)
        found.first_response_business_p90_s = _seconds(p90)


def open_at(workspace_id: int, filters: ReportFilters, moment: Any) -> ColumnElement[bool]:
    """Conversations open at ``moment``: begun (by a customer's message) before it, not spam,
    and unfinished now or resolved only after it. A conversation closed without a resolution
    has no closing moment: it is left out."""
    return and_(
        Conversation.workspace_id == workspace_id,
        Conversation.first_inbound_at < moment,
        not_(
            exists().where(
                ConversationTag.conversation_id == Conversation.id,
                ConversationTag.tag == SPAM_TAG,
            )
        ),
        or_(Conversation.status.in_(UNFINISHED), Conversation.resolved_at >= moment),
        *conversation_cuts(filters),
    )


def _backlog(
    session: Session,
    dialect: str,
    workspace_id: int,
    filters: ReportFilters,
    moments: Sequence[tuple[Any, datetime]],
    of: Any,
) -> None:
    """One query over every moment (a UNION ALL): each group's open conversations and their
    ages (calendar seconds since the customer's first message)."""
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
    rows = union_all(*branches).subquery()
    counts = session.execute(select(rows.c.grp, func.count()).group_by(rows.c.grp))
    for key, count in counts:
        of(key).backlog = count
    for key, median, p90 in session.execute(percentiles(dialect, rows, "grp", "v", (0.5, 0.9))):
        found = of(key)
        found.backlog_age_median_s = _seconds(median)
        found.backlog_age_p90_s = _seconds(p90)


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
