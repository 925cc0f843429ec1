"""Service levels of conversations, brought up to date after the fact: which policy applies,
when the running target is due, warnings before a breach, escalation on breach, and the
outcome of every target (met or breached) stored for reports.

Nothing here runs in the inbound pipeline: ``refresh_sla`` is called by a job after messages,
replies and status changes (one job per burst) and by the minute sweeper, which finds the
conversations changed since they were last worked out and those whose warning or breach has
come (``sla_alert_at``). Working a conversation out twice is harmless.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from filrouge.core.actions.after_hours import acknowledge_after_hours
from filrouge.core.actions.conversations import ConversationChanges, update_conversation
from filrouge.core.actions.notifications import notify_many
from filrouge.core.actions.sla_policies import list_policies, match_policy
from filrouge.core.audit import Actor, record_event
from filrouge.core.events import publish_after_commit
from filrouge.core.hours import OpeningHours
from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    Message,
    SlaOutcome,
    SlaPolicy,
    Team,
    User,
    Workspace,
)
from filrouge.core.models.enums import ConversationStatus, Priority, Role
from filrouge.core.sla import (
    Clock,
    Pause,
    Run,
    SlaView,
    Step,
    Target,
    calendar_hours,
    due_moment,
    read_pauses,
    resolution_run,
    response_runs,
    running_seconds,
    sla_view,
    warn_seconds,
    write_pauses,
)
from filrouge.lib import timeutil

UNFINISHED = (ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING)
SWEEP_BATCH = 500
ESCALATE_WITHIN = timedelta(hours=24)
PRIORITY_STEPS = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


def conversations_to_refresh(
    session: Session, now: datetime, limit: int = SWEEP_BATCH
) -> list[int]:
    """Conversations whose warning or breach has come (or that left the unfinished statuses
    with a target running: ``_set_status`` marks them so), and unfinished ones changed since
    they were last worked out (or never worked out). Two indexed reads, not a scan of every
    conversation ever held."""
    alerts = select(Conversation.id).where(Conversation.sla_alert_at <= now)
    changed = select(Conversation.id).where(
        Conversation.status.in_(UNFINISHED),
        or_(
            Conversation.sla_checked_at.is_(None),
            Conversation.sla_checked_at < Conversation.updated_at,
        ),
    )
    ids = set(session.scalars(alerts.order_by(Conversation.sla_alert_at).limit(limit)))
    ids.update(session.scalars(changed.limit(limit)))
    return sorted(ids)[:limit]


def refresh_sla(session: Session, conversation_ids: Sequence[int], now: datetime) -> int:
    """Work out the service level of these conversations as of ``now``; rows another
    transaction is changing are left for the next pass (their change marks them again)."""
    if not conversation_ids:
        return 0
    query = select(Conversation).where(Conversation.id.in_(conversation_ids))
    conversations = list(session.scalars(query.with_for_update(skip_locked=True)))
    world = _World.read(session, conversations)
    for conversation in conversations:
        _refresh_one(session, conversation, world, now)
    return len(conversations)


@dataclass
class _World:
    """What a batch of conversations needs, read in a few queries."""

    steps: dict[int, list[Step]]
    outcomes: dict[int, dict[tuple[str, datetime], SlaOutcome]]
    channels: dict[int, ChannelAccount]
    policies: dict[int, list[SlaPolicy]] = field(default_factory=dict)
    calendars: dict[tuple[int, int | None], OpeningHours] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, conversations: list[Conversation]) -> _World:
        ids = [c.id for c in conversations]
        steps: dict[int, list[Step]] = defaultdict(list)
        rows = session.execute(
            select(
                Message.conversation_id,
                Message.occurred_at,
                Message.direction,
                Message.author_id,
                Message.status,
                Message.flag,
            ).where(Message.conversation_id.in_(ids))
        )
        for row in rows:
            steps[row[0]].append(Step(*row[1:]))
        outcomes: dict[int, dict[tuple[str, datetime], SlaOutcome]] = defaultdict(dict)
        for outcome in session.scalars(
            select(SlaOutcome).where(SlaOutcome.conversation_id.in_(ids))
        ):
            outcomes[outcome.conversation_id][(outcome.target, outcome.started_at)] = outcome
        channel_ids = {c.channel_id for c in conversations}
        channels = {
            channel.id: channel
            for channel in session.scalars(
                select(ChannelAccount).where(ChannelAccount.id.in_(channel_ids))
            )
        }
        return cls(steps, outcomes, channels)

    def policies_of(self, session: Session, workspace_id: int) -> list[SlaPolicy]:
        if workspace_id not in self.policies:
            self.policies[workspace_id] = list_policies(session, workspace_id, active_only=True)
        return self.policies[workspace_id]

    def hours_of(self, session: Session, conversation: Conversation) -> OpeningHours:
        key = (conversation.workspace_id, conversation.team_id)
        if key not in self.calendars:
            self.calendars[key] = conversation_hours(session, conversation)
        return self.calendars[key]


def conversation_hours(session: Session, conversation: Conversation) -> OpeningHours:
    """The calendar of the conversation's team, else the workspace's, else office hours."""
    team = session.get(Team, conversation.team_id) if conversation.team_id else None
    workspace = session.get(Workspace, conversation.workspace_id)
    default = (workspace.settings or {}).get("calendar") if workspace else None
    return calendar_hours(team.calendar if team else None, default)


@dataclass(frozen=True)
class _Timed:
    run: Run
    seconds: int
    due_at: datetime | None
    warn_at: datetime | None

    @property
    def key(self) -> str:
        return f"{self.run.target}@{self.run.started_at.isoformat()}"[:64]


def _refresh_one(
    session: Session, conversation: Conversation, world: _World, now: datetime
) -> None:
    pauses = follow_pauses(conversation, now)
    channel = world.channels.get(conversation.channel_id)
    kind = channel.kind if channel else ""
    policy = match_policy(
        world.policies_of(session, conversation.workspace_id), kind, conversation.priority
    )
    conversation.sla_policy_id = policy.id if policy else None
    running: list[_Timed] = []
    if policy is not None:
        business = Clock(world.hours_of(session, conversation))
        clock = business if policy.business_hours else Clock()
        outcomes = world.outcomes[conversation.id]
        for run in _runs(conversation, world.steps[conversation.id], outcomes):
            seconds = _target_seconds(policy, run.target)
            if seconds is None:
                continue
            timed = _timed(clock, policy, run, seconds, pauses)
            if run.ended_at is not None:
                _record_met(session, conversation, policy, timed, outcomes, business, pauses, kind)
            else:
                running.append(timed)
                _alert(session, conversation, policy, timed, outcomes, now, kind)
                if run.target != Target.RESOLUTION:
                    steps = world.steps[conversation.id]
                    hours = world.hours_of(session, conversation)
                    acknowledge_after_hours(
                        session, conversation, channel, run, timed.due_at, hours, steps, now
                    )
    _show(conversation, running, world.outcomes[conversation.id], now)


def _runs(
    conversation: Conversation, steps: list[Step], outcomes: dict[tuple[str, datetime], SlaOutcome]
) -> list[Run]:
    """The last finished response run, the running one, and the resolution run."""
    unfinished = conversation.status in UNFINISHED
    responses = response_runs(steps)
    finished = [r for r in responses if r.ended_at is not None]
    runs = finished[-1:] + [r for r in responses if r.ended_at is None and unfinished]
    if unfinished:
        resolution = resolution_run(steps, conversation.resolved_at, None)
    elif conversation.resolved_at is not None:
        since = _previous_resolution(outcomes, conversation)
        resolution = resolution_run(steps, since, conversation.resolved_at)
    else:  # closed without being resolved: no resolution to measure
        resolution = None
    if resolution is not None:
        runs.append(resolution)
    return runs


def _previous_resolution(
    outcomes: dict[tuple[str, datetime], SlaOutcome], conversation: Conversation
) -> datetime | None:
    """When the conversation was resolved before its latest resolution (reopened since)."""
    resolved_at = conversation.resolved_at
    earlier = [
        o.met_at
        for (target, _), o in outcomes.items()
        if target == Target.RESOLUTION and o.met_at and resolved_at and o.met_at < resolved_at
    ]
    return max(earlier, default=None)


def _target_seconds(policy: SlaPolicy, target: Target) -> int | None:
    return {
        Target.FIRST_RESPONSE: policy.first_response_seconds,
        Target.NEXT_RESPONSE: policy.next_response_seconds,
        Target.RESOLUTION: policy.resolution_seconds,
    }[target]


def _timed(clock: Clock, policy: SlaPolicy, run: Run, seconds: int, pauses: list[Pause]) -> _Timed:
    warn = warn_seconds(seconds, policy.warn_ratio, policy.warn_before_seconds)
    return _Timed(
        run,
        seconds,
        due_moment(clock, run.started_at, seconds, pauses),
        due_moment(clock, run.started_at, seconds - warn, pauses),
    )


def _record_met(
    session: Session,
    conversation: Conversation,
    policy: SlaPolicy,
    timed: _Timed,
    outcomes: dict[tuple[str, datetime], SlaOutcome],
    business: Clock,
    pauses: list[Pause],
    kind: str,
) -> None:
    run = timed.run
    assert run.ended_at is not None
    outcome = outcomes.get((run.target, run.started_at))
    if outcome is not None and outcome.met_at is not None:
        return
    if outcome is None:
        outcome = _new_outcome(session, conversation, policy, timed, outcomes, kind)
    outcome.met_at = run.ended_at
    if not outcome.breached and timed.due_at is not None and run.ended_at > timed.due_at:
        outcome.breached = True
        _breach_recorded(session, conversation, outcome)
    outcome.elapsed_seconds = running_seconds(Clock(), run.started_at, run.ended_at, pauses)
    outcome.business_seconds = running_seconds(business, run.started_at, run.ended_at, pauses)
    _event(session, conversation, "sla.met", timed, breached=outcome.breached)


def _new_outcome(
    session: Session,
    conversation: Conversation,
    policy: SlaPolicy,
    timed: _Timed,
    outcomes: dict[tuple[str, datetime], SlaOutcome],
    kind: str,
) -> SlaOutcome:
    outcome = SlaOutcome(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        policy_id=policy.id,
        target=timed.run.target,
        started_at=timed.run.started_at,
        due_at=timed.due_at,
        breached=False,
        priority=conversation.priority,
        channel_kind=kind or None,
    )
    session.add(outcome)
    outcomes[(timed.run.target, timed.run.started_at)] = outcome
    return outcome


def _alert(
    session: Session,
    conversation: Conversation,
    policy: SlaPolicy,
    timed: _Timed,
    outcomes: dict[tuple[str, datetime], SlaOutcome],
    now: datetime,
    kind: str,
) -> None:
    """Warn once when the target is due soon; on breach, store it and escalate, once (not for
    a breach a day old: a backlog found late, after an upgrade or a long stop, is recorded
    without raising every priority and calling every supervisor)."""
    if timed.due_at is None:
        return
    if now >= timed.due_at:
        if (timed.run.target, timed.run.started_at) not in outcomes:
            outcome = _new_outcome(session, conversation, policy, timed, outcomes, kind)
            outcome.breached = True
            _breach_recorded(session, conversation, outcome)
            if now - timed.due_at <= ESCALATE_WITHIN:
                escalate(session, conversation, policy, timed.run.target, now)
        return
    if timed.warn_at is not None and now >= timed.warn_at and conversation.sla_warned != timed.key:
        conversation.sla_warned = timed.key
        _event(session, conversation, "sla.warned", timed)


def _breach_recorded(session: Session, conversation: Conversation, outcome: SlaOutcome) -> None:
    """For the operators' counter (web/metrics.py): after commit, the channel kind and target
    of a target stored as breached, once per outcome."""
    publish_after_commit(
        session,
        "sla.outcome_breached",
        conversation_id=conversation.id,
        channel_kind=outcome.channel_kind,
        target=outcome.target,
    )


def _show(
    conversation: Conversation,
    running: list[_Timed],
    outcomes: dict[tuple[str, datetime], SlaOutcome],
    now: datetime,
) -> None:
    """Keep on the row the running target due first, and the next moment to look again."""
    running = [_kept_breached(t, outcomes) for t in running]
    due_first = sorted(running, key=lambda t: (t.due_at is None, t.due_at or now))
    shown = due_first[0] if due_first else None
    conversation.sla_target = shown.run.target if shown else None
    conversation.sla_started_at = shown.run.started_at if shown else None
    conversation.sla_due_at = shown.due_at if shown else None
    conversation.sla_warn_at = shown.warn_at if shown else None
    alerts = []
    for timed in running:
        if timed.due_at is None or (timed.run.target, timed.run.started_at) in outcomes:
            continue
        warned = conversation.sla_warned == timed.key
        alerts.append(timed.due_at if warned or timed.warn_at is None else timed.warn_at)
    conversation.sla_alert_at = min(alerts, default=None)
    stamp = timeutil.utcnow()
    conversation.sla_checked_at = stamp
    conversation.updated_at = stamp


def sla_views(
    session: Session, conversations: Sequence[Conversation], now: datetime
) -> dict[int, SlaView]:
    """Each conversation's service level as an agent sees it. A conversation not worked out
    yet (just arrived) is shown its first-response target, computed the same way, so no row
    waits for the job to show a countdown."""
    views: dict[int, SlaView] = {}
    world: _World | None = None
    for conversation in conversations:
        if conversation.sla_checked_at is None and conversation.status in UNFINISHED:
            world = world or _World({}, {}, {})
            view = _estimated_view(session, conversation, world, now)
        else:
            view = sla_view(
                conversation.sla_target,
                conversation.sla_due_at,
                conversation.sla_warn_at,
                conversation.status,
                now,
            )
        if view is not None:
            views[conversation.id] = view
    return views


def sla_context(session: Session, conversation: Conversation, now: datetime) -> dict[str, Any]:
    """The conversation page's service level: the running target, and the outcomes so far."""
    outcomes = session.scalars(
        select(SlaOutcome)
        .where(SlaOutcome.conversation_id == conversation.id)
        .order_by(SlaOutcome.started_at, SlaOutcome.id)
    )
    return {
        "sla": sla_views(session, [conversation], now).get(conversation.id),
        "sla_outcomes": list(outcomes),
    }


def _estimated_view(
    session: Session, conversation: Conversation, world: _World, now: datetime
) -> SlaView | None:
    start = conversation.first_inbound_at
    if start is None or conversation.first_response_at is not None:
        return None
    channel = session.get(ChannelAccount, conversation.channel_id)
    policies = world.policies_of(session, conversation.workspace_id)
    policy = match_policy(policies, channel.kind if channel else "", conversation.priority)
    if policy is None or policy.first_response_seconds is None:
        return None
    clock = Clock(world.hours_of(session, conversation)) if policy.business_hours else Clock()
    run = Run(Target.FIRST_RESPONSE, start)
    timed = _timed(clock, policy, run, policy.first_response_seconds, [])
    return sla_view(run.target, timed.due_at, timed.warn_at, conversation.status, now)


def _kept_breached(timed: _Timed, outcomes: dict[tuple[str, datetime], SlaOutcome]) -> _Timed:
    """A target breached stays breached, even when escalation moved the conversation to a
    looser policy (a raised priority)."""
    outcome = outcomes.get((timed.run.target, timed.run.started_at))
    if outcome is None or outcome.due_at is None or timed.due_at is None:
        return timed
    if outcome.due_at >= timed.due_at:
        return timed
    return _Timed(timed.run, timed.seconds, outcome.due_at, outcome.due_at)


def follow_pauses(conversation: Conversation, now: datetime) -> list[Pause]:
    """The clock stops while the conversation waits for the customer (``pending``): open a
    pause if none is, close it when the conversation left ``pending`` (at the customer's
    message that woke it, when there is one)."""
    pauses = read_pauses(conversation.sla_pauses)
    pending = conversation.status == ConversationStatus.PENDING
    holding = bool(pauses) and pauses[-1][1] is None
    if pending and not holding:
        pauses.append((now, None))
    elif holding and not pending:
        start = pauses[-1][0]
        woke = conversation.last_inbound_at
        pauses[-1] = (start, woke if woke is not None and start < woke <= now else now)
    else:
        return pauses
    conversation.sla_pauses = write_pauses(pauses)
    return pauses


def escalate(
    session: Session, conversation: Conversation, policy: SlaPolicy, target: str, now: datetime
) -> None:
    """A target is breached: record it, raise the priority one step and hand the
    conversation to another team when the policy says so, and tell the supervisors."""
    record_event(
        session,
        conversation.workspace_id,
        Actor.system(),
        ("conversation", conversation.id),
        "sla.breached",
        after={"target": target, "policy_id": policy.id, "at": now.isoformat()},
    )
    publish_after_commit(session, "sla.breached", conversation_id=conversation.id, target=target)
    changes = ConversationChanges()
    if policy.raise_priority:
        changes.priority = _raised(conversation.priority)
    if policy.reassign_team_id is not None and policy.reassign_team_id != conversation.team_id:
        changes.team_id = policy.reassign_team_id
        changes.assignee_id = None
    update_conversation(session, conversation, changes, Actor.system())
    if policy.notify_supervisors:
        notify_supervisors(session, conversation, target)


def notify_supervisors(session: Session, conversation: Conversation, target: str) -> list[int]:
    """Tell the workspace's supervisors (a notification each) and record whom."""
    known: dict[int, list[int]] = session.info.setdefault("sla_supervisors", {})
    if conversation.workspace_id not in known:
        known[conversation.workspace_id] = list(
            session.scalars(
                select(User.id)
                .where(
                    User.workspace_id == conversation.workspace_id,
                    User.role == Role.SUPERVISOR,
                    User.active.is_(True),
                )
                .order_by(User.id)
            )
        )
    ids = known[conversation.workspace_id]
    record_event(
        session,
        conversation.workspace_id,
        Actor.system(),
        ("conversation", conversation.id),
        "sla.breach_notified",
        after={"target": target, "supervisor_ids": ids},
    )
    notify_many(
        session,
        [
            {
                "user_id": user_id,
                "kind": "sla.breached",
                "conversation_id": conversation.id,
                "customer_id": conversation.customer_id,
                "payload": {"target": target},
            }
            for user_id in ids
        ],
    )
    return ids


def _raised(priority: str) -> str:
    index = PRIORITY_STEPS.index(Priority(priority)) if priority in PRIORITY_STEPS else 1
    return PRIORITY_STEPS[min(index + 1, len(PRIORITY_STEPS) - 1)]


def _event(
    session: Session, conversation: Conversation, action: str, timed: _Timed, **more: Any
) -> None:
    after = {
        "target": timed.run.target,
        "started_at": timed.run.started_at.isoformat(),
        "due_at": None if timed.due_at is None else timed.due_at.isoformat(),
        **more,
    }
    record_event(
        session,
        conversation.workspace_id,
        Actor.system(),
        ("conversation", conversation.id),
        action,
        after=after,
    )
    publish_after_commit(session, action, conversation_id=conversation.id, target=timed.run.target)
