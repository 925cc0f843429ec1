"""Teams: groups of agents that share a queue ("my team" in the inbox)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, Invalid, NotFound
from filrouge.core.models import Team, User


def list_teams(session: Session, workspace_id: int) -> list[Team]:
    return list(
        session.scalars(select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name))
    )


def create_team(session: Session, workspace_id: int, name: str, actor: Actor) -> Team:
    team = Team(workspace_id=workspace_id, name=_check_name(session, workspace_id, name))
    session.add(team)
    session.flush()
    record_event(
        session, workspace_id, actor, ("team", team.id), "team.created", after={"name": team.name}
    )
    return team


def update_team(
    session: Session,
    workspace_id: int,
    team_id: int,
    name: str,
    member_ids: Iterable[int],
    actor: Actor,
) -> Team:
    """Rename a team and set its members (users of the same workspace only)."""
    team = session.get(Team, team_id)
    if team is None or team.workspace_id != workspace_id:
        raise NotFound("unknown_team", "There is no team {id}.", field="team_id", id=team_id)
    before = {"name": team.name, "members": sorted(u.id for u in team.members)}
    if name.strip() != team.name:
        team.name = _check_name(session, workspace_id, name)
    team.members = _members(session, workspace_id, set(member_ids))
    after = {"name": team.name, "members": sorted(u.id for u in team.members)}
    if before != after:
        record_event(session, workspace_id, actor, ("team", team.id), "team.updated", before, after)
    return team


def _check_name(session: Session, workspace_id: int, name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise Invalid("invalid_name", "A name must have 1 to 200 characters.", field="name")
    taken = session.scalar(
        select(func.count()).where(
            Team.workspace_id == workspace_id, func.lower(Team.name) == cleaned.lower()
        )
    )
    if taken:
        raise Conflict(
            "team_exists", "A team named {name} already exists.", field="name", name=cleaned
        )
    return cleaned


def _members(session: Session, workspace_id: int, user_ids: set[int]) -> list[User]:
    users = list(
        session.scalars(
            select(User).where(User.id.in_(user_ids), User.workspace_id == workspace_id)
        )
    )
    if len(users) != len(user_ids):
        raise Invalid("unknown_user", "Some of these people do not exist.", field="members")
    return users
