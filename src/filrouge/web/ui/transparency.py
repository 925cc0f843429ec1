"""The public transparency page (opt-in per workspace, no sign-in): ``GET /transparency/{token}``
(``?lang=fr|en``, ``?embed=1`` for a frame on another site) and the same figures as JSON at
``GET /api/v1/public/transparency/{token}``.

An address that is unknown, or whose page is turned off, gets exactly the answer of an address
that never existed. Only the embeddable variant may be framed (``frame-ancestors *``); every
other page keeps ``DENY``. Answers carry ``Cache-Control: public`` and an ``ETag``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any

from babel.dates import format_date
from babel.numbers import format_percent
from babel.units import format_unit
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from filrouge.core.transparency import (
    ChannelFigures,
    ClosedMonths,
    MonthFigures,
    TransparencyReport,
    published_workspace,
    transparency_report,
)
from filrouge.db import transaction
from filrouge.i18n import N_, negotiate_locale, translate
from filrouge.lib.timeutil import utcnow
from filrouge.web.deps import FactoryDep
from filrouge.web.ui.templating import KIND_LABELS, render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/public/transparency", tags=["transparency"])
Lang = Annotated[str | None, Query(pattern="^(fr|en)$")]
CACHE_CONTROL = "public, max-age=300"
TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

PROMISE = N_(
    "We promise an answer on {channel} within {delay} ({clock}): promise kept for {share} of "
    "conversations in {month}."
)
PROMISE_NO_DATA = N_("We promise an answer on {channel} within {delay} ({clock}).")
NO_PROMISE = N_("No response time is promised on {channel}.")
BUSINESS_HOURS = N_("counted in business hours")
ROUND_THE_CLOCK = N_("counted round the clock")
NO_DATA = N_("No data")
SO_FAR = N_("{month} (so far)")


@router.get("/transparency/{token}")
def transparency_page(
    request: Request,
    token: str,
    factory: FactoryDep,
    lang: Lang = None,
    embed: Annotated[bool, Query()] = False,
) -> Response:
    report = _report(request, factory, token)
    locale = lang or negotiate_locale(request.headers.get("accept-language"))
    context = {"report": report, "embed": embed, "rows": _rows(report, locale), "token": token}
    page = render(request, "transparency.html", context, locale=locale)
    if embed:  # this page only may sit in another site's frame
        policy = page.headers["Content-Security-Policy"]
        page.headers["Content-Security-Policy"] = policy.replace(
            "frame-ancestors 'none'", "frame-ancestors *"
        )
        del page.headers["X-Frame-Options"]
    return _cacheable(request, page)


@api_router.get("/{token}")
def transparency_json(
    request: Request, token: str, factory: FactoryDep, lang: Lang = None
) -> Response:
    """Per channel kind: the promise (first-response target, business or calendar hours) and,
    per month (most recent first), conversations handled and answered within the promise."""
    report = _report(request, factory, token)
    locale = lang or negotiate_locale(request.headers.get("accept-language"))
    return _cacheable(request, JSONResponse(report_json(report, locale)))


def _report(request: Request, factory: Any, token: str) -> TransparencyReport:
    if not 16 <= len(token) <= 64 or not set(token) <= TOKEN_CHARACTERS:
        raise HTTPException(404)
    cache: ClosedMonths = request.app.state.transparency_months
    with transaction(factory) as session:
        workspace = published_workspace(session, token)
        if workspace is None:
            raise HTTPException(404)  # the same answer as an address that never existed
        return transparency_report(session, workspace, utcnow(), cache)


def _cacheable(request: Request, response: Response) -> Response:
    tag = '"' + hashlib.sha256(bytes(response.body)).hexdigest()[:32] + '"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": tag, "Vary": "Accept-Language"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


def report_json(report: TransparencyReport, locale: str) -> dict[str, Any]:
    return {
        "workspace": report.workspace_name,
        "timezone": report.timezone,
        "channels": [
            {
                "kind": channel.kind,
                "label": translate(KIND_LABELS.get(channel.kind, channel.kind), locale),
                "promise": None
                if channel.promise is None
                else {
                    "first_response_seconds": channel.promise.seconds,
                    "business_hours": channel.promise.business_hours,
                },
                "sentence": headline(channel, locale),
                "months": [
                    {
                        "month": month.month.strftime("%Y-%m"),
                        "closed": month.closed,
                        "conversations": month.conversations,
                        "answered_within_promise": month.kept,
                        "share": month.share,
                    }
                    for month in channel.months
                ],
            }
            for channel in report.channels
        ],
    }


def headline(channel: ChannelFigures, locale: str) -> str:
    """« Nous promettons une réponse sur X en 30 minutes (…) : promesse tenue pour 94 % des
    conversations en octobre 2026. »"""
    name = translate(KIND_LABELS.get(channel.kind, channel.kind), locale)
    if channel.promise is None:
        return translate(NO_PROMISE, locale, channel=name)
    clock = translate(BUSINESS_HOURS if channel.promise.business_hours else ROUND_THE_CLOCK, locale)
    delay = duration(channel.promise.seconds, locale)
    latest = channel.latest
    if latest is None or latest.share is None:
        return translate(PROMISE_NO_DATA, locale, channel=name, delay=delay, clock=clock)
    return translate(
        PROMISE,
        locale,
        channel=name,
        delay=delay,
        clock=clock,
        share=format_percent(latest.share, locale=locale),
        month=month_name(latest, locale),
    )


def duration(seconds: int, locale: str) -> str:
    """30 minutes, 1 hour, 24 hours; days are never used (a business day is not 24 hours)."""
    if seconds % 3600 == 0:
        return format_unit(seconds // 3600, "duration-hour", length="long", locale=locale)
    minutes = round(timedelta(seconds=seconds).total_seconds() / 60)
    return format_unit(minutes, "duration-minute", length="long", locale=locale)


def month_name(month: MonthFigures, locale: str) -> str:
    return format_date(month.month, "LLLL yyyy", locale=locale)


def _rows(report: TransparencyReport, locale: str) -> list[dict[str, Any]]:
    """What the page shows per channel: its sentence and a line per month."""
    return [
        {
            "kind": channel.kind,
            "label": translate(KIND_LABELS.get(channel.kind, channel.kind), locale),
            "headline": headline(channel, locale),
            "months": [
                {
                    "label": month_name(month, locale)
                    if month.closed
                    else translate(SO_FAR, locale, month=month_name(month, locale)),
                    "conversations": month.conversations,
                    "share": translate(NO_DATA, locale)
                    if month.share is None
                    else format_percent(month.share, locale=locale),
                }
                for month in channel.months
            ],
        }
        for channel in report.channels
    ]
