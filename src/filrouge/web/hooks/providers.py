"""``/hooks/<kind>/<channel_id>``: where Meta, X, Telegram and Twilio deliver their webhooks.

``GET`` answers the provider's handshake (Meta's ``hub.challenge``, X's CRC). ``POST``:
verify the signature on the raw body (401, nothing stored), check that the body can be read
(400: kept as unreadable all the same), store it raw once, answer, and let the background job
read it. The same delivery twice is stored once and answered ``duplicate``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
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
from filrouge.core.actions.webhook_writer import DeliveryWriter
from filrouge.core.actions.webhooks import UNREADABLE, store_delivery
from filrouge.core.events import DomainEvent, subscribe
from filrouge.core.models import ChannelAccount
from filrouge.jobs.webhooks import schedule_processing
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.errors import http_error
from filrouge.web.schemas import ERROR_RESPONSES, IdPath

log = logging.getLogger(__name__)
router = APIRouter(prefix="/hooks", tags=["hooks"], responses=ERROR_RESPONSES)
ProviderKind = StrEnum("ProviderKind", {kind: kind for kind in RECEIVERS})  # type: ignore[misc]
CHANNEL_TTL = 2.0  # seconds a channel's settings are kept for its hooks
_CACHES: list[dict[int, Any]] = []


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
    request: Request,
    kind: ProviderKind,
    channel_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
) -> Response:
    """One webhook delivery: signed by the provider with the channel's secret."""
    receiver = RECEIVERS[str(kind)]
    body = await request.body()
    if len(body) > settings.max_webhook_bytes:
        log.warning("refused a %d-byte %s delivery on channel %s", len(body), kind, channel_id)
        raise http_error(
            413,
            "payload_too_large",
            "A delivery is at most {limit} bytes.",
            limit=settings.max_webhook_bytes,
        )
    hook = _hook_request(request, body)
    known = await _known_channel(request, factory, receiver, channel_id)
    _verify(receiver, known, hook)
    try:
        receiver.check(hook)
    except PayloadError as exc:
        kept = await run_in_threadpool(
            store_delivery, factory, channel_id, receiver.kind, hook, UNREADABLE, str(exc)
        )
        log.warning("kept unreadable %s delivery %s: %s", receiver.kind, kept.id, exc)
        raise http_error(
            400, "invalid_payload", "The body cannot be read: {reason}", reason=str(exc)
        ) from exc
    channels = [(channel_id, receiver.kind), *known.siblings]
    stored = await asyncio.wrap_future(_writer(request, factory).submit(channels, hook))
    answer = receiver.accepted()
    if answer is not None:
        return _response(answer)
    return JSONResponse({"received": True, "delivery_id": stored.id, "duplicate": stored.duplicate})


@dataclass(frozen=True)
class KnownChannel:
    id: int
    kind: str
    settings: dict[str, Any]
    # Other channels of the same provider app, which get a copy (see WebhookReceiver).
    siblings: tuple[tuple[int, str], ...]


def _verify(receiver: WebhookReceiver, channel: KnownChannel, hook: HookRequest) -> None:
    try:
        receiver.verify(channel.settings, hook)
    except SignatureError as exc:
        log.warning("refused a %s delivery on channel %s: %s", receiver.kind, channel.id, exc)
        raise http_error(
            401, "invalid_signature", "The delivery is not signed with this channel's secret."
        ) from exc


async def _known_channel(
    request: Request, factory: sessionmaker[Session], receiver: WebhookReceiver, channel_id: int
) -> KnownChannel:
    """The channel as the hooks need it, kept ``CHANNEL_TTL`` seconds so that a burst reads
    it once; a change saved in this process is seen at once (``forget_channels``)."""
    cache: dict[int, tuple[float, KnownChannel]] = _state(request, "hook_channels", dict)
    cached = cache.get(channel_id)
    if cached is not None and cached[0] > time.monotonic() and cached[1].kind == receiver.kind:
        return cached[1]
    known = await run_in_threadpool(_load_channel, factory, receiver, channel_id)
    cache[channel_id] = (time.monotonic() + CHANNEL_TTL, known)
    return known


def forget_channels(event: DomainEvent) -> None:
    """A channel changed: the hooks read channels again (every app of this process)."""
    for cache in _CACHES:
        cache.clear()


def _load_channel(
    factory: sessionmaker[Session], receiver: WebhookReceiver, channel_id: int
) -> KnownChannel:
    channel = _channel(factory, receiver.kind, channel_id)
    siblings = tuple((c.id, c.kind) for c in _siblings(factory, receiver, channel))
    return KnownChannel(channel.id, channel.kind, dict(channel.settings or {}), siblings)


def _writer(request: Request, factory: sessionmaker[Session]) -> DeliveryWriter:
    return _state(request, "delivery_writer", lambda: DeliveryWriter(factory, schedule_processing))


def _state(request: Request, name: str, make: Callable[[], Any]) -> Any:
    state = request.app.state
    if not hasattr(state, name):
        value = make()
        if isinstance(value, dict):
            _CACHES.append(value)
        setattr(state, name, value)
    return getattr(state, name)


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


subscribe("channel.updated", forget_channels)
