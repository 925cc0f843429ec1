"""The customer panel's attributes: typed fields, VIP, language, age band, consents and each
identity's reach, shown to everyone who sees the conversation; changed by staff through one
form (only what was changed is written, so a value kept from an older type does not block the
rest). A refusal shows the page again with the reason next to the form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from filrouge.core.access import access_conversation_by_id, access_customer_by_id
from filrouge.core.actions.custom_fields import last_consent_changes, workspace_definitions
from filrouge.core.actions.customers import update_customer
from filrouge.core.audit import Actor
from filrouge.core.custom_fields import FieldDefinition, age_band_of, coerce_value
from filrouge.core.errors import DomainError
from filrouge.core.models import Customer
from filrouge.core.segments import customer_reach, followers_of
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep
from filrouge.web.permissions import is_allowed
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
Editor = Annotated[Visitor, PageAllowed("customers:update")]
FORM_PREFIX = "f_"


@dataclass(frozen=True)
class PanelField:
    definition: FieldDefinition
    value: Any
    shown: str  # as the form shows it
    fits: bool  # False: written before the field's type or options changed


def fields_context(session: Session, customer: Customer, role: str) -> dict[str, Any]:
    """What the panel shows of the customer's attributes (built-ins, then custom fields)."""
    definitions = workspace_definitions(session, customer.workspace_id)
    attributes = customer.attributes or {}
    return {
        "panel_fields": [_panel_field(d, attributes.get(d.key)) for d in definitions.values()],
        "free_attributes": {k: v for k, v in attributes.items() if k not in definitions},
        "age_band": age_band_of(attributes, date.today()),
        "vip": attributes.get("vip") is True,
        "reach": customer_reach(customer),
        "followers": {i.id: followers_of(i) for i in customer.identities},
        "fields_allowed": is_allowed(role, "customers:update"),
        "consent_changes": last_consent_changes(session, customer),
    }


@router.post("/conversations/{conversation_id}/customer/attributes")
async def edit_customer_attributes(
    request: Request, conversation_id: IdPath, factory: FactoryDep, visitor: Editor
) -> Response:
    form = await request.form()
    sent = {
        key.removeprefix(FORM_PREFIX): str(value).strip()[:2000]
        for key, value in form.items()
        if key.startswith(FORM_PREFIX) and isinstance(value, str)
    }
    try:
        with transaction(factory) as session:
            conversation = access_conversation_by_id(session, visitor.user, conversation_id)
            customer = access_customer_by_id(session, visitor.user, conversation.customer_id)
            changed = _changed(session, customer, sent)
            if changed:
                actor = Actor.user(visitor.user.id)
                update_customer(session, customer, None, changed, actor, "panel")
    except DomainError as refusal:
        return _refused(request, factory, visitor, conversation_id, refusal, sent)
    return RedirectResponse(f"/conversations/{conversation_id}", status_code=303)


def _changed(session: Session, customer: Customer, sent: dict[str, str]) -> dict[str, Any]:
    """Only the fields whose text differs from what the form showed (empty: removed)."""
    definitions = workspace_definitions(session, customer.workspace_id)
    attributes = customer.attributes or {}
    return {
        key: text or None
        for key, text in sent.items()
        if key in definitions and text != shown_value(attributes.get(key))
    }


def _refused(
    request: Request,
    factory: FactoryDep,
    visitor: Visitor,
    conversation_id: int,
    refusal: DomainError,
    sent: dict[str, str],
) -> Response:
    from filrouge.web.ui import conversation as conversation_pages  # it imports this module

    with transaction(factory) as session:
        context = conversation_pages.page_context(session, visitor, conversation_id)
        context["fields_error"] = refusal.message_in(locale_for(request, visitor.user))
        context["fields_sent"] = sent
        context["uploads"] = conversation_pages.upload_limits(request.app.state.settings)
        return render(request, "conversation.html", context, visitor, status=refusal.status)


def _panel_field(definition: FieldDefinition, value: Any) -> PanelField:
    fits = value is None or coerce_value(definition, value) == value
    return PanelField(definition, value, shown_value(value), fits)


def shown_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
