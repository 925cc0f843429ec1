"""Reports: the figures per channel (the channel comparison table) and one figure over time,
read from the reports' facts (``figures.compute``); the ``*_with`` forms take another way of
computing them (``reference.compute_from_tables``: the raw tables)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from filrouge.core.errors import Invalid
from filrouge.core.indicators.figures import Compute, Figures, Grouping, compute
from filrouge.core.indicators.period import Interval, ReportFilters, buckets
from filrouge.core.indicators.service_levels import add_service_levels

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

BY_CHANNEL = Grouping("channel")
BY_CHANNEL_AND_TOTAL = Grouping("channel", with_total=True)
ALL_TOGETHER = Grouping("total")


def channel_report(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    wanted: tuple[str, ...] | None = None,
) -> tuple[dict[int, Figures], Figures]:
    """The figures of each channel (conversations on the channel they began on, messages on
    the channel they travelled on, surveys on the channel they went out on), and the total;
    only the ``wanted`` figures' queries run (every figure when None: the API's report)."""
    return channel_report_with(compute, session, workspace_id, filters.asking_for(wanted))


def channel_report_with(
    figures_of: Compute, session: Session, workspace_id: int, filters: ReportFilters
) -> tuple[dict[int, Figures], Figures]:
    """``channel_report`` with the figures of ``figures_of`` (the facts, or the raw SQL that
    checks them); the service levels from ``sla_outcomes`` either way; only the figures of
    ``filters.extra["metrics"]`` when it is given."""
    wanted: Any = filters.extra.get("metrics")
    per_channel = figures_of(session, workspace_id, filters, BY_CHANNEL_AND_TOTAL)
    total = per_channel.pop(None, None)  # counted in the same queries (summed on SQLite)
    if total is None:
        total = figures_of(session, workspace_id, filters, ALL_TOGETHER).get(0, Figures())
    from_facts = figures_of is compute  # else the raw tables throughout, to check the facts
    levels: dict[Any, Figures] = {**per_channel, None: total}  # the total: key None
    add_service_levels(
        session,
        workspace_id,
        filters,
        BY_CHANNEL_AND_TOTAL,
        levels,
        wanted,
        from_facts=from_facts,
    )
    total = levels.pop(None)
    return levels, total


def total_report(
    session: Session, workspace_id: int, filters: ReportFilters, wanted: tuple[str, ...]
) -> Figures:
    """The ``wanted`` figures of all the channels together (the dashboard's previous period:
    only its headline), running only their families' queries."""
    scoped = filters.asking_for(wanted)
    found = compute(session, workspace_id, scoped, ALL_TOGETHER)
    together = {0: found.get(0, Figures())}
    add_service_levels(session, workspace_id, scoped, ALL_TOGETHER, together, wanted)
    return together[0]


def timeseries(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    metric: str,
    interval: Interval,
) -> list[tuple[date, Any]]:
    """``metric`` for each day, week or month of the period (None: no data that period)."""
    return timeseries_with(compute, session, workspace_id, filters, metric, interval)


def timeseries_with(
    figures_of: Compute,
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    metric: str,
    interval: Interval,
) -> list[tuple[date, Any]]:
    if metric not in METRICS:
        raise Invalid(
            "unknown_metric", "There is no metric {metric}.", field="metric", metric=metric
        )
    found = figures_over_time(session, workspace_id, filters, interval, (metric,), figures_of)
    return [(day, getattr(figures, metric)) for day, figures in found]


def figures_over_time(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    interval: Interval,
    wanted: tuple[str, ...] | None = None,
    figures_of: Compute = compute,
) -> list[tuple[date, Figures]]:
    """The figures for each day, week or month of the period (the dashboard draws several
    from one pass); only the ``wanted`` fields' queries run (all when None)."""
    cut = buckets(filters.since, filters.until, interval, filters.zone)
    grouping = Grouping("period", tuple((start, end) for _, start, end in cut))
    days_of = {
        index: (end - start).total_seconds() / 86400 for index, (_, start, end) in enumerate(cut)
    }
    ends_of = {index: end for index, (_, _, end) in enumerate(cut)}  # the backlog's moments
    extra = {**filters.extra, "days_of": days_of, "ends_of": ends_of}
    scoped = replace(filters, extra=extra).asking_for(wanted)
    found = figures_of(session, workspace_id, scoped, grouping)
    add_service_levels(
        session, workspace_id, scoped, grouping, found, wanted, from_facts=figures_of is compute
    )
    return [(day, found.get(index, Figures())) for index, (day, _, _) in enumerate(cut)]
