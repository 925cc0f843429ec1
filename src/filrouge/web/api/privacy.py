"""``/api/v1/customers/{id}/export`` and ``/erase``: the GDPR rights of one customer, each
recorded in the event log with who asked and why."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask

from filrouge.core.access import access_customer_by_id
from filrouge.core.actions.erasure import erase_customer
from filrouge.core.audit import Actor
from filrouge.core.blobs import BlobStore
from filrouge.core.export import export_customer
from filrouge.core.models import User
from filrouge.db import transaction
from filrouge.settings import Settings
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


@router.post(
    "/{customer_id}/export",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The archive."}},
)
def post_export(
    customer_id: IdPath,
    body: PrivacyRequest,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("customers:export")],
) -> FileResponse:
    """Everything held on a customer (and the customers merged into it): ``customer.json`` and
    ``attachments/<id>-<name>`` in a zip. Recorded as ``customer.exported`` with the reason."""
    return export_response(factory, settings, user, customer_id, body.reason)


def export_response(
    factory: sessionmaker[Session], settings: Settings, user: User, customer_id: int, reason: str
) -> FileResponse:
    """The zip, written to a temporary file that is removed once sent."""
    blobs = BlobStore(settings.attachments_dir)
    handle = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)  # noqa: SIM115
    try:
        with handle, transaction(factory) as session:
            customer = access_customer_by_id(session, user, customer_id)
            export_customer(session, customer, Actor.user(user.id), reason, blobs, handle)
    except BaseException:
        os.unlink(handle.name)
        raise
    return FileResponse(
        handle.name,
        media_type="application/zip",
        filename=f"client-{customer_id}.zip",
        background=BackgroundTask(os.unlink, handle.name),
    )
