"""``POST /hooks/<kind>/<channel_id>`` on a lean path: the deliveries Meta, X, Telegram and
Twilio send in bursts.

The route is mounted before every other one and is a plain ASGI endpoint: no dependency
injection, no validation models, no thread-pool hop per request, which is most of what a
delivery cost in FastAPI. It does what the documented route in ``providers.py`` says, in this
order: refuse a body over ``FILROUGE_MAX_WEBHOOK_BYTES`` (413, before anything is stored),
find the channel (404), verify the signature on the raw body (401, nothing stored), check the
body can be read (400, kept as ``unreadable``), store it through the writer and answer once it
is committed. Refusals are raised as ``ApiError``: the app's handler translates and logs them
like any other. A path this route does not take (an unknown kind, an id that is not one) goes
on to the documented route, which answers as FastAPI does.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL, Headers, QueryParams
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

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
from filrouge.jobs.webhooks import schedule_processing
from filrouge.settings import Settings
from filrouge.web.errors import http_error
from filrouge.web.hooks.provider_channels import ChannelCache, KnownChannel
from filrouge.web.schemas import MAX_ID

log = logging.getLogger("filrouge.web.hooks.providers")
PATH = "/hooks/{kind}/{channel_id:int}"


class ProviderIntake:
    """Accepts the deliveries of one app (its channels, its writer thread)."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.limit = settings.max_webhook_bytes
        self.channels = ChannelCache(factory)
        self.writer = DeliveryWriter(factory, schedule_processing)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = scope["path_params"]
        response = await self.accept(scope, receive, params["kind"], params["channel_id"])
        await response(scope, receive, send)

    async def accept(self, scope: Scope, receive: Receive, kind: str, channel_id: int) -> Response:
        """One delivery, signed by the provider with the channel's secret."""
        receiver = RECEIVERS[kind]
        body = await self._body(scope, receive, kind, channel_id)
        hook = hook_request(scope, body)
        known = await self.channels.known(receiver, channel_id)
        _verify(receiver, known, hook)
        try:
            receiver.check(hook)
        except PayloadError as exc:
            await self._keep_unreadable(receiver, channel_id, hook, exc)
            raise http_error(
                400, "invalid_payload", "The body cannot be read: {reason}", reason=str(exc)
            ) from exc
        channels = [(channel_id, receiver.kind), *known.siblings]
        stored = await self.writer.store(channels, hook)
        answer = receiver.accepted()
        if answer is not None:
            return answer_response(answer)
        content = {"received": True, "delivery_id": stored.id, "duplicate": stored.duplicate}
        return JSONResponse(content)

    async def _body(self, scope: Scope, receive: Receive, kind: str, channel_id: int) -> bytes:
        """The raw body, refused (413) as soon as it is known to be over the limit."""
        size = _announced_length(scope)
        if size <= self.limit:
            body = await read_body(receive, self.limit)
            if body is not None:
                return body
            size = self.limit + 1
        log.warning("refused a %d-byte %s delivery on channel %s", size, kind, channel_id)
        raise http_error(
            413, "payload_too_large", "A delivery is at most {limit} bytes.", limit=self.limit
        )

    async def _keep_unreadable(
        self, receiver: WebhookReceiver, channel_id: int, hook: HookRequest, exc: PayloadError
    ) -> None:
        kept = await run_in_threadpool(
            store_delivery, self.factory, channel_id, receiver.kind, hook, UNREADABLE, str(exc)
        )
        log.warning("kept unreadable %s delivery %s: %s", receiver.kind, kept.id, exc)


class IntakeRoute(Route):
    """Takes ``POST /hooks/<kind>/<id>`` for a provider kind and a possible id, nothing else."""

    def __init__(self, intake: ProviderIntake) -> None:
        super().__init__(PATH, intake, methods=["POST"], include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != "POST":
            return Match.NONE, {}
        match, child = super().matches(scope)
        if match is not Match.FULL or not _takes(child["path_params"]):
            return Match.NONE, {}
        return match, child


def _takes(params: dict[str, Any]) -> bool:
    return params["kind"] in RECEIVERS and 1 <= params["channel_id"] <= MAX_ID


def _verify(receiver: WebhookReceiver, channel: KnownChannel, hook: HookRequest) -> None:
    try:
        receiver.verify(channel.settings, hook)
    except SignatureError as exc:
        log.warning("refused a %s delivery on channel %s: %s", receiver.kind, channel.id, exc)
        raise http_error(
            401, "invalid_signature", "The delivery is not signed with this channel's secret."
        ) from exc


def _announced_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return 0


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def hook_request(scope: Scope, body: bytes) -> HookRequest:
    """What a receiver looks at: the URL as the provider called it (Twilio signs it),
    lower-case headers, the raw body."""
    headers = Headers(scope=scope)
    return HookRequest(
        url=str(URL(scope=scope)),
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
        content_type=headers.get("content-type", ""),
        query=dict(QueryParams(scope["query_string"])),
    )


def answer_response(answer: HookAnswer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)
