"""``/api/v1/automation-rules`` (supervisors and admins) and ``/api/v1/macros`` (everyone's
own and the shared ones), and applying a macro to a conversation.

Conditions and actions are read by the core (``core/automation``), which names the item at
fault in a 422: ``conditions.items.0.field``, ``actions.1.params.team_id``…"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from filrouge.core.access import access_conversation_by_id
from filrouge.core.audit import Actor
from filrouge.core.automation import macros as macro_actions
from filrouge.core.automation import rules as rule_actions
from filrouge.core.automation.rules import RuleData
from filrouge.core.models import AutomationRule, Macro, User
from filrouge.db import transaction
from filrouge.web.api.present import conversation_public
from filrouge.web.deps import Allowed, FactoryDep
from filrouge.web.permissions import is_allowed
from filrouge.web.schemas import ConversationPublic, Id, IdPath, Strict

router = APIRouter(tags=["automation"])
Trigger = Literal[
    "message_received", "conversation_created", "status_changed", "sla_warning", "no_reply"
]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class RuleCreate(Strict):
    name: Name
    trigger: Trigger
    hours: int | None = Field(default=None, description="no_reply: after this many hours (24).")
    conditions: dict[str, Any] = Field(
        default_factory=lambda: {"match": "all", "items": []},
        examples=[
            {
                "match": "all",
                "items": [
                    {"field": "channel", "op": "eq", "value": "whatsapp"},
                    {"field": "keywords", "op": "any", "value": ["remboursement", "rembourser"]},
                ],
            }
        ],
    )
    actions: list[dict[str, Any]] = Field(
        examples=[[{"type": "add_tags", "params": {"tags": ["refund"]}}]]
    )
    active: bool = True
    stop_processing: bool = False


class RuleUpdate(Strict):
    name: Name | None = None
    trigger: Trigger | None = None
    hours: int | None = None
    conditions: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = None
    active: bool | None = None
    stop_processing: bool | None = None


class RulePublic(BaseModel):
    id: int
    name: str
    position: int
    active: bool
    trigger: str
    hours: int | None
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    stop_processing: bool
    last_applied_at: datetime | None
    updated_at: datetime


class RuleOrder(Strict):
    rule_ids: list[Id] = Field(max_length=1000)


class PreviewMatchPublic(BaseModel):
    conversation: ConversationPublic
    conditions: list[dict[str, Any]]


class PreviewPublic(BaseModel):
    examined: int
    matched: list[PreviewMatchPublic]


class MacroCreate(Strict):
    name: Name
    actions: list[dict[str, Any]]
    shared: bool = False
    position: int | None = None


class MacroUpdate(Strict):
    name: Name | None = None
    actions: list[dict[str, Any]] | None = None
    position: int | None = None


class MacroPublic(BaseModel):
    id: int
    name: str
    actions: list[dict[str, Any]]
    shared: bool
    owner_id: int | None
    position: int


def rule_public(rule: AutomationRule) -> RulePublic:
    return RulePublic(
        id=rule.id,
        name=rule.name,
        position=rule.position,
        active=rule.active,
        trigger=rule.trigger,
        hours=rule.hours,
        conditions=rule.conditions,
        actions=rule.actions,
        stop_processing=rule.stop_processing,
        last_applied_at=rule.last_applied_at,
        updated_at=rule.updated_at,
    )


def macro_public(macro: Macro) -> MacroPublic:
    return MacroPublic(
        id=macro.id,
        name=macro.name,
        actions=macro.actions,
        shared=macro.owner_id is None,
        owner_id=macro.owner_id,
        position=macro.position,
    )


def _rule_data(body: RuleCreate | RuleUpdate) -> RuleData:
    data = RuleData()
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is not None or name == "hours":
            setattr(data, name, value)
    return data


Manager = Annotated[User, Allowed("automation:manage")]


@router.get("/automation-rules", response_model=list[RulePublic])
def get_rules(factory: FactoryDep, user: Manager) -> list[RulePublic]:
    with transaction(factory) as session:
        return [rule_public(r) for r in rule_actions.list_rules(session, user.workspace_id)]


@router.post("/automation-rules", status_code=201, response_model=RulePublic)
def post_rule(body: RuleCreate, factory: FactoryDep, user: Manager) -> RulePublic:
    with transaction(factory) as session:
        data = _rule_data(body)
        data.trigger, data.actions = body.trigger, body.actions
        rule = rule_actions.create_rule(session, user.workspace_id, data, Actor.user(user.id))
        session.flush()
        return rule_public(rule)


@router.post("/automation-rules:reorder", response_model=list[RulePublic])
def reorder_rules(body: RuleOrder, factory: FactoryDep, user: Manager) -> list[RulePublic]:
    with transaction(factory) as session:
        rules = rule_actions.reorder_rules(
            session, user.workspace_id, body.rule_ids, Actor.user(user.id)
        )
        return [rule_public(r) for r in rules]


@router.get("/automation-rules/{rule_id}", response_model=RulePublic)
def get_rule(rule_id: IdPath, factory: FactoryDep, user: Manager) -> RulePublic:
    with transaction(factory) as session:
        return rule_public(rule_actions.rule_by_id(session, user.workspace_id, rule_id))


@router.patch("/automation-rules/{rule_id}", response_model=RulePublic)
def patch_rule(rule_id: IdPath, body: RuleUpdate, factory: FactoryDep, user: Manager) -> RulePublic:
    with transaction(factory) as session:
        rule = rule_actions.update_rule(
            session, user.workspace_id, rule_id, _rule_data(body), Actor.user(user.id)
        )
        session.flush()
        return rule_public(rule)


@router.delete("/automation-rules/{rule_id}", status_code=204)
def delete_rule(rule_id: IdPath, factory: FactoryDep, user: Manager) -> Response:
    with transaction(factory) as session:
        rule_actions.delete_rule(session, user.workspace_id, rule_id, Actor.user(user.id))
    return Response(status_code=204)


@router.post("/automation-rules/{rule_id}/test", response_model=PreviewPublic)
def try_rule(
    rule_id: IdPath,
    factory: FactoryDep,
    user: Manager,
    limit: Annotated[int, Query(ge=1, le=rule_actions.PREVIEW_MAX)] = rule_actions.PREVIEW_DEFAULT,
) -> PreviewPublic:
    """Which of the ``limit`` most recent conversations the rule's conditions accept now, with
    each condition's verdict; nothing is applied or written."""
    with factory() as session:
        examined, matches = rule_actions.preview_rule(session, user.workspace_id, rule_id, limit)
        return PreviewPublic(
            examined=examined,
            matched=[
                PreviewMatchPublic(
                    conversation=conversation_public(m.conversation), conditions=m.reasons
                )
                for m in matches
            ],
        )


@router.get("/macros", response_model=list[MacroPublic])
def get_macros(
    factory: FactoryDep, user: Annotated[User, Allowed("macros:list")]
) -> list[MacroPublic]:
    with transaction(factory) as session:
        return [macro_public(m) for m in macro_actions.list_macros(session, user)]


@router.post("/macros", status_code=201, response_model=MacroPublic)
def post_macro(
    body: MacroCreate, factory: FactoryDep, user: Annotated[User, Allowed("macros:write")]
) -> MacroPublic:
    """A personal macro, or (supervisors and admins) a shared one."""
    with transaction(factory) as session:
        macro = macro_actions.create_macro(
            session, user, body.name, body.actions, body.shared, body.position
        )
        return macro_public(macro)


@router.patch("/macros/{macro_id}", response_model=MacroPublic)
def patch_macro(
    macro_id: IdPath,
    body: MacroUpdate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("macros:write")],
) -> MacroPublic:
    with transaction(factory) as session:
        macro = macro_actions.update_macro(
            session, user, macro_id, body.name, body.actions, body.position
        )
        return macro_public(macro)


@router.delete("/macros/{macro_id}", status_code=204)
def delete_macro(
    macro_id: IdPath, factory: FactoryDep, user: Annotated[User, Allowed("macros:write")]
) -> Response:
    with transaction(factory) as session:
        macro_actions.delete_macro(session, user, macro_id)
    return Response(status_code=204)


@router.post(
    "/conversations/{conversation_id}/macros/{macro_id}", response_model=ConversationPublic
)
def post_apply_macro(
    conversation_id: IdPath,
    macro_id: IdPath,
    factory: FactoryDep,
    user: Annotated[User, Allowed("macros:apply")],
) -> ConversationPublic:
    """Apply every action of the macro, as if done by hand: refused whole (403) when one of
    them needs a right your role does not have."""
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, user, conversation_id)
        macro = macro_actions.macro_by_id(session, user, macro_id)
        macro_actions.apply_macro(
            session, conversation, macro, user, lambda p: is_allowed(user.role, p)
        )
        session.flush()
        return conversation_public(conversation)
