"""Signing in and out, and changing one's password."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from filrouge.core.actions.invitations import accept_invitation, invitation_for_token
from filrouge.core.actions.sessions import (
    BadCredentials,
    change_password,
    record_failed_sign_in,
    sign_in,
    sign_out,
    update_preferences,
)
from filrouge.core.errors import DomainError
from filrouge.core.models import User, WebSession
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.ui.auth import COOKIE, PageAllowed, Visitor
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
InviteToken = Annotated[str, Path(max_length=100)]
COMMON_ZONES = (
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Zurich",
    "Europe/London",
    "America/Montreal",
    "Indian/Reunion",
    "America/Martinique",
    "America/Guadeloupe",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Africa/Casablanca",
    "Africa/Dakar",
    "UTC",
)


@router.get("/login")
def login_page(request: Request, next: str = "/inbox", email: str = "") -> Response:
    context = {"next": _safe_next(next), "error": None, "email": email[:320]}
    return render(request, "login.html", context)


@router.post("/login")
def login(
    request: Request,
    factory: FactoryDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/inbox",
) -> Response:
    ip = request.client.host if request.client else "unknown"
    try:
        with transaction(factory) as session:
            signed_in = sign_in(session, email, password, ip, settings)
    except DomainError as refusal:
        if isinstance(refusal, BadCredentials):
            with transaction(factory) as session:
                record_failed_sign_in(session, email, ip)
        message = refusal.message_in(locale_for(request, None))
        context = {"next": _safe_next(next), "error": message, "email": email}
        return render(request, "login.html", context, status=refusal.status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    secure = settings.cookie_secure
    response.set_cookie(
        COOKIE,
        signed_in.token,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https" if secure is None else secure,
        max_age=int(settings.session_lifetime.total_seconds()),
    )
    return response


@router.get("/invite/{token}")
def invitation_page(request: Request, factory: FactoryDep, token: InviteToken) -> Response:
    """Where a link from an administrator leads: choose a password (the token is the proof)."""
    try:
        with transaction(factory) as session:
            email = invitation_for_token(session, token).user.email
    except DomainError as refusal:
        return _invitation_refused(request, refusal)
    return render(request, "invitation.html", {"email": email, "error": None})


@router.post("/invite/{token}")
def accept(
    request: Request,
    factory: FactoryDep,
    token: InviteToken,
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        with transaction(factory) as session:
            email = accept_invitation(session, token, password).email
    except DomainError as refusal:
        return _invitation_refused(request, refusal)
    return RedirectResponse(f"/login?email={quote(email)}", status_code=303)


def _invitation_refused(request: Request, refusal: DomainError) -> Response:
    message = refusal.message_in(locale_for(request, None))
    expired = refusal.code != "password_too_short"
    context = {"email": None if expired else "", "error": message}
    return render(request, "invitation.html", context, status=refusal.status)


@router.post("/logout")
def logout(
    factory: FactoryDep, visitor: Annotated[Visitor, PageAllowed("account:use")]
) -> Response:
    with transaction(factory) as session:
        sign_out(session, session.get_one(WebSession, visitor.web_session.id))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/password")
def password_page(
    request: Request, visitor: Annotated[Visitor, PageAllowed("account:use")]
) -> Response:
    context = {"done": False, "error": None, "zones": COMMON_ZONES}
    return render(request, "password.html", context, visitor)


@router.post("/password")
def password(
    request: Request,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("account:use")],
    current: Annotated[str, Form(max_length=1000)],
    new: Annotated[str, Form(max_length=1000)],
) -> Response:
    context: dict[str, object] = {"done": True, "error": None, "zones": COMMON_ZONES}
    try:
        with transaction(factory) as session:
            user = session.get_one(User, visitor.user.id)
            keep = session.get_one(WebSession, visitor.web_session.id)
            change_password(session, user, current, new, keep)
    except DomainError as refusal:
        message = refusal.message_in(locale_for(request, visitor.user))
        context = {"done": False, "error": message, "zones": COMMON_ZONES}
        return render(request, "password.html", context, visitor, status=refusal.status)
    return render(request, "password.html", context, visitor)


@router.post("/preferences")
def preferences(
    request: Request,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("account:use")],
    locale: Annotated[str, Form(max_length=8)],
    timezone: Annotated[str, Form(max_length=64)],
    signature: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    with transaction(factory) as session:
        user = session.get_one(User, visitor.user.id)
        update_preferences(session, user, locale, timezone, signature)
    return RedirectResponse("/password", status_code=303)


def _safe_next(target: str) -> str:
    """Only paths on this site: never an open redirect to somewhere else."""
    if not target.startswith("/") or target.startswith("//") or "\\\\" in target:
        return "/inbox"
    return target
