"""Refusing request bodies over the limit, whether they announce their length or stream it."""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from filrouge.i18n import N_, negotiate_locale, translate

MESSAGE_ID = N_("The request is larger than {limit} bytes.")
log = logging.getLogger("filrouge.rejections")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit (answered as a 413)."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimit:
    """ASGI middleware: 413 with the usual error shape, before the app reads too much."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0").decode("latin-1")
        if not length.isdigit() or int(length) > self.limit:
            await self._refuse(scope, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._counting(receive), tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge
            return message

        return counted

    async def _refuse(self, scope: Scope, send: Send) -> None:
        log.info(
            "rejected %s %s -> 413 request_too_large: over %d bytes",
            scope.get("method"),
            scope.get("path"),
            self.limit,
        )
        accept = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
        message = translate(MESSAGE_ID, negotiate_locale(accept), limit=self.limit)
        body = json.dumps({"error": {"code": "request_too_large", "message": message}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
