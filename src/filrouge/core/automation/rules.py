"""Writing rules: checked when saved (fields, actions, loops), ordered, and tried on recent
conversations without writing anything (the test mode)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.automation.actions import STATUS_CHANGED, ActionStep, check_actions
from filrouge.core.automation.conditions import (
    Conditions,
    accepts_status,
    check_conditions,
    evaluate,
)
from filrouge.core.automation.engine import Occurrence, Trigger, build_contexts
from filrouge.core.errors import Invalid, NotFound, check_choice
from filrouge.core.models import AutomationRule, Conversation
from filrouge.i18n import N_

DEFAULT_NO_REPLY_HOURS = 24
MAX_NO_REPLY_HOURS = 24 * 30
PREVIEW_DEFAULT = 200
PREVIEW_MAX = 1000
_UNSET: Any = object()


@dataclass
class RuleData:
    """A rule as written by its author; ``_UNSET`` fields are left as they are."""

    name: Any = _UNSET
    trigger: Any = _UNSET
    hours: Any = _UNSET
    conditions: Any = _UNSET
    actions: Any = _UNSET
    active: Any = _UNSET
    stop_processing: Any = _UNSET


def list_rules(session: Session, workspace_id: int) -> list[AutomationRule]:
    return list(
        session.scalars(
            select(AutomationRule)
            .where(AutomationRule.workspace_id == workspace_id)
            .order_by(AutomationRule.position, AutomationRule.id)
        )
    )


def rule_by_id(session: Session, workspace_id: int, rule_id: int) -> AutomationRule:
    rule = session.get(AutomationRule, rule_id)
    if rule is None or rule.workspace_id != workspace_id:
        raise NotFound("rule_not_found", N_("There is no automation rule {id}."), id=rule_id)
    return rule


def create_rule(
    session: Session, workspace_id: int, data: RuleData, actor: Actor
) -> AutomationRule:
    last = session.scalar(
        select(func.max(AutomationRule.position)).where(AutomationRule.workspace_id == workspace_id)
    )
    rule = AutomationRule(
        workspace_id=workspace_id,
        position=(last or 0) + 1,
        active=True,
        stop_processing=False,
        conditions={"match": "all", "items": []},
        created_by_id=actor.id,
    )
    _apply(session, rule, data, creating=True)
    session.add(rule)
    session.flush()
    record_event(
        session,
        workspace_id,
        actor,
        ("automation_rule", rule.id),
        "automation.rule_created",
        after=rule_snapshot(rule),
    )
    return rule


def update_rule(
    session: Session, workspace_id: int, rule_id: int, data: RuleData, actor: Actor
) -> AutomationRule:
    rule = rule_by_id(session, workspace_id, rule_id)
    before = rule_snapshot(rule)
    _apply(session, rule, data, creating=False)
    after = rule_snapshot(rule)
    if before != after:
        record_event(
            session,
            workspace_id,
            actor,
            ("automation_rule", rule.id),
            "automation.rule_updated",
            before=before,
            after=after,
        )
    return rule


def delete_rule(session: Session, workspace_id: int, rule_id: int, actor: Actor) -> None:
    rule = rule_by_id(session, workspace_id, rule_id)
    record_event(
        session,
        workspace_id,
        actor,
        ("automation_rule", rule.id),
        "automation.rule_deleted",
        before=rule_snapshot(rule),
    )
    session.delete(rule)


def reorder_rules(
    session: Session, workspace_id: int, rule_ids: list[int], actor: Actor
) -> list[AutomationRule]:
    """Put the rules in this order (every rule of the workspace, each once)."""
    rules = {rule.id: rule for rule in list_rules(session, workspace_id)}
    if sorted(rule_ids) != sorted(rules):
        raise Invalid(
            "invalid_order",
            N_("The order must list every rule of the workspace once."),
            field="rule_ids",
        )
    before = [rule.id for rule in sorted(rules.values(), key=lambda r: (r.position, r.id))]
    for position, rule_id in enumerate(rule_ids, start=1):
        rules[rule_id].position = position
    if before != rule_ids:
        record_event(
            session,
            workspace_id,
            actor,
            ("workspace", workspace_id),
            "automation.rules_reordered",
            before={"rule_ids": before},
            after={"rule_ids": rule_ids},
        )
    return [rules[rule_id] for rule_id in rule_ids]


def rule_snapshot(rule: AutomationRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        "hours": rule.hours,
        "conditions": rule.conditions,
        "actions": rule.actions,
        "active": rule.active,
        "stop_processing": rule.stop_processing,
    }


def _apply(session: Session, rule: AutomationRule, data: RuleData, creating: bool) -> None:
    if data.name is not _UNSET or creating:
        rule.name = _check_name(data.name if data.name is not _UNSET else "")
    if data.trigger is not _UNSET or creating:
        trigger = str(data.trigger if data.trigger is not _UNSET else "")
        check_choice(trigger, Trigger, "trigger")
        rule.trigger = trigger
    if data.hours is not _UNSET or creating:
        rule.hours = _check_hours(rule.trigger, None if data.hours is _UNSET else data.hours)
    elif rule.trigger != Trigger.NO_REPLY:
        rule.hours = None
    elif rule.hours is None:
        rule.hours = DEFAULT_NO_REPLY_HOURS
    conditions = check_conditions(rule.conditions if data.conditions is _UNSET else data.conditions)
    raw_actions = (rule.actions or []) if data.actions is _UNSET else data.actions
    steps = check_actions(session, rule.workspace_id, raw_actions)
    check_no_loop(rule.trigger, conditions, steps)
    rule.conditions = conditions.as_dict()
    rule.actions = [step.as_dict() for step in steps]
    for name in ("active", "stop_processing"):
        value = getattr(data, name)
        if value is not _UNSET:
            setattr(rule, name, bool(value))


def _check_name(name: Any) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned or len(cleaned) > 200:
        raise Invalid("invalid_name", "A name must have 1 to 200 characters.", field="name")
    return cleaned


def _check_hours(trigger: str, hours: Any) -> int | None:
    if trigger != Trigger.NO_REPLY:
        return None
    if hours is None:
        return DEFAULT_NO_REPLY_HOURS
    if (
        isinstance(hours, bool)
        or not isinstance(hours, int)
        or not 1 <= hours <= MAX_NO_REPLY_HOURS
    ):
        raise Invalid(
            "invalid_hours",
            N_("{field} must be a whole number of hours from 1 to {most}."),
            field="hours",
            most=MAX_NO_REPLY_HOURS,
        )
    return hours


def check_no_loop(trigger: str, conditions: Conditions, steps: list[ActionStep]) -> None:
    """Refuse a rule one of whose actions fires its own trigger again on a conversation that
    its own conditions would still accept (a status change that matches a status trigger)."""
    for index, step in enumerate(steps):
        if trigger not in step.action.causes(step.params):
            continue
        status = step.action.sets_status(step.params)
        if (
            trigger == STATUS_CHANGED
            and status is not None
            and not accepts_status(conditions, status)
        ):
            continue
        raise Invalid(
            "rule_triggers_itself",
            N_(
                "The action {action} would trigger this rule again: add a condition that "
                "excludes its result, or choose another trigger."
            ),
            field=f"actions.{index}.type",
            action=step.type,
        )


@dataclass(frozen=True)
class PreviewMatch:
    conversation: Conversation
    reasons: list[dict[str, Any]]


def preview_rule(
    session: Session, workspace_id: int, rule_id: int, limit: int = PREVIEW_DEFAULT
) -> tuple[int, list[PreviewMatch]]:
    """Which of the workspace's ``limit`` most recent conversations the rule's conditions
    accept now, each with the verdict of every condition. Nothing is written."""
    rule = rule_by_id(session, workspace_id, rule_id)
    conditions = check_conditions(rule.conditions)
    ids = list(
        session.scalars(
            select(Conversation.id)
            .where(Conversation.workspace_id == workspace_id)
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
            .limit(max(1, min(limit, PREVIEW_MAX)))
        )
    )
    contexts = build_contexts(session, [Occurrence(i, "preview") for i in ids])
    matches = []
    for _, ctx in contexts:
        matched, verdicts = evaluate(conditions, ctx)
        if matched:
            matches.append(PreviewMatch(ctx.conversation, [v.as_dict() for v in verdicts]))
    return len(ids), matches
