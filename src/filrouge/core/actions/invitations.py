"""Invitations: a new colleague (or one who forgot the password) chooses a password by a link.

The link carries a random token; only its digest is stored. It works once and for a week, and
issuing a new one cancels the previous ones.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from filrouge.core.actions.users import create_user, hash_password
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid, NotFound
from filrouge.core.models import Invitation, User, WebSession
from filrouge.lib.secrets import new_token, token_digest
from filrouge.lib.timeutil import utcnow

INVITATION_LIFETIME = timedelta(days=7)


def invite_user(
    session: Session, workspace_id: int, email: str, name: str, role: str, actor: Actor
) -> tuple[User, str]:
    """Create a user without a password; return it and the token of its invitation link."""
    user = create_user(session, workspace_id, email, None, role, name or None, actor)
    return user, issue_invitation(session, user, actor)


def issue_invitation(session: Session, user: User, actor: Actor) -> str:
    """A new link for ``user``; earlier links stop working."""
    now = utcnow()
    session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
        .values(expires_at=now)
    )
    token = new_token("frinv")
    session.add(
        Invitation(
            user_id=user.id, digest=token_digest(token), expires_at=now + INVITATION_LIFETIME
        )
    )
    record_event(session, user.workspace_id, actor, ("user", user.id), "user.invited")
    return token


def invitation_for_token(session: Session, token: str) -> Invitation:
    """The live invitation behind ``token``, or a refusal that says it no longer works."""
    found = session.scalar(select(Invitation).where(Invitation.digest == token_digest(token)))
    if found is None or found.used_at is not None or found.expires_at <= utcnow():
        raise NotFound(
            "invitation_expired",
            "This link has expired or was already used. Ask an administrator for a new one.",
        )
    if not found.user.active:
        raise Invalid("user_inactive", "This account was deactivated.")
    return found


def accept_invitation(session: Session, token: str, password: str) -> User:
    """Set the password chosen through the link; every earlier session of the user ends."""
    invitation = invitation_for_token(session, token)
    user = invitation.user
    user.password_hash = hash_password(password)
    invitation.used_at = utcnow()
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    record_event(
        session, user.workspace_id, Actor.user(user.id), ("user", user.id), "user.password_set"
    )
    return user
