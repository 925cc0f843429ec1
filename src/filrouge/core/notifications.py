"""Reading notifications: one person's, newest first, each said as a sentence in their language.

Names (of the customer, of the colleague) are read at the time the notification is shown, in
one query for the page: an erased customer is then "a customer", never the name they had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.models import Customer, Notification, User
from filrouge.i18n import N_, translate

SENTENCES = {
    "concierge.assigned": N_(
        "New conversation from {customer}, whose concierge you are: it is yours."
    ),
    "concierge.unavailable": N_(
        "New conversation from {customer}, whose concierge you are, left to the team because"
        " you were {absence}."
    ),
    "concierge.owner_assigned": N_("You are now the concierge of {customer}."),
    "concierge.owner_assigned_many": N_("You are now the concierge of {count} more customers."),
    "concierge.owner_cleared": N_("You are no longer the concierge of {customer}."),
    "sla.breached": N_("The conversation with {customer} missed its {target} target."),
    "automation.notify": N_("A rule asks you to look at the conversation with {customer}."),
    "routing.assigned": N_("New conversation from {customer}: it is yours."),
    "routing.taken_back": N_(
        "The conversation with {customer} was routed again: you are no longer available."
    ),
    "routing.rerouted": N_(
        "The conversation with {customer} was routed again: its agent is no longer available."
    ),
    "contribution.offered": N_(
        "The conversation with {customer} matches your expertise ({topic}): your help is welcome."
    ),
}
TARGETS = {
    "first_response": N_("first response"),
    "next_response": N_("next response"),
    "resolution": N_("resolution"),
}
ABSENCES = {"away": N_("away"), "offline": N_("offline"), "inactive": N_("deactivated")}


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    text: str
    href: str | None

    @property
    def read(self) -> bool:
        return self.notification.read_at is not None

    @property
    def created_at(self) -> datetime:
        return self.notification.created_at


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def recent_notifications(
    session: Session, user: User, locale: str, limit: int = 50, unread_only: bool = False
) -> list[NotificationView]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    rows = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))
    names = _customer_names(session, {n.customer_id for n in rows if n.customer_id})
    return [_view(n, names, locale) for n in rows]


def describe(session: Session, notification: Notification, locale: str) -> NotificationView:
    ids = {notification.customer_id} if notification.customer_id else set()
    return _view(notification, _customer_names(session, ids), locale)


def _customer_names(session: Session, ids: set[int]) -> dict[int, str | None]:
    if not ids:
        return {}
    rows = session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _view(n: Notification, names: dict[int, str | None], locale: str) -> NotificationView:
    name = names.get(n.customer_id or 0) or translate(
        N_("customer #{id}"), locale, id=n.customer_id or "?"
    )
    params: dict[str, Any] = {**(n.payload or {}), "customer": name}
    absence = str(params.get("absence", ""))
    params["absence"] = translate(ABSENCES[absence], locale) if absence in ABSENCES else absence
    target = str(params.get("target", ""))
    params["target"] = translate(TARGETS[target], locale) if target in TARGETS else target
    sentence = SENTENCES.get(n.kind)
    text = translate(sentence, locale, **params) if sentence else n.kind
    href = f"/conversations/{n.conversation_id}" if n.conversation_id else None
    return NotificationView(n, text, href)
