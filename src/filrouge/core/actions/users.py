"""Users and their API tokens. Passwords are argon2id hashes; tokens are stored as digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from filrouge.core.actions.conversations import (
    ConversationChanges,
    normalise_tag,
    update_conversation,
)
from filrouge.core.actions.sla_policies import create_default_policies
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, Forbidden, Invalid, NotFound, check_choice
from filrouge.core.identity import normalise_email
from filrouge.core.models import ApiToken, Conversation, User, WebSession, Workspace
from filrouge.core.models.enums import ConversationStatus, Role
from filrouge.lib.secrets import new_token, token_digest
from filrouge.lib.timeutil import utcnow

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 10
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
OPEN_STATUSES = (ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING)


def ensure_workspace(session: Session, name: str) -> Workspace:
    """The single workspace (one brand per installation), created on first use."""
    workspace = session.scalar(select(Workspace).order_by(Workspace.id).limit(1))
    if workspace is None:
        workspace = Workspace(name=name, settings={})
        session.add(workspace)
        session.flush()
        create_default_policies(session, workspace.id)
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


@dataclass
class UserChanges:
    """What an administrator may change on a colleague; ``None`` leaves a field as it is."""

    name: str | None = None
    role: str | None = None
    signature: str | None = None
    expertise: list[str] | None = None
    trusted: bool | None = None
    active: bool | None = None


def update_user(session: Session, admin: User, user_id: int, changes: UserChanges) -> User:
    """Apply ``changes`` to a user of the admin's workspace, one event with before and after."""
    user = session.get(User, user_id)
    if user is None or user.workspace_id != admin.workspace_id:
        raise NotFound("unknown_user", "There is no user {id}.", field="user_id", id=user_id)
    _check_not_locking_out(admin, user, changes)
    before = _profile(user)
    _apply(user, changes)
    after = _profile(user)
    if before == after:
        return user
    if before["active"] and not user.active:
        _end_access(session, user, Actor.user(admin.id))
    record_event(
        session,
        user.workspace_id,
        Actor.user(admin.id),
        ("user", user.id),
        "user.updated",
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return user


def _check_not_locking_out(admin: User, user: User, changes: UserChanges) -> None:
    """An admin cannot demote or deactivate themselves, so a workspace always keeps one."""
    if user.id != admin.id:
        return
    if (changes.role is not None and changes.role != Role.ADMIN) or changes.active is False:
        raise Forbidden(
            "cannot_lock_out_self",
            "You cannot remove your own administration rights; ask another administrator.",
            field="role",
        )


def _apply(user: User, changes: UserChanges) -> None:
    if changes.role is not None:
        check_choice(changes.role, Role, "role")
        user.role = changes.role
    if changes.name is not None:
        if not changes.name.strip():
            raise Invalid("empty_name", "The name is empty.", field="name")
        user.name = changes.name.strip()
    if changes.signature is not None:
        user.signature = changes.signature.strip() or None
    if changes.expertise is not None:
        user.expertise = normalise_expertise(changes.expertise)
    if changes.trusted is not None:
        user.trusted = changes.trusted
    if changes.active is not None:
        user.active = changes.active


def normalise_expertise(tags: list[str]) -> list[str]:
    """Expertise tags as conversation tags are written: trimmed, lower case, once each."""
    return sorted({normalise_tag(tag) for tag in tags if tag.strip()})


def _profile(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "role": user.role,
        "signature": user.signature,
        "expertise": list(user.expertise or []),
        "trusted": user.trusted,
        "active": user.active,
    }


def _end_access(session: Session, user: User, actor: Actor) -> None:
    """A deactivated user is signed out everywhere and their open conversations go back to
    the unassigned queue, so nothing waits on someone who left."""
    now = utcnow()
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    waiting = session.scalars(
        select(Conversation).where(
            Conversation.assignee_id == user.id, Conversation.status.in_(OPEN_STATUSES)
        )
    )
    for conversation in waiting:
        update_conversation(session, conversation, ConversationChanges(assignee_id=None), actor)
