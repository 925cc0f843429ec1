"""Rendering pages: one Jinja2 environment, autoescaped, with the catalogue and the agent's
language and time zone at hand."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from filrouge.core.actions.orders import from_minor_units
from filrouge.core.models import User
from filrouge.core.sla import TARGET_LABELS as SLA_TARGET_LABELS
from filrouge.i18n import N_, negotiate_locale, translate
from filrouge.lib.timeutil import utcnow
from filrouge.web.ui.triage import TRIAGE_LABELS

# Words the templates translate from data (statuses, priorities, roles, delivery states).
VOCABULARY = (
    N_("new"),
    N_("open"),
    N_("pending"),
    N_("resolved"),
    N_("closed"),
    N_("low"),
    N_("normal"),
    N_("high"),
    N_("urgent"),
    N_("admin"),
    N_("supervisor"),
    N_("agent"),
    N_("contributor"),
    N_("received"),
    N_("awaiting_approval"),
    N_("rejected"),
    N_("queued"),
    N_("sent"),
    N_("delivered"),
    N_("read"),
    N_("failed"),
)
KIND_LABELS = {
    "email": N_("Email"),
    "web_form": N_("Web form"),
    "chat": N_("Live chat"),
    "messenger": N_("Messenger"),
    "facebook_comments": N_("Facebook page comments"),
    "instagram": N_("Instagram"),
    "whatsapp": N_("WhatsApp"),
    "x": N_("X (Twitter)"),
    "telegram": N_("Telegram"),
    "sms": N_("SMS"),
    "callback": N_("Callback"),
    "phone": N_("Phone"),
    "in_person": N_("In store"),
    "postal": N_("Letter"),
    "api": N_("API"),
}
SIGNATURE_LABELS = {
    "full": N_("Full signature"),
    "first_name": N_("First name"),
    "none": N_("Not signed"),
}
FLAG_LABELS = {
    "auto_reply": N_("automatic reply"),
    "bounce": N_("delivery failure"),
    "bulk": N_("bulk mail"),
    "unreadable": N_("could not be read"),
    "system": N_("notice from the network"),
}
PRESENCE_LABELS = {
    "online": N_("Online"),
    "away": N_("Away"),
    "offline": N_("Offline"),
    "inactive": N_("Deactivated"),
}
OUTCOME_LABELS = {
    "answered": N_("answered"),
    "follow_up": N_("to follow up"),
    "escalated": N_("escalated"),
    "no_answer": N_("no answer"),
    "information": N_("information given"),
}
ORDER_STATUS_LABELS = {
    "placed": N_("order placed"),
    "paid": N_("order paid"),
    "shipped": N_("order shipped"),
    "delivered": N_("order delivered"),
    "cancelled": N_("order cancelled"),
    "returned": N_("order returned"),
    "refunded": N_("order refunded"),
}
ORDER_CHANNEL_LABELS = {
    "web": N_("online"),
    "store": N_("in store"),
    "phone": N_("by phone"),
    "marketplace": N_("on a marketplace"),
    "other": N_("elsewhere"),
}
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Short channel marks, drawn as coloured badges by app.css (no emoji font needed).
CHANNEL_ICONS = {
    "email": "@",
    "web_form": "Form",
    "chat": "Chat",
    "messenger": "Msg",
    "facebook_comments": "FB",
    "instagram": "IG",
    "whatsapp": "WA",
    "x": "X",
    "telegram": "TG",
    "sms": "SMS",
    "callback": "Rappel",
    "phone": "Tél",
    "in_person": "Mag",
    "postal": "Lettre",
    "api": "API",
}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def locale_for(request: Request, user: User | None) -> str:
    if user is not None:
        return user.locale if user.locale in ("fr", "en") else "fr"
    return negotiate_locale(request.headers.get("accept-language"))


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    visitor: Any = None,
    status: int = 200,
    locale: str | None = None,
) -> HTMLResponse:
    """Render a page; ``visitor`` (a signed-in ``ui.auth.Visitor``) brings the user, their
    language and time zone, and the CSRF token that every form of the page carries."""
    user: User | None = None if visitor is None else visitor.user
    if visitor is not None:
        context = {
            "csrf_token": visitor.csrf_token,
            "unread_notifications": visitor.unread_notifications,
            **context,
        }
    locale = locale or locale_for(request, user)
    zone = zone_of(user)

    def gettext(message_id: str, **params: Any) -> str:
        return translate(message_id, locale, **params)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        return format_datetime(moment.astimezone(zone), "short", locale=locale)

    def money(amount_minor: int, currency: str) -> str:
        return format_currency(from_minor_units(amount_minor, currency), currency, locale=locale)

    def day_label(day: date) -> str:
        return format_date(day, "full", locale=locale)

    def since(moment: datetime | None) -> str:
        if moment is None:
            return ""
        return format_timedelta(utcnow() - moment, threshold=1.1, locale=locale)

    page = environment.get_template(template).render(
        _=gettext,
        when=when,
        since=since,
        day_label=day_label,
        money=money,
        locale=locale,
        user=user,
        request=request,
        icons=CHANNEL_ICONS,
        kind_labels=KIND_LABELS,
        signature_labels=SIGNATURE_LABELS,
        flag_labels=FLAG_LABELS,
        outcome_labels=OUTCOME_LABELS,
        presence_labels=PRESENCE_LABELS,
        order_status_labels=ORDER_STATUS_LABELS,
        order_channel_labels=ORDER_CHANNEL_LABELS,
        sla_targets=SLA_TARGET_LABELS,
        triage_labels=TRIAGE_LABELS,
        **context,
    )
    headers = {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(page, status_code=status, headers=headers)


# Scripts and styles only from this site: an injected <script> in a customer message would not
# run even if the escaping failed.
CSP = (
    "default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' https:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


def zone_of(user: User | None) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone if user is not None else "Europe/Paris")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Paris")
