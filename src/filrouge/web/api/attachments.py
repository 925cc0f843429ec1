"""``GET /api/v1/attachments/{id}``: a file, for those who may see its conversation."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from filrouge.core.access import access_attachment_by_id
from filrouge.core.blobs import BlobStore
from filrouge.core.models import Attachment, User
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import IdPath

router = APIRouter(prefix="/attachments", tags=["attachments"])


@router.get(
    "/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_attachment(
    attachment_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("attachments:read")],
) -> Response:
    with transaction(factory) as session:
        attachment = access_attachment_by_id(session, user, attachment_id)
    return attachment_response(attachment, BlobStore(settings.attachments_dir))


def attachment_response(attachment: Attachment, blobs: BlobStore) -> Response:
    """The file itself, served so that a browser can never run it as a page."""
    if attachment.sha256 is None:
        return RedirectResponse(attachment.url or "", status_code=307)
    content = blobs.get(attachment.sha256)
    disposition = (
        "inline" if attachment.content_type.startswith(("image/", "video/")) else ("attachment")
    )
    filename = quote(attachment.filename, safe="")
    return Response(
        content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
