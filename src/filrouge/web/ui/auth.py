"""Who is at the keyboard: the session cookie, the role rule of each page, and CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from filrouge.core.actions.sessions import session_for_token
from filrouge.core.models import User, WebSession
from filrouge.core.notifications import unread_count
from filrouge.db import transaction
from filrouge.lib.secrets import same_secret
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.errors import http_error
from filrouge.web.permissions import RULES, is_allowed

COOKIE = "filrouge_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """No live session: the browser is sent to the sign-in page, then back."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True)
class Visitor:
    user: User
    web_session: WebSession
    unread_notifications: int = 0  # the bell in the header

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token


def current_visitor(request: Request, factory: FactoryDep, settings: SettingsDep) -> Visitor:
    token = request.cookies.get(COOKIE)
    if token:
        with transaction(factory) as session:
            web_session = session_for_token(session, token, settings)
            if web_session is not None:
                unread = unread_count(session, web_session.user_id)
                return Visitor(web_session.user, web_session, unread)
    raise LoginRequired(_here(request))


def PageAllowed(permission: str) -> Any:  # noqa: N802 - reads as a type in signatures
    """``visitor: Annotated[Visitor, PageAllowed("inbox:view")]``: signed in, role checked,
    and on every state-changing request a CSRF token that matches the session's."""
    if permission not in RULES:
        raise KeyError(f"no rule for permission {permission!r} in web/permissions.py")

    async def check(
        request: Request, visitor: Annotated[Visitor, Depends(current_visitor)]
    ) -> Visitor:
        if not is_allowed(visitor.user.role, permission):
            raise http_error(
                403,
                "forbidden",
                "Your role ({role}) does not allow {permission}.",
                role=visitor.user.role,
                permission=permission,
            )
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            await _check_csrf(request, visitor)
        return visitor

    check.permission = permission  # type: ignore[attr-defined]
    return Depends(check)


async def _check_csrf(request: Request, visitor: Visitor) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not same_secret(sent, visitor.csrf_token):
        raise http_error(
            403,
            "csrf_failed",
            "This form has expired or did not come from Filrouge. Reload the page.",
        )


def _here(request: Request) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(path, safe='')}"
