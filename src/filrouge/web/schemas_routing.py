"""API shapes of routing: teams' strategy and skills, agents' capacity."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints

from filrouge.core.models.enums import ChannelKind
from filrouge.web.schemas import Strict

Short = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Capacity = Annotated[StrictInt, Field(ge=0, le=1000)]


class TeamRoutingUpdate(Strict):
    strategy: Literal["off", "manual", "round_robin", "least_loaded"] = Field(
        description="off: reached by hand or by rules only; manual: new conversations wait in"
        " the team's queue; round_robin / least_loaded: given to an available agent."
    )
    languages: list[Short] = Field(
        default_factory=list, max_length=50, description="Two-letter codes; empty: any."
    )
    topics: list[Short] = Field(
        default_factory=list,
        max_length=200,
        description="Tags, triage types or words of the first message; empty: any.",
    )
    channel_kinds: list[ChannelKind] = Field(default_factory=list, description="Empty: any.")
    reroute_answered: StrictBool = Field(
        default=False,
        description="When an agent goes offline, move their answered conversations too.",
    )


class TeamPublic(BaseModel):
    id: int
    name: str
    members: list[int]
    strategy: str
    languages: list[str]
    topics: list[str]
    channel_kinds: list[str]
    reroute_answered: bool


class CapacityUpdate(Strict):
    capacity: dict[Literal["chat", "email", "social", "other"], Capacity] = Field(
        description="Conversations open at once per kind of work; what is left out: the default."
    )


class CapacityPublic(BaseModel):
    user_id: int
    own: dict[str, int] = Field(description="The figures set for this agent.")
    capacity: dict[str, int] = Field(description="The figures that apply (defaults filled in).")
