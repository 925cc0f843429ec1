"""Notifications: written here, pushed live after commit (ids only), read on the bell's page.

``notify`` is for any part of the domain that must tell one person something: the concierge
(a customer's new conversation), later the routing and service-level timers. A notification
holds ids and a small payload, never a customer's name: names are read when it is shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session

from filrouge.core.errors import NotFound
from filrouge.core.events import publish_after_commit
from filrouge.core.models import Notification, User
from filrouge.lib.timeutil import utcnow

# Core, not the ORM's bulk path: a batch's notifications are one plain multi-row insert.
_TABLE = Notification.__table__
assert isinstance(_TABLE, Table)
_INSERT_RETURNING = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)


def notify(
    session: Session,
    user_id: int,
    kind: str,
    *,
    conversation_id: int | None = None,
    customer_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Notification:
    """Tell ``user_id`` something; their open pages hear of it once the transaction commits."""
    notification = Notification(
        user_id=user_id,
        kind=kind,
        conversation_id=conversation_id,
        customer_id=customer_id,
        payload=dict(payload or {}),
    )
    session.add(notification)
    session.flush()
    publish_after_commit(
        session, "notification.created", notification_id=notification.id, user_id=user_id
    )
    return notification


def notify_many(session: Session, notifications: list[dict[str, Any]]) -> list[int]:
    """Several notifications in one statement (a batch's routing): each a dict of ``user_id``,
    ``kind`` and optionally ``conversation_id``, ``customer_id``, ``payload``."""
    if not notifications:
        return []
    rows = [
        {
            "conversation_id": None,
            "customer_id": None,
            "created_at": utcnow(),
            **n,
            "payload": dict(n.get("payload") or {}),
        }
        for n in notifications
    ]
    ids = list(session.connection().scalars(_INSERT_RETURNING, rows))
    for notification_id, row in zip(ids, rows, strict=True):
        publish_after_commit(
            session, "notification.created", notification_id=notification_id, user_id=row["user_id"]
        )
    return ids


def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound(
            "notification_not_found", "There is no notification {id}.", id=notification_id
        )
    if notification.read_at is None:
        notification.read_at = utcnow()
        _published_read(session, user)
    return notification


def mark_all_read(session: Session, user: User) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        _published_read(session, user)
    return count


def _published_read(session: Session, user: User) -> None:
    """The user's other pages update their bell."""
    publish_after_commit(session, "notification.read", user_id=user.id)
