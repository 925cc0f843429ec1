"""The public "Call me back" page of a callback channel: ``GET/POST /callback/{channel_id}``.

No session, so no CSRF token: a post needs the page's signed timestamp and an empty honeypot
(``channels/callback/form.py``); each address may ask a few times an hour. A browser gets the
page back (with the refusal, what was typed kept); a script that asks for JSON gets
``{"error": {"code", "message", "field"}}`` or 201 with the callback.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from filrouge.channels.callback.form import HONEYPOT_FIELD, make_stamp, stamp_is_good
from filrouge.core.actions.callbacks import (
    ASAP,
    CallbackAccepted,
    CallbackAsk,
    can_call_now,
    config_of,
    local_time,
    offered_slots,
    public_channel,
    request_callback,
)
from filrouge.core.errors import DomainError
from filrouge.core.models import ChannelAccount
from filrouge.db import transaction
from filrouge.i18n import N_
from filrouge.lib.keys import installation_key
from filrouge.lib.timeutil import isoformat, utcnow
from filrouge.settings import Settings
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
FORM_REFUSED = N_("This form could not be accepted. Reload the page and try again.")


class FormRefused(DomainError):
    """A post without this page's signed timestamp, too quick, or with the honeypot filled."""

    status = 400


@router.get("/callback/{channel_id}")
def callback_page(
    request: Request, channel_id: IdPath, factory: FactoryDep, settings: SettingsDep
) -> Response:
    return _page(request, factory, settings, channel_id, {})


@router.post("/callback/{channel_id}")
async def post_callback(
    request: Request,
    channel_id: IdPath,
    factory: FactoryDep,
    settings: SettingsDep,
    phone: Annotated[str, Form(max_length=64)] = "",
    when: Annotated[str, Form(max_length=64)] = ASAP,
    name: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    website: Annotated[str, Form(max_length=500)] = "",
    stamp: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    typed = {"phone": phone, "chosen": when, "name": name, "note": note}
    try:
        _check_form(factory, settings, channel_id, stamp, website)
        ask = CallbackAsk(channel_id, phone, when, name, note, _ip(request))
        accepted = await run_in_threadpool(request_callback, factory, ask, settings)
    except DomainError as refusal:
        return _refused(request, factory, settings, channel_id, refusal, typed)
    if _wants_json(request):
        return JSONResponse(_accepted_json(accepted), status_code=201)
    return _done(request, factory, channel_id, accepted)


def _check_form(
    factory: FactoryDep, settings: Settings, channel_id: int, stamp: str, honeypot: str
) -> None:
    with transaction(factory) as session:
        channel = public_channel(session, channel_id)
        min_age = timedelta(seconds=config_of(channel).min_fill_seconds)
    key = installation_key(settings)
    if honeypot.strip() or not stamp_is_good(stamp, channel_id, key, utcnow(), min_age):
        raise FormRefused("form_refused", FORM_REFUSED)


def _refused(
    request: Request,
    factory: FactoryDep,
    settings: Settings,
    channel_id: int,
    refusal: DomainError,
    typed: dict[str, str],
) -> Response:
    locale = locale_for(request, None)
    body: dict[str, Any] = {"code": refusal.code, "message": refusal.message_in(locale)}
    if refusal.field:
        body["field"] = refusal.field
    if _wants_json(request):
        return JSONResponse({"error": body}, status_code=refusal.status)
    if refusal.code == "unknown_channel":
        raise refusal  # the error page
    return _page(request, factory, settings, channel_id, {**typed, "error": body}, refusal.status)


def _page(
    request: Request,
    factory: FactoryDep,
    settings: Settings,
    channel_id: int,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    locale = locale_for(request, None)
    with transaction(factory) as session:
        channel = public_channel(session, channel_id)
        config = config_of(channel)
        slots = offered_slots(session, channel)
        now_open = can_call_now(session, channel)
        stamp = make_stamp(channel.id, installation_key(settings), utcnow())
    days = [
        (local_time(config, group[0].start, locale).rsplit(",", 1)[0], group)
        for _, grouped in groupby(slots, key=lambda s: s.start.astimezone(config.zone).date())
        for group in [list(grouped)]
    ]
    page = {
        "channel": channel,
        "days": days,
        "zone": config.zone,
        "now_open": now_open,
        "stamp": stamp,
        "honeypot": HONEYPOT_FIELD,
        "chosen": ASAP if now_open else "",
        **context,
    }
    return render(request, "callback_form.html", page, status=status)


def _done(
    request: Request, factory: FactoryDep, channel_id: int, accepted: CallbackAccepted
) -> Response:
    with transaction(factory) as session:
        channel: ChannelAccount = public_channel(session, channel_id)
        config = config_of(channel)
    when = local_time(config, accepted.due_at, locale_for(request, None))
    context = {"channel": channel, "due": when, "asap": accepted.asap}
    return render(request, "callback_done.html", context)


def _accepted_json(accepted: CallbackAccepted) -> dict[str, Any]:
    return {
        "callback_id": accepted.callback_id,
        "conversation_id": accepted.conversation_id,
        "due_at": isoformat(accepted.due_at),
        "asap": accepted.asap,
    }


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None
