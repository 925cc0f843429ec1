"""Macros: several actions in one click, shared with the workspace (written by supervisors and
admins) or personal (each agent's own). Applying one checks each action against what its user
may do by hand, then applies them all in one transaction, as that user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.automation.actions import ActionRun, check_actions, steps_of
from filrouge.core.automation.engine import Occurrence, build_contexts
from filrouge.core.errors import Forbidden, Invalid, NotFound
from filrouge.core.models import Conversation, Macro, User
from filrouge.core.models.enums import Role
from filrouge.i18n import N_

MANAGERS = frozenset({Role.ADMIN, Role.SUPERVISOR})


def list_macros(session: Session, user: User) -> list[Macro]:
    """The workspace's shared macros and the user's own, in their order."""
    return list(
        session.scalars(
            select(Macro)
            .where(
                Macro.workspace_id == user.workspace_id,
                or_(Macro.owner_id.is_(None), Macro.owner_id == user.id),
            )
            .order_by(Macro.position, Macro.name, Macro.id)
        )
    )


def macro_by_id(session: Session, user: User, macro_id: int) -> Macro:
    """A macro the user may use: shared, or their own."""
    macro = session.get(Macro, macro_id)
    if (
        macro is None
        or macro.workspace_id != user.workspace_id
        or macro.owner_id not in (None, user.id)
    ):
        raise NotFound("macro_not_found", N_("There is no macro {id}."), id=macro_id)
    return macro


def create_macro(
    session: Session, user: User, name: str, actions: Any, shared: bool, position: int | None
) -> Macro:
    _check_may_write(user, shared)
    steps = check_actions(session, user.workspace_id, actions)
    last = session.scalar(
        select(func.max(Macro.position)).where(Macro.workspace_id == user.workspace_id)
    )
    macro = Macro(
        workspace_id=user.workspace_id,
        name=_check_name(name),
        actions=[step.as_dict() for step in steps],
        owner_id=None if shared else user.id,
        position=(last or 0) + 1 if position is None else position,
    )
    session.add(macro)
    session.flush()
    _log(session, user, macro, "macro.created", after=_snapshot(macro))
    return macro


def update_macro(
    session: Session,
    user: User,
    macro_id: int,
    name: str | None,
    actions: Any,
    position: int | None,
) -> Macro:
    macro = macro_by_id(session, user, macro_id)
    _check_may_write(user, macro.owner_id is None)
    before = _snapshot(macro)
    if name is not None:
        macro.name = _check_name(name)
    if actions is not None:
        macro.actions = [s.as_dict() for s in check_actions(session, user.workspace_id, actions)]
    if position is not None:
        macro.position = position
    if _snapshot(macro) != before:
        _log(session, user, macro, "macro.updated", before=before, after=_snapshot(macro))
    return macro


def delete_macro(session: Session, user: User, macro_id: int) -> None:
    macro = macro_by_id(session, user, macro_id)
    _check_may_write(user, macro.owner_id is None)
    _log(session, user, macro, "macro.deleted", before=_snapshot(macro))
    session.delete(macro)


def apply_macro(
    session: Session,
    conversation: Conversation,
    macro: Macro,
    user: User,
    may: Callable[[str], bool],
) -> None:
    """Every action of the macro, as ``user``: refused whole if one of them needs a right the
    user does not have (``may(permission)``), or cannot be done (a team deleted since)."""
    steps = steps_of(macro.actions)
    for index, step in enumerate(steps):
        if step.params is None:
            raise Invalid(
                "unknown_action",
                N_("There is no action {name}; available: {allowed}."),
                field=f"actions.{index}.type",
                name=step.type,
                allowed="",
            )
        if not may(step.action.permission):
            raise Forbidden(
                "macro_action_forbidden",
                N_("Your role does not allow the action {action} of this macro."),
                field=f"actions.{index}.type",
                action=step.type,
            )
    _, ctx = build_contexts(session, [Occurrence(conversation.id, "macro")])[0]
    run = ActionRun(ctx, Actor.user(user.id), user)
    for step in steps:
        step.action.apply(session, run, step.params)
    _log(
        session,
        user,
        macro,
        "macro.applied",
        after={"conversation_id": conversation.id, "actions": [s.type for s in steps]},
        subject=("conversation", conversation.id),
    )


def _check_may_write(user: User, shared: bool) -> None:
    if shared and user.role not in MANAGERS:
        raise Forbidden(
            "shared_macro_forbidden",
            N_("Only supervisors and admins write shared macros."),
            field="shared",
        )


def _check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise Invalid("invalid_name", "A name must have 1 to 200 characters.", field="name")
    return cleaned


def _snapshot(macro: Macro) -> dict[str, Any]:
    return {
        "name": macro.name,
        "actions": macro.actions,
        "shared": macro.owner_id is None,
        "position": macro.position,
    }


def _log(
    session: Session,
    user: User,
    macro: Macro,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    subject: tuple[str, int] | None = None,
) -> None:
    if subject is not None and after is not None:
        after = {**after, "macro_id": macro.id}
    record_event(
        session,
        user.workspace_id,
        Actor.user(user.id),
        subject or ("macro", macro.id),
        action,
        before=before,
        after=after,
    )
