"""Calendars of service levels: a team's own, and the workspace's default (office hours in
France unless changed). Saved only when ``check_hours`` accepts them; the conversations they
time are then worked out again by the SLA sweeper."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.calendars import check_calendar
from filrouge.core.errors import NotFound
from filrouge.core.models import Conversation, Team, Workspace
from filrouge.core.models.enums import ConversationStatus
from filrouge.core.sla import DEFAULT_CALENDAR

UNFINISHED = (ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING)


def workspace_calendar(workspace: Workspace) -> dict[str, Any]:
    calendar = (workspace.settings or {}).get("calendar")
    return calendar if isinstance(calendar, dict) else DEFAULT_CALENDAR


def set_team_calendar(
    session: Session, workspace_id: int, team_id: int, calendar: dict[str, Any] | None, actor: Actor
) -> Team:
    """The team's own calendar (None: the workspace's)."""
    team = session.get(Team, team_id)
    if team is None or team.workspace_id != workspace_id:
        raise NotFound("unknown_team", "There is no team {id}.", field="team_id", id=team_id)
    if calendar is not None:
        check_calendar(calendar)
    before = team.calendar
    team.calendar = calendar
    record_event(
        session,
        workspace_id,
        actor,
        ("team", team.id),
        "team.calendar_changed",
        {"calendar": before},
        {"calendar": calendar},
    )
    recompute_service_levels(session, workspace_id, team_id=team.id)
    return team


def set_workspace_calendar(
    session: Session, workspace_id: int, calendar: dict[str, Any], actor: Actor
) -> None:
    check_calendar(calendar)
    workspace = session.get_one(Workspace, workspace_id)
    before = workspace_calendar(workspace)
    workspace.settings = {**(workspace.settings or {}), "calendar": calendar}
    record_event(
        session,
        workspace_id,
        actor,
        ("workspace", workspace_id),
        "workspace.calendar_changed",
        {"calendar": before},
        {"calendar": calendar},
    )
    recompute_service_levels(session, workspace_id)


def recompute_service_levels(
    session: Session, workspace_id: int, team_id: int | None = None
) -> None:
    """Unfinished conversations are worked out again (by the sweeper) under the new rules."""
    query = update(Conversation).where(
        Conversation.workspace_id == workspace_id, Conversation.status.in_(UNFINISHED)
    )
    if team_id is not None:
        query = query.where(Conversation.team_id == team_id)
    session.execute(
        query.values(sla_checked_at=None), execution_options={"synchronize_session": False}
    )
