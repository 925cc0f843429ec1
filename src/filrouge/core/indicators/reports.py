"""Reports: the figures per channel (the channel comparison table) and one figure over time."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Literal

from sqlalchemy import case, literal
from sqlalchemy.orm import Session

from filrouge.core.errors import Invalid
from filrouge.core.indicators.figures import Figures, Grouping, compute
from filrouge.core.indicators.period import Interval, ReportFilters, buckets
from filrouge.core.indicators.service_levels import add_service_levels
from filrouge.core.models import Conversation, Message, Survey

METRICS = tuple(Figures.__dataclass_fields__)
Metric = Literal[
    "conversations",
    "inbound_messages",
    "replies",
    "response_rate",
    "first_response_median_s",
    "first_response_p90_s",
    "resolution_median_s",
    "resolution_rate",
    "fcr_rate",
    "reopen_rate",
    "csat",
    "nps",
    "sla_compliance",
    "response_rate_within_sla",
    "first_response_business_median_s",
    "backlog",
]

BY_CHANNEL = Grouping(
    conversation=lambda: Conversation.origin_channel_id,
    message=lambda: Message.channel_id,
    survey=lambda: Survey.channel_id,
)
ALL_TOGETHER = Grouping(
    conversation=lambda: literal(0), message=lambda: literal(0), survey=lambda: literal(0)
)


def channel_report(
    session: Session, workspace_id: int, filters: ReportFilters
) -> tuple[dict[int, Figures], Figures]:
    """The figures of each channel (conversations on the channel they began on, messages on
    the channel they travelled on, surveys on the channel they went out on), and the total."""
    per_channel = _with_service_levels(session, workspace_id, filters, BY_CHANNEL)
    total = _with_service_levels(session, workspace_id, filters, ALL_TOGETHER).get(0, Figures())
    return per_channel, total


def _with_service_levels(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    grouping: Grouping,
    wanted: tuple[str, ...] | None = None,
) -> dict[Any, Figures]:
    found = compute(session, workspace_id, filters, grouping)
    add_service_levels(session, workspace_id, filters, grouping, found, wanted)
    return found


def timeseries(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    metric: str,
    interval: Interval,
) -> list[tuple[date, Any]]:
    """``metric`` for each day, week or month of the period (None: no data that period)."""
    if metric not in METRICS:
        raise Invalid(
            "unknown_metric", "There is no metric {metric}.", field="metric", metric=metric
        )
    found = figures_over_time(session, workspace_id, filters, interval, (metric,))
    return [(day, getattr(figures, metric)) for day, figures in found]


def figures_over_time(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    interval: Interval,
    wanted: tuple[str, ...] | None = None,
) -> list[tuple[date, Figures]]:
    """The figures for each day, week or month of the period (the dashboard draws several
    from one pass); the service levels only for the ``wanted`` fields (all when None)."""
    cut = buckets(filters.since, filters.until, interval, filters.zone)

    def bucket_of(column: Any) -> Any:
        return case(
            *(
                (column.between(start, end) & (column < end), index)
                for index, (_, start, end) in enumerate(cut)
            ),
            else_=None,
        )

    grouping = Grouping(
        conversation=lambda: bucket_of(Conversation.first_inbound_at),
        message=lambda: bucket_of(Conversation.first_inbound_at),
        survey=lambda: bucket_of(Survey.answered_at),
    )
    days_of = {
        index: (end - start).total_seconds() / 86400 for index, (_, start, end) in enumerate(cut)
    }
    ends_of = {index: end for index, (_, _, end) in enumerate(cut)}  # the backlog's moments
    scoped = replace(filters, extra={**filters.extra, "days_of": days_of, "ends_of": ends_of})
    found = _with_service_levels(session, workspace_id, scoped, grouping, wanted)
    return [(day, found.get(index, Figures())) for index, (day, _, _) in enumerate(cut)]
