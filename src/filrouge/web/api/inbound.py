"""``POST /api/v1/inbound``: the generic channel, and the pipeline's front door over HTTP."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from filrouge.channels.base import IncomingAttachment, NormalisedInbound, Sender
from filrouge.core.actions.inbound import InboundResult, receive_message, receive_messages
from filrouge.core.errors import DomainError, Invalid
from filrouge.core.models import User
from filrouge.i18n import negotiate_locale
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import (
    AttachmentIn,
    ErrorPublic,
    InboundAccepted,
    InboundBatch,
    InboundBatchItem,
    InboundBatchResult,
    InboundCreate,
)

router = APIRouter(tags=["inbound"])


@router.post(
    "/inbound",
    status_code=201,
    response_model=InboundAccepted,
    responses={200: {"model": InboundAccepted, "description": "Already received (duplicate)."}},
)
def post_inbound(
    body: InboundCreate,
    factory: FactoryDep,
    settings: SettingsDep,
    _user: Annotated[User, Allowed("inbound:create")],
) -> JSONResponse:
    return accepted_response(receive_message(factory, normalised(body), settings))


def accepted_response(result: InboundResult) -> JSONResponse:
    """201 with where the message went; 200 when it had been received already."""
    accepted = InboundAccepted(
        message_id=result.message_id,
        conversation_id=result.conversation_id,
        customer_id=result.customer_id,
        duplicate=result.duplicate,
    )
    return JSONResponse(accepted.model_dump(), status_code=200 if result.duplicate else 201)


@router.post("/inbound:batch", response_model=InboundBatchResult)
def post_inbound_batch(
    body: InboundBatch,
    request: Request,
    factory: FactoryDep,
    settings: SettingsDep,
    _user: Annotated[User, Allowed("inbound:create")],
) -> InboundBatchResult:
    """Up to 500 messages in one call, committed together; each item answers for itself."""
    batch, refused = [], {}
    for index, item in enumerate(body.items):
        try:
            batch.append(normalised(item))
        except DomainError as refusal:
            refused[index] = refusal
    results = iter(receive_messages(factory, batch, settings))
    locale = negotiate_locale(request.headers.get("accept-language"))
    return InboundBatchResult(
        items=[
            _batch_item(refused[i] if i in refused else next(results), locale)
            for i in range(len(body.items))
        ]
    )


def _batch_item(result: InboundResult | DomainError, locale: str) -> InboundBatchItem:
    if isinstance(result, DomainError):
        message = result.message_in(locale)
        return InboundBatchItem(
            error=ErrorPublic(code=result.code, message=message, field=result.field)
        )
    return InboundBatchItem(
        message_id=result.message_id,
        conversation_id=result.conversation_id,
        customer_id=result.customer_id,
        duplicate=result.duplicate,
    )


def normalised(body: InboundCreate) -> NormalisedInbound:
    replies = body.in_reply_to if isinstance(body.in_reply_to, list) else [body.in_reply_to]
    return NormalisedInbound(
        channel_id=body.channel_id,
        provider_message_id=body.provider_message_id,
        sender=Sender(
            kind=body.sender.kind,
            value=body.sender.value,
            name=body.sender.name,
            verified=body.sender.verified,
        ),
        text=body.text,
        html=body.html,
        attachments=tuple(_attachment(i, a) for i, a in enumerate(body.attachments)),
        thread_key=body.thread_key,
        in_reply_to=tuple(r for r in replies if r),
        visibility=body.visibility,
        occurred_at=body.occurred_at,
        subject=body.subject,
    )


def _attachment(index: int, item: AttachmentIn) -> IncomingAttachment:
    if item.content_base64 is None and not item.url:
        raise Invalid(
            "attachment_empty",
            "An attachment has neither content nor url.",
            field=f"attachments.{index}",
        )
    if item.url and not item.url.lower().startswith(("https://", "http://")):
        raise Invalid(
            "invalid_url", "{field} must be an http(s) URL.", field=f"attachments.{index}.url"
        )
    content = None
    if item.content_base64 is not None:
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid(
                "invalid_base64",
                "{field} is not valid base64.",
                field=f"attachments.{index}.content_base64",
            ) from exc
    return IncomingAttachment(
        filename=item.filename, content_type=item.content_type, content=content, url=item.url
    )
