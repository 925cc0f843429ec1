"""Running the rules of one trigger on the conversations where it happened.

``run_rules`` reads each conversation once (a ``Context``), takes the workspace's active rules
of the trigger in order, and applies the actions of each rule whose conditions hold, each
action in a savepoint: one that fails (an agent deactivated since, a team deleted) is recorded
as ``automation.failed`` and the others go on. A rule runs at most once per occurrence of its
trigger (``automation_runs``), so a job run twice applies nothing twice; ``stop_processing``
ends the turn after its rule.

``run_chain`` commits, then runs the ``status_changed`` rules of the conversations whose status
the rules changed, and so on, at most ``MAX_DEPTH`` times: a chain of rules that trigger each
other stops there with ``automation.loop_stopped``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from filrouge.core.audit import Actor, record_event
from filrouge.core.automation.actions import ActionRun, ActionStep, steps_of
from filrouge.core.automation.conditions import Conditions, Context, check_conditions, evaluate
from filrouge.core.errors import DomainError
from filrouge.core.models import (
    AutomationRule,
    AutomationRun,
    ChannelAccount,
    Conversation,
    Customer,
    Event,
    Message,
)
from filrouge.core.models.enums import Direction
from filrouge.db import transaction

log = logging.getLogger(__name__)
MAX_DEPTH = 5  # rules triggering rules: the longest chain followed
NO_REPLY_HOURS = 24  # a no_reply rule saved without its hours
_STAGED_EVENTS = "filrouge_staged_events"  # core/audit.py
_PENDING_PUBLISH = "filrouge_pending_events"  # core/events.py
_running: ContextVar[bool] = ContextVar("automation_running", default=False)


class Trigger(StrEnum):
    MESSAGE_RECEIVED = "message_received"
    CONVERSATION_CREATED = "conversation_created"
    STATUS_CHANGED = "status_changed"
    SLA_WARNING = "sla_warning"
    NO_REPLY = "no_reply"


@dataclass(frozen=True)
class Occurrence:
    """The trigger happened once on a conversation; ``key`` names that once."""

    conversation_id: int
    key: str
    message_id: int | None = None
    depth: int = 0


@dataclass
class Turn:
    """What a run did: actions applied and failed, conversations whose status changed."""

    applied: int = 0
    failed: int = 0
    status_changed: set[int] = field(default_factory=set)


def automation_running() -> bool:
    """True while the rules' own changes are committed (their events are not new triggers)."""
    return _running.get()


def run_chain(
    factory: sessionmaker[Session], trigger: str, occurrences: list[Occurrence], now: datetime
) -> Turn:
    """Run ``trigger``'s rules, one transaction, then the chain of status changes they made."""
    total = Turn()
    token = _running.set(True)
    try:
        while occurrences:
            turn = _run_batch(factory, trigger, occurrences, now)
            total.applied += turn.applied
            total.failed += turn.failed
            depth = max(o.depth for o in occurrences) + 1
            trigger, occurrences = Trigger.STATUS_CHANGED, []
            if turn.status_changed:
                occurrences = _next_in_chain(factory, turn.status_changed, depth)
    finally:
        _running.reset(token)
    return total


def _run_batch(
    factory: sessionmaker[Session], trigger: str, occurrences: list[Occurrence], now: datetime
) -> Turn:
    """One transaction; run again once if another job recorded one of its runs meanwhile."""
    for attempt in (1, 2):
        try:
            with transaction(factory) as session:
                return run_rules(session, trigger, occurrences, now)
        except IntegrityError:
            log.warning("automation: a run was recorded by another job (attempt %d)", attempt)
    return Turn()


def _next_in_chain(factory: sessionmaker[Session], ids: set[int], depth: int) -> list[Occurrence]:
    with transaction(factory) as session:
        if depth <= MAX_DEPTH:
            return status_occurrences(session, ids, depth)
        for conversation in session.scalars(select(Conversation).where(Conversation.id.in_(ids))):
            record_event(
                session,
                conversation.workspace_id,
                Actor.system(),
                ("conversation", conversation.id),
                "automation.loop_stopped",
                after={"depth": depth, "max_depth": MAX_DEPTH},
            )
        log.warning("automation: a chain of rules stopped after %d turns", MAX_DEPTH)
        return []


def status_occurrences(session: Session, ids: set[int], depth: int = 0) -> list[Occurrence]:
    """Each conversation's latest status change, as a ``status_changed`` occurrence."""
    latest = session.execute(
        select(Event.subject_id, func.max(Event.id))
        .where(
            Event.subject_type == "conversation",
            Event.subject_id.in_(ids),
            Event.action == "conversation.status_changed",
        )
        .group_by(Event.subject_id)
    )
    return [Occurrence(c, f"status:{e}", None, depth) for c, e in latest]


def run_rules(session: Session, trigger: str, occurrences: list[Occurrence], now: datetime) -> Turn:
    """Apply, in order, the active rules of ``trigger`` to each occurrence (not committed)."""
    turn = Turn()
    if not occurrences or not _any_rule(session, trigger):
        return turn  # the usual case for most triggers: nothing to read
    contexts = build_contexts(session, occurrences)
    workspaces = {ctx.conversation.workspace_id for _, ctx in contexts}
    rules = _rules_by_workspace(session, trigger, workspaces)
    done = _runs_done(session, occurrences)
    for occurrence, ctx in contexts:
        stopped = False
        for rule in rules.get(ctx.conversation.workspace_id, []):
            if not _due(rule, ctx, now):
                continue
            if stopped:  # an unanswered message is looked at once: its turn has passed
                if trigger == Trigger.NO_REPLY:
                    _claim(session, rule, occurrence, now)
                continue
            stopped = _run_rule(session, rule, ctx, occurrence, done, now, turn)
    return turn


def _due(rule: AutomationRule, ctx: Context, now: datetime) -> bool:
    """A no_reply rule waits its own number of hours after the customer's last message."""
    if rule.trigger != Trigger.NO_REPLY:
        return True
    last = ctx.conversation.last_inbound_at
    return last is not None and last <= now - timedelta(hours=rule.hours or NO_REPLY_HOURS)


def _any_rule(session: Session, trigger: str) -> bool:
    active = select(AutomationRule.id).where(
        AutomationRule.trigger == trigger, AutomationRule.active
    )
    return session.scalar(active.limit(1)) is not None


def _rules_by_workspace(
    session: Session, trigger: str, workspace_ids: set[int]
) -> dict[int, list[AutomationRule]]:
    rules: dict[int, list[AutomationRule]] = {}
    for rule in session.scalars(
        select(AutomationRule)
        .where(
            AutomationRule.workspace_id.in_(workspace_ids),
            AutomationRule.trigger == trigger,
            AutomationRule.active,
        )
        .order_by(AutomationRule.position, AutomationRule.id)
    ):
        rules.setdefault(rule.workspace_id, []).append(rule)
    return rules


def _runs_done(session: Session, occurrences: list[Occurrence]) -> set[tuple[int, int, str]]:
    if not occurrences:
        return set()
    pairs = {(o.conversation_id, o.key) for o in occurrences}
    rows = session.execute(
        select(
            AutomationRun.rule_id, AutomationRun.conversation_id, AutomationRun.trigger_key
        ).where(tuple_(AutomationRun.conversation_id, AutomationRun.trigger_key).in_(pairs))
    )
    return {(r, c, k) for r, c, k in rows}


def _run_rule(
    session: Session,
    rule: AutomationRule,
    ctx: Context,
    occurrence: Occurrence,
    done: set[tuple[int, int, str]],
    now: datetime,
    turn: Turn,
) -> bool:
    """Apply one rule if it holds and has not run for this occurrence; True: stop here."""
    if (rule.id, occurrence.conversation_id, occurrence.key) in done:
        return rule.stop_processing
    conditions = _conditions_of(session, rule, ctx)
    if conditions is None or not evaluate(conditions, ctx)[0]:
        if rule.trigger == Trigger.NO_REPLY:  # looked at once per unanswered message
            _claim(session, rule, occurrence, now)
        return False
    _claim(session, rule, occurrence, now)
    done.add((rule.id, occurrence.conversation_id, occurrence.key))
    rule.last_applied_at = now
    run = ActionRun(ctx, Actor.system(), None, rule.id)
    _apply_actions(session, run, steps_of(rule.actions), turn)
    return rule.stop_processing


def _conditions_of(session: Session, rule: AutomationRule, ctx: Context) -> Conditions | None:
    try:
        return check_conditions(rule.conditions)
    except DomainError as error:  # saved before a field's provider was removed
        _failed(session, ctx, rule.id, None, error.code, error.message_in("en"))
        return None


def _claim(session: Session, rule: AutomationRule, occurrence: Occurrence, now: datetime) -> None:
    """Record the run at once: if another job recorded it first, the unique constraint fails
    here, outside any action, and ``run_chain`` runs the batch again (then knowing it)."""
    session.add(
        AutomationRun(
            rule_id=rule.id,
            conversation_id=occurrence.conversation_id,
            trigger_key=occurrence.key,
            ran_at=now,
        )
    )
    session.flush()


def _apply_actions(session: Session, run: ActionRun, steps: list[ActionStep], turn: Turn) -> None:
    """All the rule's actions in one savepoint; if one fails, again one savepoint each, so
    that the others still apply and the failure is recorded."""
    changed = False
    try:
        with savepoint(session):
            for step in steps:
                changed = _do(session, run, step) or changed
    except Exception:
        for index, step in enumerate(steps):
            _apply_step(session, run, index, step, turn)
        return
    for index, step in enumerate(steps):
        _applied(session, run, index, step, turn)
    if changed:
        turn.status_changed.add(run.ctx.conversation.id)


def _do(session: Session, run: ActionRun, step: ActionStep) -> bool:
    if step.params is None:
        raise DomainError("unknown_action", "There is no action {name}.", name=step.type)
    return step.action.apply(session, run, step.params)


def _apply_step(session: Session, run: ActionRun, index: int, step: ActionStep, turn: Turn) -> None:
    try:
        with savepoint(session):
            changed = _do(session, run, step)
    except DomainError as error:
        turn.failed += 1
        _failed(session, run.ctx, run.rule_id, step.type, error.code, error.message_in("en"))
        return
    except Exception as exc:  # a bug in one action never stops the pipeline
        log.exception("automation: action %s of rule %s failed", step.type, run.rule_id)
        turn.failed += 1
        _failed(session, run.ctx, run.rule_id, step.type, "error", type(exc).__name__)
        return
    if changed:
        turn.status_changed.add(run.ctx.conversation.id)
    _applied(session, run, index, step, turn)


def _applied(session: Session, run: ActionRun, index: int, step: ActionStep, turn: Turn) -> None:
    turn.applied += 1
    record_event(
        session,
        run.ctx.conversation.workspace_id,
        Actor.system(),
        ("conversation", run.ctx.conversation.id),
        "automation.applied",
        after={"rule_id": run.rule_id, "action": step.type, "index": index, **step.as_dict()},
    )


def _failed(
    session: Session,
    ctx: Context,
    rule_id: int | None,
    action: str | None,
    code: str,
    reason: str,
) -> None:
    record_event(
        session,
        ctx.conversation.workspace_id,
        Actor.system(),
        ("conversation", ctx.conversation.id),
        "automation.failed",
        after={"rule_id": rule_id, "action": action, "code": code, "reason": reason},
    )


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint whose staged events and events to publish join the transaction's only if
    it is released: SQLAlchemy fires ``before_commit``/``after_commit`` for a savepoint too,
    which would publish them before the real commit."""
    outer_staged = session.info.pop(_STAGED_EVENTS, [])
    outer_pending = session.info.pop(_PENDING_PUBLISH, [])
    try:
        with session.begin_nested():
            yield
            inner_staged = session.info.pop(_STAGED_EVENTS, [])
            inner_pending = session.info.pop(_PENDING_PUBLISH, [])
        outer_staged.extend(inner_staged)
        outer_pending.extend(inner_pending)
    finally:
        session.info[_STAGED_EVENTS] = outer_staged
        session.info[_PENDING_PUBLISH] = outer_pending


def build_contexts(
    session: Session, occurrences: list[Occurrence]
) -> list[tuple[Occurrence, Context]]:
    """Each occurrence with its context, read in a handful of queries whatever their number
    (a conversation gone since is left out)."""
    ids = {o.conversation_id for o in occurrences}
    conversations = {
        c.id: c
        for c in session.scalars(
            select(Conversation)
            .where(Conversation.id.in_(ids))
            .options(selectinload(Conversation.tag_rows))
        )
    }
    customers = _customers(session, {c.customer_id for c in conversations.values()})
    messages = _messages_of(session, occurrences)
    channel_ids = {c.channel_id for c in conversations.values()}
    channel_ids |= {m.channel_id for m in messages.values()}
    channels = _channels(session, channel_ids)
    contexts = []
    for occurrence in occurrences:
        conversation = conversations.get(occurrence.conversation_id)
        if conversation is None:
            continue
        message = messages.get(occurrence.message_id or -occurrence.conversation_id)
        channel_id = conversation.channel_id if message is None else message.channel_id
        customer = customers[conversation.customer_id]
        contexts.append(
            (occurrence, Context(conversation, customer, channels[channel_id], message))
        )
    return contexts


def _customers(session: Session, ids: set[int]) -> dict[int, Customer]:
    return {row.id: row for row in session.scalars(select(Customer).where(Customer.id.in_(ids)))}


def _channels(session: Session, ids: set[int]) -> dict[int, ChannelAccount]:
    rows = session.scalars(select(ChannelAccount).where(ChannelAccount.id.in_(ids)))
    return {row.id: row for row in rows}


def _messages_of(session: Session, occurrences: list[Occurrence]) -> dict[int, Message]:
    """The triggering messages by id, and each other conversation's latest inbound message
    under minus its conversation id."""
    named = {o.message_id for o in occurrences if o.message_id is not None}
    others = {o.conversation_id for o in occurrences if o.message_id is None}
    with_triage = select(Message).options(selectinload(Message.triage))  # condition fields
    found = {m.id: m for m in session.scalars(with_triage.where(Message.id.in_(named)))}
    if others:
        latest = (
            select(func.max(Message.id))
            .where(Message.conversation_id.in_(others), Message.direction == Direction.INBOUND)
            .group_by(Message.conversation_id)
        )
        for message in session.scalars(with_triage.where(Message.id.in_(latest))):
            found[-message.conversation_id] = message
    return found
