"""The customer panel's GDPR forms: export everything held on the customer (a zip), or erase
the customer, each with a reason; the erasure is confirmed and ends in the inbox, told what
happened."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from filrouge.core.access import access_customer_by_id
from filrouge.core.actions.erasure import erase_customer
from filrouge.core.audit import Actor
from filrouge.core.blobs import BlobStore
from filrouge.core.errors import Invalid
from filrouge.db import transaction
from filrouge.web.api.privacy import export_response
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor

router = APIRouter(include_in_schema=False)
Reason = Annotated[str, Form(max_length=500)]


@router.post("/customers/{customer_id}/export")
def export_page(
    customer_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("customers:export")],
    reason: Reason = "",
) -> Response:
    return export_response(factory, settings, visitor.user, customer_id, checked(reason))


@router.post("/customers/{customer_id}/erase")
def erase_page(
    customer_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("customers:erase")],
    reason: Reason = "",
    confirm: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    if confirm != "yes":
        raise Invalid(
            "erasure_not_confirmed",
            "Tick the box to confirm: an erasure cannot be undone.",
            field="confirm",
        )
    blobs = BlobStore(settings.attachments_dir)
    with transaction(factory) as session:
        customer = access_customer_by_id(session, visitor.user, customer_id)
        erasure = erase_customer(
            session, customer, Actor.user(visitor.user.id), checked(reason), blobs
        )
    closed = ",".join(str(i) for i in erasure.closed_conversation_ids)
    return RedirectResponse(f"/inbox?erased={customer_id}&closed={closed}", status_code=303)


def checked(reason: str) -> str:
    """The reason, which the event log keeps: 3 to 500 characters."""
    reason = reason.strip()
    if len(reason) < 3:
        raise Invalid("reason_required", "Say why, in 3 to 500 characters.", field="reason")
    return reason
