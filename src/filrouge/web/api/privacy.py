"""``/api/v1/customers/{id}/export`` and ``/erase``: the GDPR rights of one customer, each
recorded in the event log with who asked and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from filrouge.core.access import access_customer_by_id
from filrouge.core.actions.erasure import erase_customer
from filrouge.core.audit import Actor
from filrouge.core.blobs import BlobStore
from filrouge.core.models import User
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import ErasurePublic, IdPath, PrivacyRequest

router = APIRouter(prefix="/customers", tags=["customers"])


@router.post("/{customer_id}/erase", response_model=ErasurePublic)
def post_erase(
    customer_id: IdPath,
    body: PrivacyRequest,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("customers:erase")],
) -> ErasurePublic:
    """Erase a customer and every customer merged into it; cannot be undone. Conversations
    still open are closed and listed in ``closed_conversation_ids``. A customer already erased
    is 409 ``customer_already_erased``; one merged into another is 409 ``customer_merged``."""
    blobs = BlobStore(settings.attachments_dir)
    with transaction(factory) as session:
        customer = access_customer_by_id(session, user, customer_id)
        erasure = erase_customer(session, customer, Actor.user(user.id), body.reason, blobs)
    return ErasurePublic(**erasure.counts())
