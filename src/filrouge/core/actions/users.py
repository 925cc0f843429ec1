"""Users and their API tokens. Passwords are argon2id hashes; tokens are stored as digests."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, Invalid, NotFound, check_choice
from filrouge.core.identity import normalise_email
from filrouge.core.models import ApiToken, User, Workspace
from filrouge.core.models.enums import Role
from filrouge.lib.secrets import new_token, token_digest
from filrouge.lib.timeutil import utcnow

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 10
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def ensure_workspace(session: Session, name: str) -> Workspace:
    """The single workspace (one brand per installation), created on first use."""
    workspace = session.scalar(select(Workspace).order_by(Workspace.id).limit(1))
    if workspace is None:
        workspace = Workspace(name=name, settings={})
        session.add(workspace)
        session.flush()
    return workspace


def create_user(
    session: Session,
    workspace_id: int,
    email: str,
    password: str | None,
    role: str,
    name: str | None = None,
    actor: Actor | None = None,
) -> User:
    check_choice(role, Role, "role")
    address = normalise_email(email)
    if session.scalar(select(func.count()).where(User.email == address)):
        raise Conflict(
            "user_exists", "A user with email {email} already exists.", field="email", email=address
        )
    user = User(
        workspace_id=workspace_id,
        email=address,
        role=role,
        name=name or address.split("@")[0],
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        workspace_id,
        actor or Actor.system(),
        ("user", user.id),
        "user.created",
        after={"email": address, "role": role},
    )
    return user


def hash_password(password: str | None) -> str | None:
    if password is None:
        return None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            "password_too_short",
            "The password needs at least {min} characters.",
            field="password",
            min=MIN_PASSWORD_LENGTH,
        )
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def find_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(
            "unknown_user", "There is no user with email {email}.", field="email", email=email
        )
    return user


def create_token(session: Session, user: User, name: str = "api") -> str:
    """Create an API token for ``user`` and return it; only its digest is kept."""
    token = new_token("frt")
    session.add(ApiToken(user_id=user.id, name=name, digest=token_digest(token)))
    record_event(
        session,
        user.workspace_id,
        Actor.system(),
        ("user", user.id),
        "token.created",
        after={"name": name},
    )
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.digest == token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_RESOLUTION:
        row.last_used_at = now  # a write per minute at most, not per request
    return row.user
