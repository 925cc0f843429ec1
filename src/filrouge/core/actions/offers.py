"""Contributors offered the conversations that match their expertise.

A new conversation whose tags, first message's triage type or words match a contributor's
expertise tag is offered to them: a ``contributor_offers`` row (so it is in their list,
core/access.py) and a notification. The team keeps it; a contributor's reply still waits for
a supervisor's approval (replies.py). Two statements per batch, whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from filrouge.core.actions.notifications import notify_many
from filrouge.core.models import ContributorOffer, User
from filrouge.core.models.enums import Role
from filrouge.core.routing.skills import Facts, matched_topic
from filrouge.lib.timeutil import utcnow


def offer_to_contributors(session: Session, facts: Sequence[Facts]) -> int:
    """Offer each conversation to the contributors it matches; how many offers were made."""
    experts = _experts(session, {f.workspace_id for f in facts}) if facts else []
    offers = [
        {"conversation_id": f.conversation_id, "user_id": user_id, "matched": tag}
        for f in facts
        for user_id, workspace_id, expertise in experts
        if workspace_id == f.workspace_id and (tag := matched_topic(expertise, f)) is not None
    ]
    if not offers:
        return 0
    now = utcnow()
    session.execute(insert(ContributorOffer), [{**o, "created_at": now} for o in offers])
    customers = {f.conversation_id: f.customer_id for f in facts}
    notify_many(session, [_notification(o, customers) for o in offers])
    return len(offers)


def _experts(session: Session, workspace_ids: set[int]) -> list[tuple[int, int, tuple[str, ...]]]:
    rows = session.execute(
        select(User.id, User.workspace_id, User.expertise).where(
            User.workspace_id.in_(sorted(workspace_ids)),
            User.role == Role.CONTRIBUTOR,
            User.active.is_(True),
        )
    )
    return [(row.id, row.workspace_id, tuple(row.expertise)) for row in rows if row.expertise]


def _notification(offer: dict[str, Any], customers: dict[int, int | None]) -> dict[str, Any]:
    return {
        "user_id": offer["user_id"],
        "kind": "contribution.offered",
        "conversation_id": offer["conversation_id"],
        "customer_id": customers.get(offer["conversation_id"]),
        "payload": {"topic": offer["matched"]},
    }
