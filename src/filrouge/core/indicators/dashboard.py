"""What the supervisors' dashboard shows, gathered once for the page, its exports and its
printed report: the headline figures against the previous period of the same length, one row
per channel, figures over time, and the conversations behind a figure (the drill-down)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from filrouge.core.hours import BadHours, read_zone
from filrouge.core.indicators.figures import (
    SPAM_TAG,
    Figures,
    cohort_of,
    conversation_cuts,
    segment_customers,
)
from filrouge.core.indicators.period import Interval, ReportFilters, local_midnight
from filrouge.core.indicators.reports import (
    METRICS,
    channel_report,
    figures_over_time,
    total_report,
)
from filrouge.core.models import ChannelAccount, Conversation, ConversationTag, Workspace

# The headline, in the order shown (the backlog: at the end of the period, with its trend;
# the page also shows what waits now, whatever the period).
HEADLINE = tuple(
    metric
    for metric in (
        "conversations",
        "response_rate",
        "first_response_median_s",
        "fcr_rate",
        "csat",
        "sla_compliance",
        "backlog",
    )
    if metric in METRICS
)
# The channel comparison table's columns (an observatory's shape).
COLUMNS = (
    "conversations",
    "response_rate",
    "first_response_median_s",
    "fcr_rate",
    "csat",
    "sla_compliance",
    "public_replies",
    "signed_replies_share",
)
SERIES = ("conversations", "response_rate", "first_response_median_s")
SHOWN = tuple(dict.fromkeys((*HEADLINE, *COLUMNS)))  # what the page reads of the reports
LOWER_IS_BETTER = frozenset({"first_response_median_s", "first_response_p90_s", "backlog"})
SHARES = frozenset(metric for metric in METRICS if metric.endswith(("_rate", "_share"))) | {
    "csat",
    "sla_compliance",
}
DURATIONS = frozenset(metric for metric in METRICS if metric.endswith("_s"))

# The conversations behind a figure: the report's cohort, narrowed.
Figure = Literal["all", "answered", "unanswered", "resolved", "backlog"]
FIGURES: tuple[Figure, ...] = ("all", "answered", "unanswered", "resolved", "backlog")
WAITING = ("new", "open")  # the backlog: waiting on the team (pending waits on the customer)
DRILL_DOWN: dict[str, Figure] = {
    "conversations": "all",
    "response_rate": "unanswered",
    "first_response_median_s": "answered",
    "fcr_rate": "resolved",
}


@dataclass(frozen=True)
class Headline:
    metric: str
    value: Any
    previous: Any

    @property
    def change(self) -> float | None:
        """Shares: the difference in points (0–1); counts and durations: relative (0.25 is
        +25 %); None when either side has no data or the previous one is 0."""
        if self.value is None or self.previous is None:
            return None
        if self.metric in SHARES:
            return round(self.value - self.previous, 4)
        if not self.previous:
            return None
        return round((self.value - self.previous) / self.previous, 4)

    @property
    def better(self) -> bool | None:
        """Whether the change is good news (shorter waits, more answers)."""
        if not self.change:
            return None
        return (self.change < 0) is (self.metric in LOWER_IS_BETTER)


@dataclass(frozen=True)
class Backlog:
    """Conversations waiting on the team now, within the cuts (not the period)."""

    waiting: int
    oldest: datetime | None  # the first message of the one that has waited longest


@dataclass(frozen=True)
class ChannelRow:
    channel_id: int
    name: str
    kind: str
    figures: Figures


@dataclass(frozen=True)
class Dashboard:
    filters: ReportFilters
    previous: ReportFilters
    interval: Interval
    headline: list[Headline]
    total: Figures
    rows: list[ChannelRow]
    series: dict[str, list[tuple[date, Any]]]
    backlog: Backlog

    @property
    def first_day(self) -> date:
        return self.filters.since.astimezone(self.filters.zone).date()

    @property
    def last_day(self) -> date:
        return self.filters.until.astimezone(self.filters.zone).date() - timedelta(days=1)

    @property
    def empty(self) -> bool:
        return self.total.conversations == 0 and self.total.csat_answers == 0


def gather_dashboard(
    session: Session, workspace_id: int, filters: ReportFilters, interval: Interval
) -> Dashboard:
    """Everything the dashboard shows for ``filters``, through the indicators' own reports."""
    per_channel, total = channel_report(session, workspace_id, filters, SHOWN)
    before = previous_period(filters)
    previous_total = total_report(session, workspace_id, before, HEADLINE)
    return Dashboard(
        filters=filters,
        previous=before,
        interval=interval,
        headline=[
            Headline(metric, getattr(total, metric), getattr(previous_total, metric))
            for metric in HEADLINE
        ],
        total=total,
        rows=channel_rows(session, workspace_id, per_channel, filters.channel_id),
        series=series(session, workspace_id, filters, interval),
        backlog=backlog_now(session, workspace_id, filters),
    )


def backlog_now(session: Session, workspace_id: int, filters: ReportFilters) -> Backlog:
    """How many conversations wait on the team now, and since when the oldest has."""
    waiting, oldest = session.execute(
        select(func.count(), func.min(Conversation.first_inbound_at)).where(
            _waiting(workspace_id, filters)
        )
    ).one()
    return Backlog(waiting, oldest)


def _waiting(workspace_id: int, filters: ReportFilters) -> ColumnElement[bool]:
    return and_(
        Conversation.workspace_id == workspace_id,
        Conversation.status.in_(WAITING),
        Conversation.first_inbound_at.is_not(None),
        not_(
            exists().where(
                ConversationTag.conversation_id == Conversation.id,
                ConversationTag.tag == SPAM_TAG,
            )
        ),
        *conversation_cuts(replace(filters, segment=None)),
        *(
            # "+ 0": SQLite then counts from the (workspace, status, …) index, which holds the
            # customer, instead of reading every conversation of each of the segment's customers
            [(Conversation.customer_id + 0).in_(segment_customers(filters))]
            if filters.segment is not None
            else []
        ),
    )


def series(
    session: Session, workspace_id: int, filters: ReportFilters, interval: Interval
) -> dict[str, list[tuple[date, Any]]]:
    """The charted figures for each day, week or month, from one pass over the period."""
    found = figures_over_time(session, workspace_id, filters, interval, SERIES)
    return {metric: [(day, getattr(f, metric)) for day, f in found] for metric in SERIES}


def previous_period(filters: ReportFilters) -> ReportFilters:
    """The same number of local days, just before (a period across a change of clocks is as
    many days long, not as many hours)."""
    first = filters.since.astimezone(filters.zone).date()
    end = filters.until.astimezone(filters.zone).date()
    start = first - (end - first)
    return replace(
        filters,
        since=local_midnight(start, filters.zone),
        until=local_midnight(first, filters.zone),
    )


def channel_rows(
    session: Session, workspace_id: int, per_channel: dict[int, Figures], only: int | None
) -> list[ChannelRow]:
    """The channels that have figures, in the order they were created; only the one chosen
    when the report is cut by channel (a reply it sent elsewhere counts in the total)."""
    if only is not None:
        per_channel = {only: per_channel[only]} if only in per_channel else {}
    if not per_channel:
        return []
    channels = session.execute(
        select(ChannelAccount.id, ChannelAccount.name, ChannelAccount.kind)
        .where(
            ChannelAccount.workspace_id == workspace_id,
            ChannelAccount.id.in_(list(per_channel)),
        )
        .order_by(ChannelAccount.id)
    )
    return [ChannelRow(id_, name, kind, per_channel[id_]) for id_, name, kind in channels]


def conversations_behind(
    workspace_id: int, filters: ReportFilters, figure: Figure
) -> ColumnElement[bool]:
    """The conversations a figure counts, as one condition for the conversations list
    (core/queries.ConversationFilters.cohort)."""
    if figure == "backlog":
        return _waiting(workspace_id, filters)
    cohort = cohort_of(workspace_id, filters)
    if figure == "answered":
        return and_(cohort, Conversation.first_response_at.is_not(None))
    if figure == "unanswered":
        return and_(cohort, Conversation.first_response_at.is_(None))
    if figure == "resolved":
        return and_(cohort, Conversation.resolved_at.is_not(None))
    return cohort


def workspace_zone(session: Session, workspace_id: int) -> ZoneInfo:
    """The workspace's time zone (reports cut days at its midnight); Paris if unreadable."""
    workspace = session.get_one(Workspace, workspace_id)
    try:
        return read_zone((workspace.settings or {}).get("timezone"))
    except BadHours:
        return read_zone(None)
