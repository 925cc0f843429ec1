"""The customer panel's merge forms (supervisors and admins): merge another customer into this
one, named by their number, email or phone; undo a merge that was made into this one. Both go
back to the conversation the panel was on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from filrouge.core.access import access_conversation_by_id, access_customer_by_id
from filrouge.core.actions.customers import merge_customers
from filrouge.core.actions.identities import find_identity
from filrouge.core.actions.unmerge import unmerge_customers
from filrouge.core.audit import Actor
from filrouge.core.errors import DomainError, NotFound
from filrouge.core.identity import normalise_identity
from filrouge.core.models import Customer, User
from filrouge.core.models.enums import IdentityKind
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor

router = APIRouter(include_in_schema=False)
Merger = Annotated[Visitor, PageAllowed("customers:merge")]


@router.post("/conversations/{conversation_id}/customer/merge")
def merge_into_panel_customer(
    conversation_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Merger,
    other: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        target = access_customer_by_id(session, visitor.user, conversation.customer_id)
        named = customer_named(session, visitor.user, other, settings.default_region)
        merge_customers(session, target, named, Actor.user(visitor.user.id))
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


@router.post("/conversations/{conversation_id}/customer/unmerge")
def unmerge_from_panel_customer(
    conversation_id: IdPath,
    factory: FactoryDep,
    visitor: Merger,
    other_id: Annotated[int, Form(ge=1)],
) -> Response:
    with transaction(factory) as session:
        conversation = access_conversation_by_id(session, visitor.user, conversation_id)
        target = access_customer_by_id(session, visitor.user, conversation.customer_id)
        other = access_customer_by_id(session, visitor.user, other_id)
        unmerge_customers(session, target, other, Actor.user(visitor.user.id))
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


def customer_named(session: Session, user: User, text: str, region: str) -> Customer:
    """A customer by number (``1234`` or ``#1234``), email address or phone number."""
    cleaned = text.strip().removeprefix("#")
    if cleaned.isdigit():
        return access_customer_by_id(session, user, int(cleaned))
    kinds = [IdentityKind.EMAIL] if "@" in cleaned else [IdentityKind.PHONE, IdentityKind.WHATSAPP]
    for kind in kinds:
        try:
            value = normalise_identity(kind, cleaned, region)
        except DomainError:
            continue
        identity = find_identity(session, user.workspace_id, kind, value)
        if identity is not None:
            return access_customer_by_id(session, user, identity.customer_id)
    raise NotFound(
        "no_customer_named", "No customer has the number, email or phone {text}.", text=text
    )
