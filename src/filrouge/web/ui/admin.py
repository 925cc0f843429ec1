"""Administration: channel accounts (signature style, inbound token), teams, people
(invitations, roles, expertise and trust of contributors, signatures, deactivation), customer
fields (typed attributes), and personal data (how long closed conversations are kept)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.setup import SETUPS
from filrouge.core.actions.channels import (
    ChannelChanges,
    channel_of_workspace,
    create_channel,
    redact_settings,
    rotate_inbound_token,
    update_channel,
)
from filrouge.core.actions.custom_fields import (
    FieldChanges,
    create_field,
    delete_field,
    update_field,
)
from filrouge.core.actions.invitations import invite_user, issue_invitation
from filrouge.core.actions.teams import create_team, list_teams, update_team
from filrouge.core.actions.users import UserChanges, update_user
from filrouge.core.audit import Actor
from filrouge.core.custom_fields import CUSTOM_TYPES, custom_fields
from filrouge.core.errors import DomainError, Invalid, NotFound
from filrouge.core.models import ChannelAccount, User, Workspace
from filrouge.core.models.enums import ChannelKind, Role
from filrouge.core.retention import retention_months, set_retention
from filrouge.core.signatures import SignatureStyle, signature_style
from filrouge.db import transaction
from filrouge.lib.crypto import is_secret_setting
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Visitor, PageAllowed("admin:view")]
Manager = Annotated[Visitor, PageAllowed("admin:manage")]
Name = Annotated[str, Form(max_length=200)]
Checkbox = Annotated[bool, Form()]
PAGES = {
    "channels": "admin_channels.html",
    "people": "admin_people.html",
    "teams": "admin_teams.html",
    "fields": "admin_fields.html",
    "privacy": "admin_privacy.html",
}


@router.get("/admin")
def admin_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    return _show(request, factory, visitor, "channels")


@router.get("/admin/people")
def people_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    return _show(request, factory, visitor, "people")


@router.get("/admin/teams")
def teams_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    return _show(request, factory, visitor, "teams")


@router.get("/admin/fields")
def fields_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    return _show(request, factory, visitor, "fields")


@router.post("/admin/fields")
def add_field(
    request: Request,
    factory: FactoryDep,
    visitor: Manager,
    key: Annotated[str, Form(max_length=64)],
    type: Annotated[str, Form(max_length=16)],
    label: Name = "",
    options: Annotated[str, Form(max_length=16 * 1024)] = "",
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        workspace_id = visitor.user.workspace_id
        create_field(session, workspace_id, key.strip(), label, type, _lines(options), actor)
        return {}

    return _change(request, factory, visitor, "fields", change)


@router.post("/admin/fields/{field_id}")
def edit_field(
    request: Request,
    field_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    label: Name,
    type: Annotated[str, Form(max_length=16)],
    options: Annotated[str, Form(max_length=16 * 1024)] = "",
    position: Annotated[int, Form(ge=0, le=10_000)] = 0,
) -> Response:
    """A new type or fewer options keep the values already written (shown as they are)."""

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        changes = FieldChanges(label, type, _lines(options), position)
        update_field(session, visitor.user.workspace_id, field_id, changes, actor)
        return {}

    return _change(request, factory, visitor, "fields", change)


@router.post("/admin/fields/{field_id}/delete")
def remove_field(
    request: Request, field_id: IdPath, factory: FactoryDep, visitor: Manager
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        delete_field(session, visitor.user.workspace_id, field_id, actor)
        return {}

    return _change(request, factory, visitor, "fields", change)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.get("/admin/privacy")
def privacy_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    return _show(request, factory, visitor, "privacy")


@router.post("/admin/privacy")
def set_privacy(
    request: Request,
    factory: FactoryDep,
    visitor: Manager,
    retention: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """How many months closed conversations are kept before they are anonymised (empty:
    forever)."""

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        months = None if not retention.strip() else _int_or_zero(retention)
        workspace = session.get_one(Workspace, visitor.user.workspace_id)
        set_retention(session, workspace, months, actor)
        return {}

    return _change(request, factory, visitor, "privacy", change)


def _int_or_zero(value: str) -> int:
    return int(value) if value.strip().isdigit() else 0


@router.post("/admin/channels")
def add_channel(
    request: Request,
    factory: FactoryDep,
    visitor: Manager,
    kind: Annotated[str, Form(max_length=32)],
    name: Name,
    settings: Annotated[str, Form(max_length=16 * 1024)] = "{}",
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        channel, token = create_channel(
            session, visitor.user.workspace_id, kind, name, _json_object(settings), actor
        )
        return {"secret": {"label": channel.name, "token": token, "kind": "inbound"}}

    return _change(request, factory, visitor, "channels", change)


@router.post("/admin/channels/{channel_id}")
def edit_channel(
    request: Request,
    channel_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    name: Name,
    style: Annotated[str, Form(max_length=20)] = "",
    settings: Annotated[str, Form(max_length=16 * 1024)] = "{}",
    active: Checkbox = False,
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        changes = ChannelChanges(
            name=name, active=active, signature_style=style, settings=_json_object(settings)
        )
        update_channel(session, visitor.user.workspace_id, channel_id, changes, actor)
        return {}

    return _change(request, factory, visitor, "channels", change)


@router.post("/admin/channels/{channel_id}/setup")
async def set_up_provider(
    request: Request, channel_id: IdPath, factory: FactoryDep, visitor: Manager
) -> Response:
    """The provider's own fields (ids, tokens, secrets): a secret left empty stays as it was."""
    form = await request.form()
    typed = {key: str(value).strip() for key, value in form.items() if isinstance(value, str)}

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        channel = channel_of_workspace(session, visitor.user.workspace_id, channel_id)
        setup = SETUPS.get(channel.kind)
        if setup is None:
            raise Invalid("no_setup", "This kind of channel has no provider to connect.")
        settings = dict(channel.settings or {})
        for field in setup.fields:
            value = typed.get(field.name, "")
            if value or not field.secret:
                settings[field.name] = value
        changes = ChannelChanges(settings=settings)
        update_channel(session, visitor.user.workspace_id, channel_id, changes, actor)
        return {}

    return _change(request, factory, visitor, "channels", change)


@router.post("/admin/channels/{channel_id}/token")
def new_channel_token(
    request: Request, channel_id: IdPath, factory: FactoryDep, visitor: Manager
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        token = rotate_inbound_token(session, visitor.user.workspace_id, channel_id, actor)
        name = session.get_one(ChannelAccount, channel_id).name
        return {"secret": {"label": name, "token": token, "kind": "inbound"}}

    return _change(request, factory, visitor, "channels", change)


@router.post("/admin/people")
def invite(
    request: Request,
    factory: FactoryDep,
    visitor: Manager,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=16)],
    name: Name = "",
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        user, token = invite_user(session, visitor.user.workspace_id, email, name, role, actor)
        return {"secret": _link(request, user, token)}

    return _change(request, factory, visitor, "people", change)


@router.post("/admin/people/{user_id}")
def edit_person(
    request: Request,
    user_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    name: Name,
    role: Annotated[str, Form(max_length=16)],
    signature: Annotated[str, Form(max_length=2000)] = "",
    expertise: Annotated[str, Form(max_length=2000)] = "",
    trusted: Checkbox = False,
    active: Checkbox = False,
) -> Response:
    changes = UserChanges(
        name=name,
        role=role,
        signature=signature,
        expertise=expertise.split(","),
        trusted=trusted,
        active=active,
    )

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        update_user(session, session.get_one(User, visitor.user.id), user_id, changes)
        return {}

    return _change(request, factory, visitor, "people", change)


@router.post("/admin/people/{user_id}/link")
def new_sign_in_link(
    request: Request, user_id: IdPath, factory: FactoryDep, visitor: Manager
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        user = session.get(User, user_id)
        if user is None or user.workspace_id != visitor.user.workspace_id:
            raise NotFound("unknown_user", "There is no user {id}.", field="user_id", id=user_id)
        return {"secret": _link(request, user, issue_invitation(session, user, actor))}

    return _change(request, factory, visitor, "people", change)


@router.post("/admin/teams")
def add_team(request: Request, factory: FactoryDep, visitor: Manager, name: Name) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        create_team(session, visitor.user.workspace_id, name, actor)
        return {}

    return _change(request, factory, visitor, "teams", change)


@router.post("/admin/teams/{team_id}")
def edit_team(
    request: Request,
    team_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    name: Name,
    members: Annotated[list[int] | None, Form()] = None,
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        update_team(session, visitor.user.workspace_id, team_id, name, members or [], actor)
        return {}

    return _change(request, factory, visitor, "teams", change)


def _change(
    request: Request,
    factory: FactoryDep,
    visitor: Visitor,
    page: str,
    change: Callable[[Session, Actor], dict[str, Any]],
) -> Response:
    """Run one change; on success show the page again (with a secret shown once, if any),
    on a refusal show it with the reason and nothing changed."""
    try:
        with transaction(factory) as session:
            shown = change(session, Actor.user(visitor.user.id))
    except DomainError as refusal:
        error = refusal.message_in(locale_for(request, visitor.user))
        return _show(request, factory, visitor, page, {"error": error}, refusal.status)
    if not shown:
        target = "/admin" if page == "channels" else f"/admin/{page}"
        return RedirectResponse(target, status_code=303)
    return _show(request, factory, visitor, page, shown)


def _show(
    request: Request,
    factory: FactoryDep,
    visitor: Visitor,
    page: str,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    workspace_id = visitor.user.workspace_id
    with transaction(factory) as session:
        context = {
            "page": page,
            "channels": _channels(session, workspace_id),
            "users": list(
                session.scalars(
                    select(User).where(User.workspace_id == workspace_id).order_by(User.name)
                )
            ),
            "teams": [
                (team, {u.id for u in team.members}) for team in list_teams(session, workspace_id)
            ],
            "kinds": [kind.value for kind in ChannelKind],
            "roles": [role.value for role in Role],
            "styles": [style.value for style in SignatureStyle],
            "retention_months": retention_months(session.get_one(Workspace, workspace_id)),
            "fields": custom_fields(session, workspace_id),
            "field_types": CUSTOM_TYPES,
            **(extra or {}),
        }
        return render(request, PAGES[page], context, visitor, status=status)


def _channels(session: Session, workspace_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ChannelAccount)
        .where(ChannelAccount.workspace_id == workspace_id)
        .order_by(ChannelAccount.id)
    )
    return [
        {
            "channel": channel,
            "settings": json.dumps(
                redact_settings(channel.settings or {}), ensure_ascii=False, indent=1
            ),
            "style": (channel.settings or {}).get("signature_style", ""),
            "default_style": signature_style(channel.kind).value,
            "setup": SETUPS.get(channel.kind),
            "values": {
                key: value
                for key, value in (channel.settings or {}).items()
                if not is_secret_setting(key)
            },
        }
        for channel in rows
    ]


def _link(request: Request, user: User, token: str) -> dict[str, str]:
    url = str(request.base_url).rstrip("/") + f"/invite/{token}"
    return {"label": user.email, "token": url, "kind": "link"}


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise Invalid(
            "invalid_settings", "The settings are not valid JSON: {reason}.", reason=error.msg
        ) from error
    if not isinstance(value, dict):
        raise Invalid("invalid_settings", "The settings must be a JSON object.")
    return value
