"""``GET /api/v1/attachments/{id}``: a file, for those who may see its conversation."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from filrouge.core.access import access_attachment_by_id
from filrouge.core.blobs import BlobStore
from filrouge.core.models import Attachment, User
from filrouge.core.uploads import ACTIVE_TYPES, GENERIC_TYPE, inline_type, normalise_type
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
    """The file itself, served so that a browser can never run it as a page: only known image
    and video types are shown inline, a type that could run (HTML, SVG…) or is malformed is
    served as bytes to download, never sniffed, and sandboxed even so."""
    if attachment.sha256 is None:
        return RedirectResponse(attachment.url or "", status_code=307)
    content = blobs.get(attachment.sha256)
    media_type = normalise_type(attachment.content_type)
    if media_type is None or media_type in ACTIVE_TYPES:
        media_type = GENERIC_TYPE
    disposition = "inline" if inline_type(media_type) else "attachment"
    filename = quote(attachment.filename, safe="")
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
