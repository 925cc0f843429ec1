"""The concierge in the workspace: the panel shows a customer's owner and their presence, and
supervisors change it there; ``/concierge`` gives one owner to many customers at once."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.access import access_conversation_by_id, access_customer_by_id
from filrouge.core.actions.concierge import CustomerFilter, assign_owner_in_bulk, set_owner
from filrouge.core.audit import Actor
from filrouge.core.errors import DomainError
from filrouge.core.models import Customer, User
from filrouge.core.presence import ANSWERING_ROLES, availability_of
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.permissions import is_allowed
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Assigner = Annotated[Visitor, PageAllowed("customers:assign_owner")]
OwnerField = Annotated[str, Form(max_length=20)]


def concierge_context(
    session: Session, user: User, customer: Customer, idle: timedelta
) -> dict[str, Any]:
    """What the 360 panel shows of the concierge, and who may be chosen."""
    owner = customer.owner
    return {
        "owner": owner,
        "owner_availability": availability_of(session, [owner.id], idle)[owner.id]
        if owner
        else None,
        "owner_allowed": is_allowed(user.role, "customers:assign_owner"),
        "owner_choices": eligible_owners(session, user.workspace_id),
    }


def eligible_owners(session: Session, workspace_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.workspace_id == workspace_id, User.active, User.role.in_(ANSWERING_ROLES))
            .order_by(User.name)
        )
    )


@router.post("/conversations/{conversation_id}/customer/owner")
def set_panel_owner(
    conversation_id: IdPath, factory: FactoryDep, visitor: Assigner, owner_id: OwnerField = ""
) -> Response:
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        customer = access_customer_by_id(session, visitor.user, conversation.customer_id)
        set_owner(session, customer, _owner(owner_id), Actor.user(visitor.user.id))
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.get("/concierge")
def concierge_page(
    request: Request, factory: FactoryDep, settings: SettingsDep, visitor: Assigner
) -> Response:
    with transaction(factory) as session:
        context = _page(session, visitor.user, settings.presence_idle)
    return render(request, "concierge.html", context, visitor)


@router.post("/concierge")
def assign_many(
    request: Request,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Assigner,
    owner_id: OwnerField = "",
    customer_ids: Annotated[str, Form(max_length=200_000)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
    attribute: Annotated[str, Form(max_length=64)] = "",
    value: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """By numbers (one per line, or separated by commas), or by the filter's fields."""
    ids = [int(i) for i in re.findall(r"\d{1,18}", customer_ids)] or None
    where = None if ids else CustomerFilter(q or None, attribute or None, typed(value))
    outcome: dict[str, Any] = {}
    try:
        with transaction(factory) as session:
            count = assign_owner_in_bulk(session, visitor.user, _owner(owner_id), ids, where)
        outcome["assigned"] = count
    except DomainError as refusal:
        outcome["error"] = refusal.message_in(locale_for(request, visitor.user))
    with transaction(factory) as session:
        context = {**_page(session, visitor.user, settings.presence_idle), **outcome}
    return render(
        request, "concierge.html", context, visitor, status=422 if "error" in outcome else 200
    )


def typed(value: str) -> Any:
    """A filter's value as typed: true/false, a whole number, else the text."""
    text = value.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if re.fullmatch(r"-?\d{1,15}", text):
        return int(text)
    return text


def _page(session: Session, user: User, idle: timedelta) -> dict[str, Any]:
    owners = eligible_owners(session, user.workspace_id)
    rows = session.execute(
        select(Customer.owner_id, func.count().label("customers"))
        .where(Customer.workspace_id == user.workspace_id, Customer.owner_id.is_not(None))
        .where(Customer.merged_into_id.is_(None))
        .group_by(Customer.owner_id)
    )
    counts = {row.owner_id: row.customers for row in rows}
    return {
        "owners": owners,
        "counts": counts,
        "availability": availability_of(session, [o.id for o in owners], idle),
    }


def _owner(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2**63 else None
