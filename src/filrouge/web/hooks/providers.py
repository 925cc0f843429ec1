"""``/hooks/<kind>/<channel_id>``: where Meta, X, Telegram and Twilio deliver their webhooks.

``GET`` answers the provider's handshake (Meta's ``hub.challenge``, X's CRC). ``POST``:
verify the signature on the raw body (401, nothing stored), check that the body can be read
(400: kept as unreadable all the same), store it raw once, answer, and let the background job
read it. The same delivery twice is stored once and answered ``duplicate``.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.registry import RECEIVERS
from filrouge.channels.webhooks import (
    HookAnswer,
    HookRequest,
    PayloadError,
    SignatureError,
    WebhookReceiver,
)
from filrouge.core.actions.webhooks import UNREADABLE, StoredDelivery, store_delivery
from filrouge.core.models import ChannelAccount
from filrouge.jobs.webhooks import schedule_processing
from filrouge.web.deps import FactoryDep
from filrouge.web.errors import http_error
from filrouge.web.schemas import ERROR_RESPONSES, IdPath

log = logging.getLogger(__name__)
router = APIRouter(prefix="/hooks", tags=["hooks"], responses=ERROR_RESPONSES)
ProviderKind = StrEnum("ProviderKind", {kind: kind for kind in RECEIVERS})  # type: ignore[misc]


@router.get("/{kind}/{channel_id}", response_class=Response)
def answer_handshake(
    request: Request, kind: ProviderKind, channel_id: IdPath, factory: FactoryDep
) -> Response:
    """The provider checks that this URL is ours (Meta's verify token, X's CRC challenge)."""
    receiver = RECEIVERS[str(kind)]
    settings = _channel_settings(factory, str(kind), channel_id)
    answer = receiver.challenge(settings, _hook_request(request, b""))
    if answer is None:
        raise http_error(405, "no_handshake", "This provider sends no handshake.")
    return _response(answer)


@router.post("/{kind}/{channel_id}", response_class=Response)
async def receive_delivery(
    request: Request, kind: ProviderKind, channel_id: IdPath, factory: FactoryDep
) -> Response:
    """One webhook delivery: signed by the provider with the channel's secret."""
    receiver = RECEIVERS[str(kind)]
    hook = _hook_request(request, await request.body())
    stored = await run_in_threadpool(_verify_and_store, factory, receiver, channel_id, hook)
    await run_in_threadpool(schedule_processing)
    answer = receiver.accepted()
    if answer is not None:
        return _response(answer)
    return JSONResponse({"received": True, "delivery_id": stored.id, "duplicate": stored.duplicate})


def _verify_and_store(
    factory: sessionmaker[Session], receiver: WebhookReceiver, channel_id: int, hook: HookRequest
) -> StoredDelivery:
    channel = _channel(factory, receiver.kind, channel_id)
    settings = dict(channel.settings or {})
    try:
        receiver.verify(settings, hook)
    except SignatureError as exc:
        log.warning("refused a %s delivery on channel %s: %s", receiver.kind, channel_id, exc)
        raise http_error(
            401, "invalid_signature", "The delivery is not signed with this channel's secret."
        ) from exc
    try:
        receiver.check(hook)
    except PayloadError as exc:
        kept = store_delivery(factory, channel_id, receiver.kind, hook, UNREADABLE, str(exc))
        log.warning("kept unreadable %s delivery %s: %s", receiver.kind, kept.id, exc)
        raise http_error(
            400, "invalid_payload", "The body cannot be read: {reason}", reason=str(exc)
        ) from exc
    stored = store_delivery(factory, channel_id, receiver.kind, hook)
    for sibling in _siblings(factory, receiver, channel):
        store_delivery(factory, sibling.id, sibling.kind, hook)
    return stored


def _siblings(
    factory: sessionmaker[Session], receiver: WebhookReceiver, channel: ChannelAccount
) -> list[ChannelAccount]:
    """The other channels of the same provider app (same family, same app secret): Meta sends
    all of an app's events to one URL, and each channel keeps what is its own."""
    if receiver.app_family is None:
        return []
    kinds = [k for k, r in RECEIVERS.items() if r.app_family == receiver.app_family]
    secret = (channel.settings or {}).get("app_secret")
    with factory() as session:
        others = session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.workspace_id == channel.workspace_id,
                ChannelAccount.kind.in_(kinds),
                ChannelAccount.active,
                ChannelAccount.id != channel.id,
            )
        )
        return [c for c in others if secret and (c.settings or {}).get("app_secret") == secret]


def _channel_settings(factory: sessionmaker[Session], kind: str, channel_id: int) -> dict[str, Any]:
    return dict(_channel(factory, kind, channel_id).settings or {})


def _channel(factory: sessionmaker[Session], kind: str, channel_id: int) -> ChannelAccount:
    with factory() as session:
        channel = session.get(ChannelAccount, channel_id)
    if channel is None or channel.kind != kind or not channel.active:
        raise http_error(
            404, "unknown_channel", "There is no channel {channel_id}.", channel_id=channel_id
        )
    return channel


def _hook_request(request: Request, body: bytes) -> HookRequest:
    return HookRequest(
        url=str(request.url),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        content_type=request.headers.get("content-type", ""),
        query=dict(request.query_params),
    )


def _response(answer: HookAnswer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)
