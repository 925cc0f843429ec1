"""``POST /hooks/email/{channel_id}``: a relay (Postfix, Mailgun, SendGrid…) hands over one mail.

The body is the raw message (``Content-Type: message/rfc822``). The answer says where it went;
a mail delivered twice is stored once (200 with ``duplicate: true``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from filrouge.channels.email.inbound import check_mail_size, normalised_mail
from filrouge.core.actions.inbound import receive_message
from filrouge.core.models import ChannelAccount
from filrouge.core.models.enums import ChannelKind
from filrouge.web.api.inbound import accepted_response
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.errors import http_error
from filrouge.web.hooks.auth import ChannelCaller
from filrouge.web.schemas import ERROR_RESPONSES, IdPath, InboundAccepted

router = APIRouter(prefix="/hooks", tags=["hooks"], responses=ERROR_RESPONSES)
MAIL_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")
RAW_MAIL_BODY = {
    "requestBody": {
        "required": True,
        "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/email/{channel_id}",
    status_code=201,
    response_model=InboundAccepted,
    responses={200: {"model": InboundAccepted, "description": "Already received (duplicate)."}},
    openapi_extra=RAW_MAIL_BODY,
)
async def post_email(
    request: Request,
    channel_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    channel: Annotated[ChannelAccount, ChannelCaller("inbound:create")],
) -> JSONResponse:
    """Store one raw mail on an email channel (authenticated by the channel's inbound token,
    as ``X-Filrouge-Token`` or ``?token=``, or by an API token)."""
    if channel.kind != ChannelKind.EMAIL:
        raise http_error(
            422, "not_an_email_channel", "Channel {id} is not an email channel.", id=channel_id
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in MAIL_TYPES:
        raise http_error(415, "unsupported_media_type", "Send the raw mail as message/rfc822.")
    raw = await request.body()
    if not raw.strip():
        raise http_error(422, "empty_mail", "The body is empty: send the raw mail.")
    check_mail_size(len(raw), settings)  # before parsing what could never be stored
    mail = normalised_mail(channel.id, raw, settings)
    return accepted_response(await run_in_threadpool(receive_message, factory, mail, settings))
