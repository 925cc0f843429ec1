"""Routing again: an agent's conversations when they go offline, and the teams' queues.

- ``reroute_unavailable``: the open conversations of agents who went offline (said so, or
  online but idle past ``presence_idle``; "away" is a short break and keeps them) that were
  not answered yet (or all of them, when their team says so) go back through their team's
  routing: another agent, or the queue. Each move is a ``conversation.rerouted`` event; the
  agent, the new one and the team are told.
- ``route_queue``: conversations waiting unassigned in a team that assigns, oldest first,
  given to whoever can take them now (someone came online, or resolved one).

Both lock the rows they move (``SKIP LOCKED`` on PostgreSQL: two workers never move the same
conversation) and read the agents and their loads once per batch.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, not_, or_, select
from sqlalchemy.orm import Session, selectinload

from filrouge.core.actions.team_routing import (
    ASSIGNED,
    Route,
    decide_in_team,
    skills_of,
    write_routes,
)
from filrouge.core.models import ChannelAccount, Conversation, Team, User
from filrouge.core.presence import ANSWERING_ROLES, Presence, available
from filrouge.core.routing.agents import OPEN, Pool
from filrouge.core.routing.skills import AUTOMATIC, ROUTED, Facts, TeamSkills

BATCH = 200


def reroute_unavailable(session: Session, idle: timedelta, limit: int = BATCH) -> int:
    """Move the unanswered conversations of agents gone offline; how many moved."""
    rows = list(session.execute(_lock(_of_unavailable(idle), limit)))
    if not rows:
        return 0
    teams = _teams(session, {row.team_id for row in rows})
    pool = Pool.load(session, {t.id for t in teams.values() if t.strategy in AUTOMATIC}, idle)
    routes = [
        decide_in_team(pool, _facts(row), teams[row.team_id], row.assignee_id) for row in rows
    ]
    write_routes(session, routes, pool, action="conversation.rerouted")
    return len(routes)


def route_queue(session: Session, idle: timedelta, limit: int = BATCH) -> int:
    """Give the conversations waiting in the teams' queues to whoever can take them now."""
    rows = list(session.execute(_lock(_waiting(), limit)))
    if not rows:
        return 0
    teams = _teams(session, {row.team_id for row in rows})
    pool = Pool.load(session, teams, idle)
    routes: list[Route] = [
        decide_in_team(pool, _facts(row), teams[row.team_id], None) for row in rows
    ]
    given = [route for route in routes if route.why == ASSIGNED]
    write_routes(session, given, pool)
    return len(given)


def _columns() -> Select[Any]:
    return select(
        Conversation.id,
        Conversation.workspace_id,
        Conversation.customer_id,
        Conversation.team_id,
        Conversation.assignee_id,
        ChannelAccount.kind.label("channel_kind"),
    ).join(ChannelAccount, ChannelAccount.id == Conversation.channel_id)


def _of_unavailable(idle: timedelta) -> Select[Any]:
    return (
        _columns()
        .join(Team, Team.id == Conversation.team_id)
        .join(User, User.id == Conversation.assignee_id)
        .where(
            Conversation.status.in_(OPEN),
            Team.strategy.in_(ROUTED),
            or_(Conversation.first_response_at.is_(None), Team.reroute_answered.is_(True)),
            User.role.in_(ANSWERING_ROLES),  # a contributor was given it by hand: theirs
            User.presence != Presence.AWAY,
            not_(available(idle)),
        )
    )


def _waiting() -> Select[Any]:
    return (
        _columns()
        .join(Team, Team.id == Conversation.team_id)
        .where(
            Conversation.status.in_(OPEN),
            Conversation.assignee_id.is_(None),
            Team.strategy.in_(AUTOMATIC),
        )
    )


def _lock(query: Select[Any], limit: int) -> Select[Any]:
    return (
        query.order_by(Conversation.id)
        .limit(limit)
        .with_for_update(of=Conversation, skip_locked=True)
    )


def _teams(session: Session, ids: set[int]) -> dict[int, TeamSkills]:
    teams = session.scalars(
        select(Team).where(Team.id.in_(sorted(ids))).options(selectinload(Team.members))
    )
    return {team.id: skills_of(team) for team in teams}


def _facts(row: Any) -> Facts:
    return Facts(
        conversation_id=row.id,
        workspace_id=row.workspace_id,
        channel_kind=row.channel_kind,
        customer_id=row.customer_id,
    )
