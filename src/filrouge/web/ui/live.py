"""``GET /events``: the Server-Sent Events stream that keeps open pages up to date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from filrouge.web.realtime import Broker
from filrouge.web.ui.auth import PageAllowed, Visitor

router = APIRouter(include_in_schema=False)


@router.get("/events")
async def event_stream(
    request: Request, _visitor: Annotated[Visitor, PageAllowed("inbox:view")]
) -> StreamingResponse:
    broker: Broker = request.app.state.broker

    async def frames() -> AsyncIterator[str]:
        async for frame in broker.stream():
            if await request.is_disconnected():
                break
            yield frame

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)
