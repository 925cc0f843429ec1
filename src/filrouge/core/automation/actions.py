"""What a rule or a macro does: a registry of actions, each a small class with a Pydantic
schema for its parameters, applied through the ``core/actions`` write functions.

``ACTIONS`` maps a type to its class; another part of Filrouge adds one (``notify`` through the
notifications module, say) with ``register_action``. Each action says which permission an agent
needs to do the same by hand (a macro never does more than its user could), and which triggers
it can cause (``status_changed``), so that a rule that would trigger itself is refused when it
is saved.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.conversations import (
    ConversationChanges,
    normalise_tag,
    update_conversation,
)
from filrouge.core.actions.notifications import notify_many
from filrouge.core.actions.replies import add_reply
from filrouge.core.audit import Actor, record_event
from filrouge.core.automation.conditions import Context
from filrouge.core.errors import DomainError, Invalid
from filrouge.core.models import Team, User
from filrouge.core.models.enums import ConversationStatus, Priority, Role
from filrouge.i18n import N_

STATUS_CHANGED = "status_changed"
_sandbox = SandboxedEnvironment(autoescape=False)


@dataclass
class ActionRun:
    """One action on one conversation: who acts (the system for a rule, the agent for a
    macro), and for replies who signs (nobody for a rule: an automatic message)."""

    ctx: Context
    actor: Actor
    author: User | None
    rule_id: int | None = None


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AutomationAction(ABC):
    params: ClassVar[type[Params]] = Params
    permission: ClassVar[str] = "conversations:update"  # web/permissions.py, for macros

    def check(self, session: Session, workspace_id: int, params: Any) -> None:  # noqa: B027
        """Refuse, when the rule is saved, what cannot work (an unknown team…); most actions
        have nothing to check."""

    def causes(self, params: Any) -> frozenset[str]:
        """The triggers this action can fire again (``status_changed``)."""
        return frozenset()

    def sets_status(self, params: Any) -> str | None:
        return None

    @abstractmethod
    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        """Do it; True when the conversation's status changed."""


def _changes(session: Session, run: ActionRun, changes: ConversationChanges) -> bool:
    before = run.ctx.conversation.status
    update_conversation(session, run.ctx.conversation, changes, run.actor)
    return run.ctx.conversation.status != before


class AssignTeamParams(Params):
    team_id: int = Field(ge=1)


class AssignTeam(AutomationAction):
    params = AssignTeamParams

    def check(self, session: Session, workspace_id: int, params: Any) -> None:
        team_of(session, workspace_id, params.team_id)

    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        team = team_of(session, run.ctx.conversation.workspace_id, params.team_id)
        return _changes(session, run, ConversationChanges(team_id=team.id))


def team_of(session: Session, workspace_id: int, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None or team.workspace_id != workspace_id:
        raise Invalid(
            "unknown_team", N_("There is no team {id}."), field="params.team_id", id=team_id
        )
    return team


class AssignAgentParams(Params):
    user_id: int = Field(ge=1)


class AssignAgent(AutomationAction):
    params = AssignAgentParams

    def check(self, session: Session, workspace_id: int, params: Any) -> None:
        assignable_agent(session, workspace_id, params.user_id)

    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        agent = assignable_agent(session, run.ctx.conversation.workspace_id, params.user_id)
        return _changes(session, run, ConversationChanges(assignee_id=agent.id))


def assignable_agent(session: Session, workspace_id: int, user_id: int) -> User:
    """An active member of the support staff (contributors are not assigned by rules)."""
    user = session.get(User, user_id)
    if user is None or user.workspace_id != workspace_id:
        raise Invalid(
            "unknown_user", N_("There is no user {id}."), field="params.user_id", id=user_id
        )
    if not user.active or user.role == Role.CONTRIBUTOR:
        raise Invalid(
            "user_not_assignable",
            N_("{name} cannot be assigned conversations (inactive, or a contributor)."),
            field="params.user_id",
            name=user.name,
        )
    return user


class AddTagsParams(Params):
    tags: list[str] = Field(min_length=1, max_length=20)


class AddTags(AutomationAction):
    params = AddTagsParams

    def check(self, session: Session, workspace_id: int, params: Any) -> None:
        for tag in params.tags:
            normalise_tag(tag)

    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        tags = [*run.ctx.conversation.tags, *params.tags]
        return _changes(session, run, ConversationChanges(tags=tags))


class SetPriorityParams(Params):
    priority: Priority


class SetPriority(AutomationAction):
    params = SetPriorityParams

    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        return _changes(session, run, ConversationChanges(priority=str(params.priority)))


class SetStatusParams(Params):
    status: ConversationStatus


class SetStatus(AutomationAction):
    params = SetStatusParams

    def causes(self, params: Any) -> frozenset[str]:
        return frozenset({STATUS_CHANGED})

    def sets_status(self, params: Any) -> str | None:
        return str(params.status)

    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        return _changes(session, run, ConversationChanges(status=str(params.status)))


class CloseAsSpam(AutomationAction):
    def causes(self, params: Any) -> frozenset[str]:
        return frozenset({STATUS_CHANGED})

    def sets_status(self, params: Any) -> str | None:
        return str(ConversationStatus.CLOSED)

    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        tags = [*run.ctx.conversation.tags, "spam"]
        changes = ConversationChanges(status=ConversationStatus.CLOSED, tags=tags)
        return _changes(session, run, changes)


class SendReplyParams(Params):
    text: str = Field(min_length=1, max_length=10_000)


class SendReply(AutomationAction):
    """A reply from a template: ``{{ customer.first_name }}``, ``{{ customer.name }}``,
    ``{{ conversation.id }}`` (a sandbox: nothing else can be reached). From a rule it goes out
    as an automatic message, signed by no one, never the conversation's first response."""

    params = SendReplyParams
    permission = "conversations:reply"

    def check(self, session: Session, workspace_id: int, params: Any) -> None:
        try:
            _sandbox.parse(params.text)
        except TemplateSyntaxError as exc:
            raise Invalid(
                "invalid_template",
                "The response cannot be read: {reason}.",
                field="params.text",
                reason=exc.message or "",
            ) from exc

    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        add_reply(session, run.ctx.conversation, run.author, fill_template(params.text, run.ctx))
        return False


def fill_template(text: str, ctx: Context) -> str:
    name = (ctx.customer.name or "").strip()
    variables = {
        "customer": {"name": name, "first_name": name.split(" ")[0] if name else ""},
        "conversation": {"id": ctx.conversation.id, "subject": ctx.conversation.subject or ""},
    }
    return _sandbox.from_string(text).render(**variables)


class NotifyParams(Params):
    user_ids: list[int] = Field(min_length=1, max_length=50)


class Notify(AutomationAction):
    """Tells the people named (a notification each, live on their open pages) and records
    ``automation.notify``."""

    params = NotifyParams

    def check(self, session: Session, workspace_id: int, params: Any) -> None:
        found = set(
            session.scalars(
                select(User.id).where(
                    User.id.in_(params.user_ids), User.workspace_id == workspace_id
                )
            )
        )
        missing = sorted(set(params.user_ids) - found)
        if missing:
            raise Invalid(
                "unknown_user", N_("There is no user {id}."), field="params.user_ids", id=missing[0]
            )

    def apply(self, session: Session, run: ActionRun, params: Any) -> bool:
        conversation = run.ctx.conversation
        record_event(
            session,
            conversation.workspace_id,
            run.actor,
            ("conversation", conversation.id),
            "automation.notify",
            after={"user_ids": params.user_ids, "rule_id": run.rule_id},
        )
        rule = {"rule_id": run.rule_id}
        notify_many(
            session,
            [
                {
                    "user_id": user_id,
                    "kind": "automation.notify",
                    "conversation_id": conversation.id,
                    "customer_id": conversation.customer_id,
                    "payload": rule,
                }
                for user_id in params.user_ids
            ],
        )
        return False


ACTIONS: dict[str, AutomationAction] = {
    "assign_team": AssignTeam(),
    "assign_agent": AssignAgent(),
    "add_tags": AddTags(),
    "set_priority": SetPriority(),
    "set_status": SetStatus(),
    "send_reply": SendReply(),
    "close_as_spam": CloseAsSpam(),
    "notify": Notify(),
}


def register_action(name: str, action: AutomationAction) -> None:
    ACTIONS[name] = action


@dataclass(frozen=True)
class ActionStep:
    type: str
    params: Any  # the action's Params

    @property
    def action(self) -> AutomationAction:
        return ACTIONS[self.type]

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "params": self.params.model_dump(mode="json")}


def check_actions(
    session: Session, workspace_id: int, raw: Any, *, at_least_one: bool = True
) -> list[ActionStep]:
    """Actions as saved: ``[{"type", "params"}]``, each type known and its params valid."""
    if not isinstance(raw, list) or len(raw) > 20 or (at_least_one and not raw):
        raise Invalid(
            "invalid_actions", N_("Actions must be a list of 1 to 20 items."), field="actions"
        )
    return [_check_step(session, workspace_id, index, item) for index, item in enumerate(raw)]


def _check_step(session: Session, workspace_id: int, index: int, item: Any) -> ActionStep:
    where = f"actions.{index}"
    name = str(item.get("type") or "") if isinstance(item, dict) else ""
    action = ACTIONS.get(name)
    if action is None:
        raise Invalid(
            "unknown_action",
            N_("There is no action {name}; available: {allowed}."),
            field=f"{where}.type",
            name=name,
            allowed=", ".join(sorted(ACTIONS)),
        )
    params = parse_params(action, item.get("params") or {}, where)
    try:
        action.check(session, workspace_id, params)
    except DomainError as error:
        error.field = f"{where}.{error.field}" if error.field else where
        error.params["field"] = error.field
        raise
    return ActionStep(name, params)


def parse_params(action: AutomationAction, raw: Any, where: str) -> Any:
    try:
        return action.params.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise Invalid(
            "invalid_action_params",
            N_("{field} is not valid: {reason}."),
            field=f"{where}.params{'.' + location if location else ''}",
            reason=first["msg"],
        ) from exc


def steps_of(raw: list[dict[str, Any]]) -> list[ActionStep]:
    """The steps of a saved rule, at run time: an entry no longer registered is kept with
    ``None`` params so that running it records why it failed."""
    steps = []
    for item in raw:
        action = ACTIONS.get(str(item.get("type")))
        try:
            params = None if action is None else action.params.model_validate(item.get("params"))
        except ValidationError:
            params = None
        steps.append(ActionStep(str(item.get("type")), params))
    return steps
