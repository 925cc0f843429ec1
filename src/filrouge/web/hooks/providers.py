"""``/hooks/<kind>/<channel_id>``: where Meta, X, Telegram and Twilio deliver their webhooks.

``GET`` answers the provider's handshake (Meta's ``hub.challenge``, X's CRC). ``POST``:
verify the signature on the raw body (401, nothing stored), check that the body can be read
(400: kept as unreadable all the same), store it raw once, answer, and let the background job
read it. The same delivery twice is stored once and answered ``duplicate``.

Deliveries are taken by the lean route of ``intake.py``, mounted first (``mount_intake``); the
``POST`` route here documents them and answers the paths the lean route leaves (an unknown
kind, an id that is not one: FastAPI's validation error).
"""

from __future__ import annotations

from enum import StrEnum

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from filrouge.channels.registry import RECEIVERS
from filrouge.web.deps import FactoryDep
from filrouge.web.errors import http_error
from filrouge.web.hooks.intake import IntakeRoute, ProviderIntake, answer_response, hook_request
from filrouge.web.hooks.provider_channels import active_channel
from filrouge.web.schemas import ERROR_RESPONSES, IdPath

router = APIRouter(prefix="/hooks", tags=["hooks"], responses=ERROR_RESPONSES)
ProviderKind = StrEnum("ProviderKind", {kind: kind for kind in RECEIVERS})  # type: ignore[misc]


def mount_intake(app: FastAPI) -> None:
    """Put the lean delivery route before every other route of ``app``."""
    intake = ProviderIntake(app.state.session_factory, app.state.settings)
    app.state.provider_intake = intake
    app.router.routes.insert(0, IntakeRoute(intake))


@router.get("/{kind}/{channel_id}", response_class=Response)
def answer_handshake(
    request: Request, kind: ProviderKind, channel_id: IdPath, factory: FactoryDep
) -> Response:
    """The provider checks that this URL is ours (Meta's verify token, X's CRC challenge)."""
    receiver = RECEIVERS[str(kind)]
    settings = dict(active_channel(factory, str(kind), channel_id).settings or {})
    answer = receiver.challenge(settings, hook_request(request.scope, b""))
    if answer is None:
        raise http_error(405, "no_handshake", "This provider sends no handshake.")
    return answer_response(answer)


@router.post("/{kind}/{channel_id}", response_class=Response)
async def receive_delivery(request: Request, kind: ProviderKind, channel_id: IdPath) -> Response:
    """One webhook delivery: signed by the provider with the channel's secret."""
    intake: ProviderIntake = request.app.state.provider_intake
    return await intake.accept(request.scope, request.receive, str(kind), channel_id)
