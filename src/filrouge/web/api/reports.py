"""``/reports``: the indicators of docs/METRICS.md, per channel and over time (supervisors)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.segments import segment_filter
from filrouge.core.hours import BadHours, read_zone
from filrouge.core.indicators.period import ReportFilters, report_period
from filrouge.core.indicators.reports import METRICS, channel_report, timeseries
from filrouge.core.models import ChannelAccount, User, Workspace
from filrouge.db import transaction
from filrouge.lib.timeutil import isoformat, utcnow
from filrouge.web.deps import Allowed, FactoryDep

router = APIRouter(prefix="/reports", tags=["reports"])
Reader = Annotated[User, Allowed("reports:read")]
Day = Annotated[date | None, Query(description="A local date, YYYY-MM-DD (both ends included).")]
Id = Annotated[int | None, Query(ge=1)]
PriorityQuery = Annotated[Literal["low", "normal", "high", "urgent"] | None, Query()]
TypeQuery = Annotated[
    Literal["question", "complaint", "compliment", "information", "purchase_intent", "other"]
    | None,
    Query(description="The type triage gave the conversation's first customer message."),
]


@router.get("/channels")
def channels_report(
    factory: FactoryDep,
    user: Reader,
    since: Day = None,
    until: Day = None,
    team_id: Id = None,
    agent_id: Id = None,
    priority: PriorityQuery = None,
    segment: Id = None,
    type: TypeQuery = None,
) -> dict[str, Any]:
    """One object per channel with at least ``channel_id, conversations, inbound_messages,
    response_rate, first_response_median_s, first_response_p90_s, resolution_median_s,
    fcr_rate, csat, sla_compliance, public_replies, signed_replies_share``; shares are 0–1,
    durations in seconds; ``null`` where there is nothing to count."""
    with transaction(factory) as session:
        filters = _filters(session, user, since, until, None, team_id, agent_id, priority)
        filters = replace(filters, segment=segment_filter(session, user, segment), type=type)
        per_channel, total = channel_report(session, user.workspace_id, filters)
        channels = _channels(session, user.workspace_id)
    return {
        **_period(filters),
        "channels": [
            {
                "channel_id": channel.id,
                "channel_name": channel.name,
                "channel_kind": channel.kind,
                **per_channel[channel.id].public(),
            }
            for channel in channels
            if channel.id in per_channel
        ],
        "total": total.public(),
    }


@router.get("/timeseries")
def timeseries_report(
    factory: FactoryDep,
    user: Reader,
    metric: Annotated[str, Query(max_length=64)],
    interval: Literal["day", "week", "month"] = "day",
    since: Day = None,
    until: Day = None,
    channel_id: Id = None,
    team_id: Id = None,
    agent_id: Id = None,
    priority: PriorityQuery = None,
    segment: Id = None,
    type: TypeQuery = None,
) -> dict[str, Any]:
    """``metric`` (any field of the channels report) for each day, week or month."""
    with transaction(factory) as session:
        filters = _filters(session, user, since, until, channel_id, team_id, agent_id, priority)
        filters = replace(filters, segment=segment_filter(session, user, segment), type=type)
        points = timeseries(session, user.workspace_id, filters, metric, interval)
    return {
        **_period(filters),
        "metric": metric,
        "interval": interval,
        "metrics": list(METRICS),
        "points": [{"start": day.isoformat(), "value": value} for day, value in points],
    }


def _filters(
    session: Session,
    user: User,
    since: date | None,
    until: date | None,
    channel_id: int | None,
    team_id: int | None,
    agent_id: int | None,
    priority: str | None,
) -> ReportFilters:
    zone = workspace_zone(session.get_one(Workspace, user.workspace_id))
    start, end = report_period(since, until, zone, utcnow().astimezone(zone).date())
    return ReportFilters(start, end, zone, channel_id, team_id, agent_id, priority)


def workspace_zone(workspace: Workspace) -> Any:
    try:
        return read_zone((workspace.settings or {}).get("timezone"))
    except BadHours:  # a zone that cannot be read: reports in Paris time rather than none
        return read_zone(None)


def _period(filters: ReportFilters) -> dict[str, Any]:
    return {
        "since": isoformat(filters.since),
        "until": isoformat(filters.until),
        "timezone": filters.zone.key,
    }


def _channels(session: Session, workspace_id: int) -> list[ChannelAccount]:
    return list(
        session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.workspace_id == workspace_id)
            .order_by(ChannelAccount.id)
        )
    )
