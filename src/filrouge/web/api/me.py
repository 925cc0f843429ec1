"""``/api/v1/me``: the caller's own presence and notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from filrouge.core.actions.notifications import mark_all_read, mark_read
from filrouge.core.models import Notification, User
from filrouge.core.notifications import (
    NotificationView,
    describe,
    recent_notifications,
    unread_count,
)
from filrouge.core.presence import availability_of, set_presence
from filrouge.db import transaction
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import (
    IdPath,
    NotificationPublic,
    NotificationsPublic,
    PresencePublic,
    PresenceUpdate,
)

router = APIRouter(tags=["me"])


@router.get("/me/presence", response_model=PresencePublic)
def get_presence(
    factory: FactoryDep, settings: SettingsDep, user: Annotated[User, Allowed("presence:set")]
) -> PresencePublic:
    with transaction(factory) as session:
        found = session.get_one(User, user.id)
        return _presence(
            found.presence, availability_of(session, [user.id], settings.presence_idle)
        )


@router.put("/me/presence", response_model=PresencePublic)
def put_presence(
    body: PresenceUpdate,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("presence:set")],
) -> PresencePublic:
    """Say whether you are online, away or offline: new conversations of the customers whose
    concierge you are come to you only while you are online (and active lately)."""
    with transaction(factory) as session:
        found = session.get_one(User, user.id)
        set_presence(session, found, body.presence)
        session.flush()
        return _presence(
            found.presence, availability_of(session, [user.id], settings.presence_idle)
        )


@router.get("/notifications", response_model=NotificationsPublic, tags=["me"])
def get_notifications(
    factory: FactoryDep,
    user: Annotated[User, Allowed("notifications:read")],
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationsPublic:
    """Your notifications, newest first, each said in your language."""
    with transaction(factory) as session:
        views = recent_notifications(session, user, user.locale, limit, unread_only=unread)
        return NotificationsPublic(
            items=[notification_public(v) for v in views], unread=unread_count(session, user.id)
        )


@router.post("/notifications/{notification_id}/read", response_model=NotificationPublic)
def post_notification_read(
    notification_id: IdPath,
    factory: FactoryDep,
    user: Annotated[User, Allowed("notifications:read")],
) -> NotificationPublic:
    with transaction(factory) as session:
        notification = mark_read(session, user, notification_id)
        return notification_public(describe(session, notification, user.locale))


@router.post("/notifications:read-all", response_model=NotificationsPublic)
def post_notifications_read_all(
    factory: FactoryDep, user: Annotated[User, Allowed("notifications:read")]
) -> NotificationsPublic:
    with transaction(factory) as session:
        mark_all_read(session, user)
    return NotificationsPublic(items=[], unread=0)


def notification_public(view: NotificationView) -> NotificationPublic:
    return NotificationPublic(**_fields(view.notification), text=view.text)


def _fields(n: Notification) -> dict[str, object]:
    return {
        "id": n.id,
        "kind": n.kind,
        "conversation_id": n.conversation_id,
        "customer_id": n.customer_id,
        "payload": n.payload or {},
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


def _presence(presence: str, availability: dict[int, str]) -> PresencePublic:
    return PresencePublic(presence=presence, availability=next(iter(availability.values())))
