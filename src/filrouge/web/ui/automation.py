"""Automation pages: the rules (supervisors and admins: order, on/off, edit, test on recent
conversations), the macros (everyone's own; shared ones by supervisors and admins), and the
one-click macro menu of a conversation."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.access import access_conversation_by_id
from filrouge.core.audit import Actor
from filrouge.core.automation import macros as macro_actions
from filrouge.core.automation import rules as rule_actions
from filrouge.core.automation.actions import ACTIONS
from filrouge.core.automation.conditions import FIELDS
from filrouge.core.automation.engine import Trigger
from filrouge.core.automation.rules import RuleData
from filrouge.core.errors import DomainError, Invalid
from filrouge.core.models import Team, User
from filrouge.db import transaction
from filrouge.i18n import N_
from filrouge.web.deps import FactoryDep
from filrouge.web.permissions import is_allowed
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Manager = Annotated[Visitor, PageAllowed("automation:manage")]
JsonText = Annotated[str, Form(max_length=64 * 1024)]

TRIGGER_LABELS = {
    Trigger.MESSAGE_RECEIVED: N_("A message is received"),
    Trigger.CONVERSATION_CREATED: N_("A conversation is created"),
    Trigger.STATUS_CHANGED: N_("The status changes"),
    Trigger.SLA_WARNING: N_("A service level is about to be missed"),
    Trigger.NO_REPLY: N_("No reply for some hours"),
}
CONDITIONS_EXAMPLE = {
    "match": "all",
    "items": [
        {"field": "channel", "op": "eq", "value": "whatsapp"},
        {"field": "keywords", "op": "any", "value": ["remboursement", "rembourser"]},
        {"field": "customer_attribute", "key": "tier", "op": "eq", "value": "gold"},
    ],
}
ACTIONS_EXAMPLE = [
    {"type": "add_tags", "params": {"tags": ["remboursement"]}},
    {"type": "assign_team", "params": {"team_id": 1}},
    {"type": "send_reply", "params": {"text": "Bonjour {{ customer.first_name }}, …"}},
]


@router.get("/automation")
def rules_page(request: Request, factory: FactoryDep, visitor: Manager) -> Response:
    return _rules(request, factory, visitor)


@router.post("/automation")
def add_rule(
    request: Request,
    factory: FactoryDep,
    visitor: Manager,
    name: Annotated[str, Form(max_length=200)] = "",
    trigger: Annotated[str, Form(max_length=32)] = "",
    hours: Annotated[str, Form(max_length=10)] = "",
    conditions: JsonText = "",
    actions: JsonText = "",
    stop_processing: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    form = {"name": name, "trigger": trigger, "hours": hours}
    form |= {"conditions": conditions, "actions": actions, "stop_processing": stop_processing}

    def change(session: Session) -> None:
        data = _rule_data(form)
        rule_actions.create_rule(session, visitor.user.workspace_id, data, _actor(visitor))

    return _change(request, factory, visitor, change, "/automation", form)


@router.get("/automation/{rule_id}")
def rule_page(request: Request, rule_id: IdPath, factory: FactoryDep, visitor: Manager) -> Response:
    return _rule(request, factory, visitor, rule_id)


@router.post("/automation/{rule_id}")
def edit_rule(
    request: Request,
    rule_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    name: Annotated[str, Form(max_length=200)] = "",
    trigger: Annotated[str, Form(max_length=32)] = "",
    hours: Annotated[str, Form(max_length=10)] = "",
    conditions: JsonText = "",
    actions: JsonText = "",
    stop_processing: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    form = {"name": name, "trigger": trigger, "hours": hours}
    form |= {"conditions": conditions, "actions": actions, "stop_processing": stop_processing}
    try:
        with transaction(factory) as session:
            rule_actions.update_rule(
                session, visitor.user.workspace_id, rule_id, _rule_data(form), _actor(visitor)
            )
    except DomainError as refusal:
        return _rule(request, factory, visitor, rule_id, form=form, refusal=refusal)
    return RedirectResponse(f"/automation/{rule_id}", status_code=303)


@router.post("/automation/{rule_id}/test")
def try_rule(request: Request, rule_id: IdPath, factory: FactoryDep, visitor: Manager) -> Response:
    with factory() as session:  # nothing written: read, then thrown away
        examined, matches = rule_actions.preview_rule(session, visitor.user.workspace_id, rule_id)
        preview = {
            "examined": examined,
            "matches": [{"id": m.conversation.id, "reasons": m.reasons} for m in matches],
        }
    return _rule(request, factory, visitor, rule_id, preview=preview)


@router.post("/automation/{rule_id}/toggle")
def toggle_rule(rule_id: IdPath, factory: FactoryDep, visitor: Manager) -> Response:
    with transaction(factory) as session:
        rule = rule_actions.rule_by_id(session, visitor.user.workspace_id, rule_id)
        data = RuleData(active=not rule.active)
        rule_actions.update_rule(session, rule.workspace_id, rule_id, data, _actor(visitor))
    return RedirectResponse("/automation", status_code=303)


@router.post("/automation/{rule_id}/move")
def move_rule(
    rule_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    direction: Annotated[str, Form(pattern="^(up|down)$")],
) -> Response:
    with transaction(factory) as session:
        ids = [r.id for r in rule_actions.list_rules(session, visitor.user.workspace_id)]
        index = ids.index(rule_actions.rule_by_id(session, visitor.user.workspace_id, rule_id).id)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            rule_actions.reorder_rules(session, visitor.user.workspace_id, ids, _actor(visitor))
    return RedirectResponse("/automation", status_code=303)


@router.post("/automation/{rule_id}/delete")
def remove_rule(rule_id: IdPath, factory: FactoryDep, visitor: Manager) -> Response:
    with transaction(factory) as session:
        rule_actions.delete_rule(session, visitor.user.workspace_id, rule_id, _actor(visitor))
    return RedirectResponse("/automation", status_code=303)


@router.get("/macros")
def macros_page(
    request: Request,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("macros:write")],
) -> Response:
    return _macros(request, factory, visitor)


@router.post("/macros")
def add_macro(
    request: Request,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("macros:write")],
    name: Annotated[str, Form(max_length=200)] = "",
    actions: JsonText = "",
    shared: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    form = {"name": name, "actions": actions, "shared": shared}

    def change(session: Session) -> None:
        steps = _json(actions, "actions")
        macro_actions.create_macro(session, visitor.user, name, steps, shared == "yes", None)

    return _change(request, factory, visitor, change, "/macros", form, page="macros")


@router.post("/macros/{macro_id}/delete")
def remove_macro(
    macro_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("macros:write")],
) -> Response:
    with transaction(factory) as session:
        macro_actions.delete_macro(session, visitor.user, macro_id)
    return RedirectResponse("/macros", status_code=303)


@router.post("/conversations/{conversation_id}/macros/{macro_id}")
def apply_macro(
    conversation_id: IdPath,
    macro_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("macros:apply")],
) -> Response:
    """The conversation's macro menu: one click applies every action (or none)."""
    user = visitor.user
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, user, conversation_id)
        macro = macro_actions.macro_by_id(session, user, macro_id)
        macro_actions.apply_macro(
            session, conversation, macro, user, lambda p: is_allowed(user.role, p)
        )
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


def _actor(visitor: Visitor) -> Actor:
    return Actor.user(visitor.user.id)


def _rule_data(form: dict[str, str]) -> RuleData:
    hours = form["hours"].strip()
    if hours and not hours.isdigit():
        raise Invalid(
            "invalid_hours",
            N_("{field} must be a whole number of hours from 1 to {most}."),
            field="hours",
            most=rule_actions.MAX_NO_REPLY_HOURS,
        )
    return RuleData(
        name=form["name"],
        trigger=form["trigger"],
        hours=int(hours) if hours else None,
        conditions=_json(form["conditions"], "conditions") if form["conditions"].strip() else None,
        actions=_json(form["actions"], "actions"),
        stop_processing=form["stop_processing"] == "yes",
    )


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text or "null")
    except json.JSONDecodeError as error:
        raise Invalid(
            "invalid_json",
            N_("{field} is not valid JSON: {reason} (line {line})."),
            field=field,
            reason=error.msg,
            line=error.lineno,
        ) from error


def _change(
    request: Request,
    factory: FactoryDep,
    visitor: Visitor,
    change: Any,
    target: str,
    form: dict[str, str],
    page: str = "rules",
) -> Response:
    try:
        with transaction(factory) as session:
            change(session)
    except DomainError as refusal:
        show = _macros if page == "macros" else _rules
        return show(request, factory, visitor, form=form, refusal=refusal)
    return RedirectResponse(target, status_code=303)


def _refusal_context(request: Request, visitor: Visitor, refusal: DomainError | None) -> Any:
    if refusal is None:
        return None
    message = refusal.message_in(locale_for(request, visitor.user))
    return {"message": message, "field": refusal.field, "status": refusal.status}


def _rules(
    request: Request,
    factory: FactoryDep,
    visitor: Visitor,
    form: dict[str, str] | None = None,
    refusal: DomainError | None = None,
) -> Response:
    with transaction(factory) as session:
        context = {
            "rules": rule_actions.list_rules(session, visitor.user.workspace_id),
            "form": form or {},
            "error": _refusal_context(request, visitor, refusal),
            **_vocabulary(session, visitor.user),
        }
        status = 200 if refusal is None else refusal.status
        return render(request, "automation.html", context, visitor, status)


def _rule(
    request: Request,
    factory: FactoryDep,
    visitor: Visitor,
    rule_id: int,
    form: dict[str, str] | None = None,
    refusal: DomainError | None = None,
    preview: dict[str, Any] | None = None,
) -> Response:
    with transaction(factory) as session:
        rule = rule_actions.rule_by_id(session, visitor.user.workspace_id, rule_id)
        shown = form or {
            "name": rule.name,
            "trigger": rule.trigger,
            "hours": "" if rule.hours is None else str(rule.hours),
            "conditions": json.dumps(rule.conditions, ensure_ascii=False, indent=2),
            "actions": json.dumps(rule.actions, ensure_ascii=False, indent=2),
            "stop_processing": "yes" if rule.stop_processing else "",
        }
        context = {
            "rule": rule,
            "form": shown,
            "preview": preview,
            "error": _refusal_context(request, visitor, refusal),
            **_vocabulary(session, visitor.user),
        }
        status = 200 if refusal is None else refusal.status
        return render(request, "automation_rule.html", context, visitor, status)


def _macros(
    request: Request,
    factory: FactoryDep,
    visitor: Visitor,
    form: dict[str, str] | None = None,
    refusal: DomainError | None = None,
) -> Response:
    with transaction(factory) as session:
        context = {
            "macros": macro_actions.list_macros(session, visitor.user),
            "form": form or {},
            "error": _refusal_context(request, visitor, refusal),
            "may_share": visitor.user.role in macro_actions.MANAGERS,
            **_vocabulary(session, visitor.user),
        }
        status = 200 if refusal is None else refusal.status
        return render(request, "macros.html", context, visitor, status)


def _vocabulary(session: Session, user: User) -> dict[str, Any]:
    """What the forms offer: triggers, fields, actions, and the ids of teams and people."""
    teams = session.scalars(
        select(Team).where(Team.workspace_id == user.workspace_id).order_by(Team.name)
    )
    people = session.scalars(
        select(User).where(User.workspace_id == user.workspace_id, User.active).order_by(User.name)
    )
    return {
        "triggers": TRIGGER_LABELS,
        "fields": {name: field.ops for name, field in sorted(FIELDS.items())},
        "action_types": sorted(ACTIONS),
        "teams": list(teams),
        "people": list(people),
        "conditions_example": json.dumps(CONDITIONS_EXAMPLE, ensure_ascii=False, indent=2),
        "actions_example": json.dumps(ACTIONS_EXAMPLE, ensure_ascii=False, indent=2),
    }
