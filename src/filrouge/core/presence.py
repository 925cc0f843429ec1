"""Agents' presence: online, away or offline, as they say, and whether routing may count on them.

An agent sets their presence from the workspace header or the API; signing out sets it offline.
Routing counts on an agent only when they are active, of a role that answers (not a
contributor), say they are online, and did something recently: a page, an API call or setting
their presence within ``Settings.presence_idle``. Otherwise they count as away.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import check_choice
from filrouge.core.events import publish_after_commit
from filrouge.core.models import ApiToken, User, WebSession
from filrouge.core.models.enums import Role
from filrouge.lib.timeutil import utcnow

ANSWERING_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Availability(StrEnum):
    """What routing makes of a person: their presence, corrected by their activity."""

    ONLINE = "online"
    AWAY = "away"  # said away, or online but idle
    OFFLINE = "offline"
    INACTIVE = "inactive"  # deactivated, or a contributor: never routed to


def set_presence(session: Session, user: User, presence: str) -> None:
    check_choice(presence, Presence, "presence")
    before = user.presence
    user.presence, user.presence_at = presence, utcnow()
    if before != presence:
        record_event(
            session,
            user.workspace_id,
            Actor.user(user.id),
            ("user", user.id),
            "presence_changed",
            before={"presence": before},
            after={"presence": presence},
        )
        publish_after_commit(session, "user.presence_changed", user_id=user.id)


def available(idle: timedelta) -> ColumnElement[bool]:
    """The SQL condition on ``User``: routing may give them a conversation now."""
    cutoff = utcnow() - idle
    recent_page = exists().where(
        WebSession.user_id == User.id,
        WebSession.ended_at.is_(None),
        WebSession.last_seen_at >= cutoff,
    )
    recent_call = exists().where(
        ApiToken.user_id == User.id,
        ApiToken.revoked_at.is_(None),
        ApiToken.last_used_at >= cutoff,
    )
    return and_(
        User.active.is_(True),
        User.role.in_(ANSWERING_ROLES),
        User.presence == Presence.ONLINE,
        or_(User.presence_at >= cutoff, recent_page, recent_call),
    )


def availability_of(session: Session, user_ids: Iterable[int], idle: timedelta) -> dict[int, str]:
    """Each user's ``Availability``, in one query."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(User.id, User.active, User.role, User.presence, available(idle).label("ok")).where(
            User.id.in_(ids)
        )
    )
    return {row.id: _availability(row.active, row.role, row.presence, row.ok) for row in rows}


def _availability(active: bool, role: str, presence: str, ok: bool) -> str:
    if not active or role not in ANSWERING_ROLES:
        return Availability.INACTIVE
    if ok:
        return Availability.ONLINE
    return Availability.OFFLINE if presence == Presence.OFFLINE else Availability.AWAY
