"""Signing in and out of the web workspace, with sign-in throttling and password changes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from filrouge.core.actions.users import hash_password, password_matches
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import DomainError, Invalid, check_choice
from filrouge.core.models import LoginFailure, User, WebSession
from filrouge.core.presence import Presence, set_presence
from filrouge.lib.secrets import new_token, token_digest
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings


class Locale(StrEnum):
    FR = "fr"
    EN = "en"


class TooManyAttempts(DomainError):
    status = 429


class BadCredentials(DomainError):
    status = 401


@dataclass(frozen=True)
class SignedIn:
    token: str  # goes in the cookie, never stored
    session: WebSession


def sign_in(session: Session, email: str, password: str, ip: str, settings: Settings) -> SignedIn:
    """Open a web session, or refuse: the same answer for an unknown address and a bad
    password, and a pause after too many failures from one address or one IP."""
    address = email.strip().lower()
    _check_not_throttled(session, address, ip, settings)
    user = session.scalar(select(User).where(User.email == address, User.active))
    if user is None or not password_matches(user, password):
        raise BadCredentials("bad_credentials", "Unknown email address or wrong password.")
    token, now = new_token("frs"), utcnow()
    web_session = WebSession(
        user_id=user.id,
        digest=token_digest(token),
        csrf_token=secrets.token_urlsafe(32),
        last_seen_at=now,
        expires_at=now + settings.session_lifetime,
    )
    session.add(web_session)
    record_event(
        session,
        user.workspace_id,
        Actor.user(user.id),
        ("user", user.id),
        "signed_in",
        after={"ip": ip},
    )
    return SignedIn(token, web_session)


def record_failed_sign_in(session: Session, email: str, ip: str) -> None:
    """Kept in its own transaction by the caller: the refused sign-in itself rolls back."""
    session.add(LoginFailure(email=email.strip().lower(), ip=ip, at=utcnow()))


def session_for_token(session: Session, token: str, settings: Settings) -> WebSession | None:
    """The live session behind a cookie; idle or expired ones are over."""
    found = session.scalar(select(WebSession).where(WebSession.digest == token_digest(token)))
    now = utcnow()
    if found is None or found.ended_at is not None or not found.user.active:
        return None
    if now >= found.expires_at or now - found.last_seen_at > settings.session_idle:
        return None
    if now - found.last_seen_at > timedelta(minutes=1):
        found.last_seen_at = now
    return found


def sign_out(session: Session, web_session: WebSession) -> None:
    """End the session; the agent is offline (routing no longer counts on them)."""
    web_session.ended_at = utcnow()
    set_presence(session, web_session.user, Presence.OFFLINE)


def change_password(session: Session, user: User, current: str, new: str, keep: WebSession) -> None:
    """Change the password and end every other session of the user."""
    if not password_matches(user, current):
        raise Invalid("wrong_password", "The current password is wrong.", field="current")
    user.password_hash = hash_password(new)
    others = select(WebSession).where(
        WebSession.user_id == user.id, WebSession.id != keep.id, WebSession.ended_at.is_(None)
    )
    for other in session.scalars(others):
        other.ended_at = utcnow()
    record_event(
        session, user.workspace_id, Actor.user(user.id), ("user", user.id), "password_changed"
    )


def _check_not_throttled(session: Session, address: str, ip: str, settings: Settings) -> None:
    since = utcnow() - settings.login_window
    failures = session.scalar(
        select(func.count()).where(
            LoginFailure.at >= since, or_(LoginFailure.email == address, LoginFailure.ip == ip)
        )
    )
    if (failures or 0) >= settings.login_attempts:
        minutes = int(settings.login_window.total_seconds() // 60)
        raise TooManyAttempts(
            "too_many_attempts",
            "Too many failed sign-ins. Try again in {minutes} minutes.",
            minutes=minutes,
        )


def update_preferences(
    session: Session, user: User, locale: str, timezone: str, signature: str | None = None
) -> None:
    """The language and time zone the workspace speaks and shows dates in, for this user, and
    the signature their replies carry where a full one is the norm (``None``: unchanged)."""
    check_choice(locale, Locale, "locale")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            "invalid_timezone", "{value} is not a time zone.", field="timezone", value=timezone
        ) from exc
    before = {"locale": user.locale, "timezone": user.timezone, "signature": user.signature}
    user.locale, user.timezone = locale, timezone
    if signature is not None:
        user.signature = signature.strip() or None
    record_event(
        session,
        user.workspace_id,
        Actor.user(user.id),
        ("user", user.id),
        "preferences_changed",
        before=before,
        after={"locale": locale, "timezone": timezone, "signature": user.signature},
    )
