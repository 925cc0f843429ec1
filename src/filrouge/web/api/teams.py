"""Routing settings: ``/teams`` (strategy and skills) and ``/users/{id}/capacity``;
supervisors and admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from filrouge.core.actions.teams import (
    TeamRouting,
    capacities_of,
    list_teams,
    routing_of,
    set_capacity,
    set_team_routing,
)
from filrouge.core.audit import Actor
from filrouge.core.models import Team, User
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.schemas_routing import (
    CapacityPublic,
    CapacityUpdate,
    TeamPublic,
    TeamRoutingUpdate,
)

router = APIRouter(tags=["routing"])


def team_public(team: Team) -> TeamPublic:
    members = sorted(u.id for u in team.members)
    return TeamPublic(id=team.id, name=team.name, members=members, **routing_of(team))


@router.get("/teams", response_model=list[TeamPublic])
def get_teams(
    factory: FactoryDep, user: Annotated[User, Allowed("routing:read")]
) -> list[TeamPublic]:
    """Every team with its members, strategy and skills."""
    with transaction(factory) as session:
        return [team_public(team) for team in list_teams(session, user.workspace_id)]


@router.put("/teams/{team_id}/routing", response_model=TeamPublic)
def put_team_routing(
    team_id: IdPath,
    body: TeamRoutingUpdate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("routing:manage")],
) -> TeamPublic:
    """How new conversations reach the team (skills) and its agents (strategy)."""
    routing = TeamRouting(**body.model_dump(mode="json"))
    with transaction(factory) as session:
        team = set_team_routing(session, user.workspace_id, team_id, routing, Actor.user(user.id))
        return team_public(team)


@router.put("/users/{user_id}/capacity", response_model=CapacityPublic)
def put_capacity(
    user_id: IdPath,
    body: CapacityUpdate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("routing:manage")],
) -> CapacityPublic:
    """How many conversations the agent takes at once per kind of work (chat, email, social,
    other); routing gives them no more."""
    with transaction(factory) as session:
        agent = set_capacity(
            session,
            user.workspace_id,
            user_id,
            {str(k): v for k, v in body.capacity.items()},
            Actor.user(user.id),
        )
        return CapacityPublic(user_id=agent.id, own=agent.capacity, capacity=capacities_of(agent))
