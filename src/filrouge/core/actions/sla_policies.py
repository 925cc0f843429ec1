"""Service-level policies: the defaults every workspace starts with, and what admins change.

A policy matches conversations by channel kind and priority (an empty list: any); the first
active one by position applies. Targets are seconds, counted in business hours (the team's
calendar, else the workspace's) or calendar hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.calendars import recompute_service_levels
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid, NotFound
from filrouge.core.models import SlaPolicy, Team
from filrouge.core.models.enums import ChannelKind, Priority

MINUTE, HOUR = 60, 3600
BUSINESS_DAY = 9 * HOUR  # a day of the default calendar (09:00–18:00)
MAX_TARGET = 366 * 24 * HOUR
SOCIAL = ["instagram", "facebook_comments", "whatsapp", "telegram", "sms"]


@dataclass
class PolicyData:
    name: str
    position: int = 0
    channel_kinds: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    first_response_seconds: int | None = None
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None
    business_hours: bool = True
    warn_ratio: float = 0.2
    warn_before_seconds: int | None = None
    notify_supervisors: bool = True
    raise_priority: bool = False
    reassign_team_id: int | None = None
    active: bool = True


def _default(name: str, position: int, kinds: list[str], response: int, **more: Any) -> PolicyData:
    more.setdefault("resolution_seconds", 5 * BUSINESS_DAY)
    return PolicyData(
        name=name,
        position=position,
        channel_kinds=kinds,
        first_response_seconds=response,
        next_response_seconds=response,
        **more,
    )


# Live chat first (a visitor waits on the page, whatever the priority), then urgent and high
# priorities tightened to one business hour on the other channels, then each channel's promise;
# the last policy catches every other channel (phone, letters, the API).
DEFAULT_POLICIES = (
    _default("Chat", 10, ["chat"], 2 * MINUTE, resolution_seconds=None),
    PolicyData(
        name="Urgent and high priority",
        position=20,
        priorities=["urgent", "high"],
        first_response_seconds=HOUR,
        next_response_seconds=HOUR,
        resolution_seconds=BUSINESS_DAY,
    ),
    _default("X and Messenger", 30, ["x", "messenger"], 30 * MINUTE, raise_priority=True),
    _default("Other social networks and SMS", 40, SOCIAL, HOUR, raise_priority=True),
    _default("Email and web form", 50, ["email", "web_form"], 24 * HOUR),
    _default("Other channels", 60, [], 24 * HOUR),
)


def create_default_policies(session: Session, workspace_id: int) -> list[SlaPolicy]:
    policies = [SlaPolicy(workspace_id=workspace_id, **asdict(p)) for p in DEFAULT_POLICIES]
    session.add_all(policies)
    return policies


def list_policies(
    session: Session, workspace_id: int, active_only: bool = False
) -> list[SlaPolicy]:
    query = select(SlaPolicy).where(SlaPolicy.workspace_id == workspace_id)
    if active_only:
        query = query.where(SlaPolicy.active.is_(True))
    return list(session.scalars(query.order_by(SlaPolicy.position, SlaPolicy.id)))


def match_policy(policies: Sequence[SlaPolicy], kind: str, priority: str) -> SlaPolicy | None:
    """The first active policy (by position) for this channel kind and priority."""
    for policy in policies:
        if not policy.active:
            continue
        if policy.channel_kinds and kind not in policy.channel_kinds:
            continue
        if policy.priorities and priority not in policy.priorities:
            continue
        return policy
    return None


def get_policy(session: Session, workspace_id: int, policy_id: int) -> SlaPolicy:
    policy = session.get(SlaPolicy, policy_id)
    if policy is None or policy.workspace_id != workspace_id:
        raise NotFound("unknown_sla_policy", "There is no service-level policy {id}.", id=policy_id)
    return policy


def create_policy(session: Session, workspace_id: int, data: PolicyData, actor: Actor) -> SlaPolicy:
    check_policy(session, workspace_id, data)
    policy = SlaPolicy(workspace_id=workspace_id, **asdict(data))
    session.add(policy)
    session.flush()
    _record(session, policy, actor, "sla_policy.created", None, asdict(data))
    recompute_service_levels(session, workspace_id)
    return policy


def update_policy(
    session: Session, workspace_id: int, policy_id: int, changes: dict[str, Any], actor: Actor
) -> SlaPolicy:
    """Change some fields (``changes`` names fields of ``PolicyData``)."""
    policy = get_policy(session, workspace_id, policy_id)
    before = policy_data(policy)
    data = PolicyData(**{**asdict(before), **changes})
    check_policy(session, workspace_id, data)
    for name, value in asdict(data).items():
        setattr(policy, name, value)
    _record(session, policy, actor, "sla_policy.updated", asdict(before), asdict(data))
    recompute_service_levels(session, workspace_id)
    return policy


def delete_policy(session: Session, workspace_id: int, policy_id: int, actor: Actor) -> None:
    """Deactivated rather than deleted: the outcomes stored for reports keep pointing at it."""
    policy = get_policy(session, workspace_id, policy_id)
    policy.active = False
    _record(session, policy, actor, "sla_policy.deactivated", {"active": True}, {"active": False})
    recompute_service_levels(session, workspace_id)


def policy_data(policy: SlaPolicy) -> PolicyData:
    return PolicyData(**{f.name: getattr(policy, f.name) for f in fields(PolicyData)})


def check_policy(session: Session, workspace_id: int, data: PolicyData) -> None:
    """Refuse what cannot be measured, with the field at fault."""
    data.name = " ".join(data.name.split())
    if not data.name or len(data.name) > 200:
        raise Invalid("invalid_name", "A name must have 1 to 200 characters.", field="name")
    _check_choices(data.channel_kinds, ChannelKind, "channel_kinds")
    _check_choices(data.priorities, Priority, "priorities")
    targets = ("first_response_seconds", "next_response_seconds", "resolution_seconds")
    for name in targets:
        _check_target(getattr(data, name), name)
    if data.warn_before_seconds is not None:
        _check_target(data.warn_before_seconds, "warn_before_seconds")
    if not 0 <= data.warn_ratio <= 1:
        raise Invalid(
            "invalid_warn_ratio",
            "The warning comes when a share between 0 and 1 of the target is left.",
            field="warn_ratio",
        )
    if data.reassign_team_id is not None:
        team = session.get(Team, data.reassign_team_id)
        if team is None or team.workspace_id != workspace_id:
            raise Invalid(
                "unknown_team",
                "There is no team {id}.",
                field="reassign_team_id",
                id=data.reassign_team_id,
            )


def _check_target(value: int | None, name: str) -> None:
    if value is not None and not 0 < value <= MAX_TARGET:
        raise Invalid(
            "invalid_target",
            "A target is a number of seconds above zero and at most a year.",
            field=name,
        )


def _check_choices(values: list[str], choices: Any, name: str) -> None:
    unknown = sorted(set(values) - {str(c) for c in choices})
    if unknown:
        raise Invalid(
            "unknown_choice",
            "{value} is not one of the accepted values.",
            field=name,
            value=", ".join(unknown),
        )


def _record(
    session: Session,
    policy: SlaPolicy,
    actor: Actor,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    record_event(
        session, policy.workspace_id, actor, ("sla_policy", policy.id), action, before, after
    )
