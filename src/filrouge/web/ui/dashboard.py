"""``/reports``: the supervisors' dashboard (headline with trend, channel table, charts), the
conversations behind a figure, and the same figures as CSV, XLSX and PDF."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BeforeValidator
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.segments import segment_filter, visible_segments
from filrouge.core.errors import Invalid
from filrouge.core.indicators.dashboard import (
    COLUMNS,
    DRILL_DOWN,
    DURATIONS,
    SERIES,
    SHARES,
    Dashboard,
    Figure,
    conversations_behind,
    gather_dashboard,
    workspace_zone,
)
from filrouge.core.indicators.display import Display
from filrouge.core.indicators.exports import (
    XLSX_TYPE,
    channel_table,
    series_table,
    to_csv,
    to_xlsx,
)
from filrouge.core.indicators.period import ReportFilters, report_period
from filrouge.core.indicators.printed import dashboard_pdf
from filrouge.core.models import ChannelAccount, Team, User, Workspace
from filrouge.core.queries import ConversationFilters, list_conversations
from filrouge.db import transaction
from filrouge.lib.timeutil import utcnow
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import MAX_ID, TextQuery
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.inbox import inbox_rows
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Visitor, PageAllowed("dashboard:view")]
PAGE_SIZE = 50
CSV_TYPE = "text/csv; charset=utf-8"


def _blank(value: Any) -> Any:
    """A filter left on "all" in the form arrives empty: no filter."""
    return None if value == "" else value


DayQuery = Annotated[date | None, Query(), BeforeValidator(_blank)]
IdChoice = Annotated[int | None, Query(ge=1, le=MAX_ID), BeforeValidator(_blank)]
PriorityChoice = Annotated[
    Literal["low", "normal", "high", "urgent"] | None, Query(), BeforeValidator(_blank)
]


@dataclass(frozen=True)
class DashboardQuery:
    """The filters of the form, as sent (local dates; ids of the workspace's things)."""

    since: date | None
    until: date | None
    interval: Literal["day", "week", "month"]
    channel_id: int | None
    team_id: int | None
    agent_id: int | None
    priority: str | None
    segment: int | None

    def link(self, **changes: Any) -> str:
        """The query string of these filters, with ``changes``, without the empty ones."""
        values = {**asdict(self), **changes}
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def dashboard_query(
    since: DayQuery = None,
    until: DayQuery = None,
    interval: Literal["day", "week", "month"] = "day",
    channel_id: IdChoice = None,
    team_id: IdChoice = None,
    agent_id: IdChoice = None,
    priority: PriorityChoice = None,
    segment: IdChoice = None,
) -> DashboardQuery:
    return DashboardQuery(since, until, interval, channel_id, team_id, agent_id, priority, segment)


QueryDep = Annotated[DashboardQuery, Depends(dashboard_query)]


@router.get("/reports")
def dashboard_page(
    request: Request, factory: FactoryDep, visitor: Viewer, query: QueryDep
) -> Response:
    display = Display(locale_for(request, visitor.user))
    error: Invalid | None = None
    with transaction(factory) as session:
        try:
            dashboard: Dashboard | None = _gather(session, visitor.user, query)
        except Invalid as exc:  # a reversed or too long period: said above the form
            dashboard, error = None, exc
        choices = _choices(session, visitor.user)
    context = {
        "dashboard": dashboard,
        "error": error,
        "query": query,
        "display": display,
        "columns": COLUMNS,
        "drill_down": DRILL_DOWN,
        "chart": None if dashboard is None else chart_data(dashboard, display),
        **choices,
    }
    return render(request, "reports.html", context, visitor, status=422 if error else 200)


@router.get("/reports/conversations")
def conversations_behind_page(
    request: Request,
    factory: FactoryDep,
    visitor: Viewer,
    query: QueryDep,
    figure: Figure = "all",
    cursor: TextQuery = None,
) -> Response:
    """The conversations a figure counts, listed like the inbox (within what one may see)."""
    with transaction(factory) as session:
        filters = _filters(session, visitor.user, query)
        cohort = conversations_behind(visitor.user.workspace_id, filters, figure)
        page = list_conversations(
            session, visitor.user, ConversationFilters(cohort=cohort), PAGE_SIZE, cursor
        )
        rows = inbox_rows(session, page.items)
        channels = {c.id: c for c in session.scalars(_channels_of(visitor.user))}
    context = {
        "rows": rows,
        "channels": channels,
        "figure": figure,
        "query": query,
        "next_cursor": page.next_cursor,
        "first_day": filters.since.astimezone(filters.zone).date(),
        "last_day": _last_day(filters),
        "display": Display(locale_for(request, visitor.user)),
    }
    return render(request, "reports_conversations.html", context, visitor)


@router.get("/reports/channels.csv")
def channels_csv(
    request: Request, factory: FactoryDep, visitor: Viewer, query: QueryDep
) -> Response:
    dashboard, display = _dashboard(request, factory, visitor, query)
    body = to_csv(channel_table(dashboard, display))
    return _file(body, CSV_TYPE, _name(dashboard, "channels", "csv"))


@router.get("/reports/timeseries.csv")
def timeseries_csv(
    request: Request, factory: FactoryDep, visitor: Viewer, query: QueryDep
) -> Response:
    dashboard, display = _dashboard(request, factory, visitor, query)
    body = to_csv(series_table(dashboard, display))
    return _file(body, CSV_TYPE, _name(dashboard, "timeseries", "csv"))


@router.get("/reports/dashboard.xlsx")
def dashboard_xlsx(
    request: Request, factory: FactoryDep, visitor: Viewer, query: QueryDep
) -> Response:
    dashboard, display = _dashboard(request, factory, visitor, query)
    tables = [channel_table(dashboard, display), series_table(dashboard, display)]
    return _file(to_xlsx(tables), XLSX_TYPE, _name(dashboard, "dashboard", "xlsx"))


@router.get("/reports/dashboard.pdf")
def dashboard_report_pdf(
    request: Request, factory: FactoryDep, visitor: Viewer, query: QueryDep
) -> Response:
    dashboard, display = _dashboard(request, factory, visitor, query)
    with transaction(factory) as session:
        workspace = session.get_one(Workspace, visitor.user.workspace_id).name
    body = dashboard_pdf(dashboard, display, workspace)
    return _file(body, "application/pdf", _name(dashboard, "report", "pdf"))


def chart_data(dashboard: Dashboard, display: Display) -> dict[str, Any]:
    """What reports.js draws, embedded in the page as JSON (labels already in the reader's
    language; values raw: shares 0–1, durations in minutes)."""
    days = [day for day, _ in dashboard.series[SERIES[0]]]
    return {
        "locale": display.locale,
        "labels": [display.period_day(day, dashboard.interval) for day in days],
        "noData": display._("No data"),
        "series": [
            {
                "metric": metric,
                "label": display.label(metric),
                "kind": _kind(metric),
                "axis": _axis(display, metric),
                "values": [_chart_value(metric, value) for _, value in dashboard.series[metric]],
            }
            for metric in SERIES
        ],
    }


def _kind(metric: str) -> str:
    if metric in SHARES:
        return "share"
    return "duration" if metric in DURATIONS else "count"


def _axis(display: Display, metric: str) -> str:
    if metric in SHARES:
        return display._("share of conversations")
    if metric in DURATIONS:
        return display._("minutes")
    return display._("conversations")


def _chart_value(metric: str, value: Any) -> Any:
    if value is None or metric not in DURATIONS:
        return value
    return round(float(value) / 60, 1)


def _dashboard(
    request: Request, factory: Any, visitor: Visitor, query: DashboardQuery
) -> tuple[Dashboard, Display]:
    with transaction(factory) as session:
        dashboard = _gather(session, visitor.user, query)
    return dashboard, Display(locale_for(request, visitor.user))


def _gather(session: Session, user: User, query: DashboardQuery) -> Dashboard:
    return gather_dashboard(
        session, user.workspace_id, _filters(session, user, query), query.interval
    )


def _filters(session: Session, user: User, query: DashboardQuery) -> ReportFilters:
    zone = workspace_zone(session, user.workspace_id)
    since, until = report_period(query.since, query.until, zone, utcnow().astimezone(zone).date())
    filters = ReportFilters(
        since, until, zone, query.channel_id, query.team_id, query.agent_id, query.priority
    )
    return replace(filters, segment=segment_filter(session, user, query.segment))


def _last_day(filters: ReportFilters) -> date:
    return filters.until.astimezone(filters.zone).date() - timedelta(days=1)


def _choices(session: Session, user: User) -> dict[str, Any]:
    """What the filters offer: the workspace's channels, teams, people, visible segments."""
    workspace_id = user.workspace_id
    return {
        "channels": list(session.scalars(_channels_of(user))),
        "teams": list(
            session.scalars(
                select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name)
            )
        ),
        "agents": list(
            session.scalars(
                select(User)
                .where(User.workspace_id == workspace_id, User.role != "contributor")
                .order_by(User.name)
            )
        ),
        "segments": visible_segments(session, user),
    }


def _channels_of(user: User) -> Any:
    return (
        select(ChannelAccount)
        .where(ChannelAccount.workspace_id == user.workspace_id)
        .order_by(ChannelAccount.id)
    )


def _name(dashboard: Dashboard, what: str, extension: str) -> str:
    """``channels-2026-11-01-2026-11-30.csv``: the period in the file's name."""
    return f"{what}-{dashboard.first_day}-{dashboard.last_day}.{extension}"


def _file(body: str | bytes, media_type: str, name: str) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(body, media_type=media_type, headers=headers)
