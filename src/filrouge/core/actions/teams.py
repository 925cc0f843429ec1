"""Teams: groups of agents that share a queue ("my team" in the inbox), how conversations
reach them (strategy and skills), and each agent's capacity."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.actions.conversations import normalise_tag
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, Invalid, NotFound, check_choice
from filrouge.core.models import Team, User
from filrouge.core.models.enums import ChannelKind
from filrouge.core.routing.capacity import DEFAULT_CAPACITY, capacity_for, check_capacity
from filrouge.core.routing.skills import Strategy

_LANGUAGE = re.compile(r"[a-z]{2}")


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


@dataclass(frozen=True)
class TeamRouting:
    """How new conversations reach a team and its agents (core/routing/)."""

    strategy: str = Strategy.OFF
    languages: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    channel_kinds: list[str] = field(default_factory=list)
    reroute_answered: bool = False


def team_in_workspace(session: Session, workspace_id: int, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None or team.workspace_id != workspace_id:
        raise NotFound("unknown_team", "There is no team {id}.", field="team_id", id=team_id)
    return team


def set_team_routing(
    session: Session, workspace_id: int, team_id: int, routing: TeamRouting, actor: Actor
) -> Team:
    """Set a team's strategy and skills (each checked; tags and codes normalised)."""
    team = team_in_workspace(session, workspace_id, team_id)
    check_choice(routing.strategy, Strategy, "strategy")
    before = routing_of(team)
    team.strategy = routing.strategy
    team.languages = _languages(routing.languages)
    team.topics = sorted({normalise_tag(topic) for topic in routing.topics})
    team.channel_kinds = _channel_kinds(routing.channel_kinds)
    team.reroute_answered = routing.reroute_answered
    after = routing_of(team)
    if before != after:
        record_event(
            session, workspace_id, actor, ("team", team.id), "team.routing_changed", before, after
        )
    return team


def routing_of(team: Team) -> dict[str, Any]:
    return {
        "strategy": team.strategy,
        "languages": list(team.languages or []),
        "topics": list(team.topics or []),
        "channel_kinds": list(team.channel_kinds or []),
        "reroute_answered": bool(team.reroute_answered),
    }


def _languages(codes: Iterable[str]) -> list[str]:
    cleaned = sorted({code.strip().lower() for code in codes if code.strip()})
    for code in cleaned:
        if not _LANGUAGE.fullmatch(code):
            raise Invalid(
                "invalid_language",
                "{value} is not a language code (two letters, e.g. fr).",
                field="languages",
                value=code,
            )
    return cleaned


def _channel_kinds(kinds: Iterable[str]) -> list[str]:
    cleaned = sorted({kind.strip() for kind in kinds if kind.strip()})
    for kind in cleaned:
        check_choice(kind, ChannelKind, "channel_kinds")
    return cleaned


def set_capacity(
    session: Session, workspace_id: int, user_id: int, capacity: dict[str, Any], actor: Actor
) -> User:
    """An agent's own capacity per kind of work (what is not given: the defaults)."""
    user = session.get(User, user_id)
    if user is None or user.workspace_id != workspace_id:
        raise NotFound("unknown_user", "There is no user {id}.", field="user_id", id=user_id)
    checked = check_capacity(capacity)
    before = dict(user.capacity or {})
    if checked != before:
        user.capacity = checked
        record_event(
            session,
            workspace_id,
            actor,
            ("user", user.id),
            "user.capacity_changed",
            {"capacity": before},
            {"capacity": checked},
        )
    return user


def capacities_of(user: User) -> dict[str, int]:
    """Every kind of work with the figure that applies to the agent."""
    return {kind: capacity_for(user.capacity, kind) for kind in DEFAULT_CAPACITY}
