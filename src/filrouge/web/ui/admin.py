"""Administration: channel accounts (signature style, inbound token), teams (and their
calendars), people (invitations, roles, expertise and trust of contributors, signatures,
deactivation), service levels (policies, the workspace's calendar), customer fields (typed
attributes), satisfaction surveys, the public transparency page, and personal data (how long
closed conversations are kept)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.setup import SETUPS
from filrouge.core.actions.calendars import (
    set_team_calendar,
    set_workspace_calendar,
    workspace_calendar,
)
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
from filrouge.core.actions.sla_policies import (
    PolicyData,
    create_policy,
    list_policies,
    update_policy,
)
from filrouge.core.actions.surveys import set_survey_policy
from filrouge.core.actions.teams import (
    TeamRouting,
    capacities_of,
    create_team,
    list_teams,
    set_capacity,
    set_team_routing,
    update_team,
)
from filrouge.core.actions.transparency import set_transparency
from filrouge.core.actions.users import UserChanges, update_user
from filrouge.core.audit import Actor
from filrouge.core.calendars import DAY_NAMES, CalendarForm, calendar_from_form, form_from_calendar
from filrouge.core.custom_fields import CUSTOM_TYPES, custom_fields
from filrouge.core.errors import DomainError, Invalid, NotFound
from filrouge.core.hours import WEEKDAYS
from filrouge.core.models import ChannelAccount, User, Workspace
from filrouge.core.models.enums import ChannelKind, Priority, Role
from filrouge.core.retention import retention_months, set_retention
from filrouge.core.routing.capacity import DEFAULT_CAPACITY
from filrouge.core.routing.skills import Strategy
from filrouge.core.signatures import SignatureStyle, signature_style
from filrouge.core.surveys import policy_of, survey_policy_from
from filrouge.core.transparency import transparency_of
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
    "surveys": "admin_surveys.html",
    "sla": "admin_sla.html",
    "transparency": "admin_transparency.html",
}
Text = Annotated[str, Form(max_length=200)]
Minutes = Annotated[str, Form(max_length=12, pattern=r"^[0-9]*$")]


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


@router.get("/admin/surveys")
def surveys_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    return _show(request, factory, visitor, "surveys")


@router.post("/admin/surveys")
def set_surveys(
    request: Request,
    factory: FactoryDep,
    visitor: Manager,
    enabled: Checkbox = False,
    ask_nps: Checkbox = False,
    delay_minutes: Annotated[str, Form(max_length=5)] = "",
    expiry_days: Annotated[str, Form(max_length=5)] = "",
    min_days_between: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Who is asked for their satisfaction after a resolution, when, and for how long."""

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        policy = survey_policy_from(
            {
                "enabled": enabled,
                "ask_nps": ask_nps,
                "delay_minutes": delay_minutes,
                "expiry_days": expiry_days,
                "min_days_between": min_days_between,
            }
        )
        workspace = session.get_one(Workspace, visitor.user.workspace_id)
        set_survey_policy(session, workspace, policy, actor)
        return {}

    return _change(request, factory, visitor, "surveys", change)


@router.get("/admin/transparency")
def transparency_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    public_url = request.app.state.settings.public_url.rstrip("/")
    return _show(request, factory, visitor, "transparency", {"public_url": public_url})


@router.post("/admin/transparency")
def set_transparency_page(
    request: Request, factory: FactoryDep, visitor: Manager, enabled: Checkbox = False
) -> Response:
    """Publish the public transparency page, or stop publishing it."""

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        workspace = session.get_one(Workspace, visitor.user.workspace_id)
        set_transparency(session, workspace, enabled, actor)
        return {}

    return _change(request, factory, visitor, "transparency", change)


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


@router.post("/admin/teams/{team_id}/routing")
def edit_team_routing(
    request: Request,
    team_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    strategy: Annotated[str, Form(max_length=16)] = "off",
    languages: Annotated[str, Form(max_length=2000)] = "",
    topics: Annotated[str, Form(max_length=8000)] = "",
    channel_kinds: Annotated[list[str] | None, Form()] = None,
    reroute_answered: Checkbox = False,
) -> Response:
    """How new conversations reach the team (skills) and its agents (strategy)."""
    routing = TeamRouting(
        strategy, _commas(languages), _commas(topics), channel_kinds or [], reroute_answered
    )

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        set_team_routing(session, visitor.user.workspace_id, team_id, routing, actor)
        return {}

    return _change(request, factory, visitor, "teams", change)


@router.post("/admin/people/{user_id}/capacity")
def edit_capacity(
    request: Request,
    user_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    chat: Minutes = "",
    email: Minutes = "",
    social: Minutes = "",
    other: Minutes = "",
) -> Response:
    """An agent's capacity per kind of work (empty: the default)."""
    given = {"chat": chat, "email": email, "social": social, "other": other}
    capacity = {kind: int(value) for kind, value in given.items() if value}

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        set_capacity(session, visitor.user.workspace_id, user_id, capacity, actor)
        return {}

    return _change(request, factory, visitor, "people", change)


def _commas(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def calendar_form(
    always_open: Checkbox = False,
    timezone: Text = "Europe/Paris",
    holidays_country: Text = "",
    holidays_subdiv: Text = "",
    mon: Text = "",
    tue: Text = "",
    wed: Text = "",
    thu: Text = "",
    fri: Text = "",
    sat: Text = "",
    sun: Text = "",
    exceptions: Annotated[str, Form(max_length=10_000)] = "",
) -> CalendarForm:
    days = dict(zip(WEEKDAYS, (mon, tue, wed, thu, fri, sat, sun), strict=True))
    return CalendarForm(always_open, timezone, holidays_country, holidays_subdiv, days, exceptions)


CalendarFields = Annotated[CalendarForm, Depends(calendar_form)]


@router.post("/admin/teams/{team_id}/calendar")
def edit_team_calendar(
    request: Request,
    team_id: IdPath,
    factory: FactoryDep,
    visitor: Manager,
    fields: CalendarFields,
    own: Checkbox = False,
) -> Response:
    """A team's own calendar, or (``own`` unchecked) the workspace's."""

    def change(session: Session, actor: Actor) -> dict[str, Any]:
        calendar = calendar_from_form(fields) if own else None
        set_team_calendar(session, visitor.user.workspace_id, team_id, calendar, actor)
        return {}

    return _change(request, factory, visitor, "teams", change)


@router.get("/admin/sla")
def sla_page(request: Request, factory: FactoryDep, visitor: Viewer) -> Response:
    return _show(request, factory, visitor, "sla")


@router.post("/admin/sla/calendar")
def edit_workspace_calendar(
    request: Request, factory: FactoryDep, visitor: Manager, fields: CalendarFields
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        set_workspace_calendar(
            session, visitor.user.workspace_id, calendar_from_form(fields), actor
        )
        return {}

    return _change(request, factory, visitor, "sla", change)


def policy_form(
    name: Name,
    position: Annotated[int, Form(ge=0, le=1_000_000)] = 0,
    channel_kinds: Annotated[list[ChannelKind] | None, Form()] = None,
    priorities: Annotated[list[Priority] | None, Form()] = None,
    first_response_minutes: Minutes = "",
    next_response_minutes: Minutes = "",
    resolution_minutes: Minutes = "",
    business_hours: Checkbox = False,
    warn_percent: Annotated[int, Form(ge=0, le=100)] = 20,
    notify_supervisors: Checkbox = False,
    raise_priority: Checkbox = False,
    reassign_team_id: Annotated[str, Form(max_length=20, pattern=r"^[0-9]*$")] = "",
    active: Checkbox = False,
) -> PolicyData:
    """A policy as the admin page edits it: targets in minutes, the warning in percent."""
    return PolicyData(
        name=name,
        position=position,
        channel_kinds=[str(kind) for kind in channel_kinds or []],
        priorities=[str(priority) for priority in priorities or []],
        first_response_seconds=_seconds(first_response_minutes),
        next_response_seconds=_seconds(next_response_minutes),
        resolution_seconds=_seconds(resolution_minutes),
        business_hours=business_hours,
        warn_ratio=warn_percent / 100,
        notify_supervisors=notify_supervisors,
        raise_priority=raise_priority,
        reassign_team_id=int(reassign_team_id) if reassign_team_id else None,
        active=active,
    )


def _seconds(minutes: str) -> int | None:
    return int(minutes) * 60 if minutes else None


PolicyFields = Annotated[PolicyData, Depends(policy_form)]


@router.post("/admin/sla/policies")
def add_policy(
    request: Request, factory: FactoryDep, visitor: Manager, data: PolicyFields
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        create_policy(session, visitor.user.workspace_id, data, actor)
        return {}

    return _change(request, factory, visitor, "sla", change)


@router.post("/admin/sla/policies/{policy_id}")
def edit_policy(
    request: Request, policy_id: IdPath, factory: FactoryDep, visitor: Manager, data: PolicyFields
) -> Response:
    def change(session: Session, actor: Actor) -> dict[str, Any]:
        update_policy(session, visitor.user.workspace_id, policy_id, vars(data), actor)
        return {}

    return _change(request, factory, visitor, "sla", change)


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
                (team, {u.id for u in team.members}, form_from_calendar(team.calendar))
                for team in list_teams(session, workspace_id)
            ],
            "kinds": [kind.value for kind in ChannelKind],
            "strategies": [strategy.value for strategy in Strategy],
            "capacity_kinds": list(DEFAULT_CAPACITY),
            "capacities": capacities_of,
            "roles": [role.value for role in Role],
            "styles": [style.value for style in SignatureStyle],
            "retention_months": retention_months(session.get_one(Workspace, workspace_id)),
            "survey_policy": policy_of(session.get_one(Workspace, workspace_id).settings),
            "transparency": transparency_of(session.get_one(Workspace, workspace_id).settings),
            "sla_policies": list_policies(session, workspace_id),
            "calendar": form_from_calendar(
                workspace_calendar(session.get_one(Workspace, workspace_id))
            ),
            "priorities": [priority.value for priority in Priority],
            "weekdays": WEEKDAYS,
            "day_names": DAY_NAMES,
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
