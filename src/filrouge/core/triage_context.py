"""What the classifier is told about each message beyond its text (``triage.types.Context``):
public or not, the author's followers, VIP, and how often the customer wrote lately.

Read for a whole batch in three queries (customers, identities, the customers' recent inbound
messages), whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from filrouge.core.models import Conversation, Customer, Identity, Message
from filrouge.core.models.enums import AUTOMATIC_FLAGS, Direction
from filrouge.triage.types import Context

RECENT = timedelta(days=7)  # "repeat contact": the customer's messages in this window
_YES = frozenset({"true", "yes", "oui", "1"})


@dataclass(frozen=True)
class TriageItem:
    """One stored inbound message waiting for its triage."""

    message_id: int
    conversation_id: int
    workspace_id: int
    customer_id: int
    identity_id: int | None
    text: str
    public: bool
    occurred_at: datetime
    automatic: bool  # an auto-reply, a bounce…: triaged, but never raises a priority


def contexts_of(session: Session, items: Sequence[TriageItem]) -> list[Context]:
    session.flush()  # a customer or identity the ORM has pending
    vip = _vip_customers(session, {item.customer_id for item in items})
    followers = _followers(session, {i.identity_id for i in items if i.identity_id is not None})
    recent = _recent_messages(session, items)
    return [
        Context(
            public=item.public,
            followers=followers.get(item.identity_id or 0, 0),
            vip=item.customer_id in vip,
            recent_contacts=sum(
                1
                for message_id, at in recent.get(item.customer_id, [])
                if message_id != item.message_id
                and item.occurred_at - RECENT <= at
                and at <= item.occurred_at
            ),
        )
        for item in items
    ]


def is_vip(attributes: dict[str, Any] | None) -> bool:
    value = (attributes or {}).get("vip")
    if isinstance(value, bool):
        return value
    return isinstance(value, str | int) and str(value).strip().lower() in _YES


# Prebuilt, run on the session's connection (the pipeline's way: docs/PERFORMANCE.md).
_CUSTOMERS = select(Customer.id, Customer.attributes).where(
    Customer.id.in_(bindparam("ids", expanding=True))
)
_IDENTITIES = select(Identity.id, Identity.attributes).where(
    Identity.id.in_(bindparam("ids", expanding=True))
)
_RECENT = (
    select(Conversation.customer_id, Message.id, Message.occurred_at)
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(
        Conversation.customer_id.in_(bindparam("ids", expanding=True)),
        Message.direction == Direction.INBOUND,
        Message.occurred_at.between(bindparam("earliest"), bindparam("latest")),
        Message.flag.is_(None) | Message.flag.not_in(AUTOMATIC_FLAGS),
    )
)


def _vip_customers(session: Session, ids: set[int]) -> set[int]:
    rows = session.connection().execute(_CUSTOMERS, {"ids": sorted(ids)})
    return {row.id for row in rows if is_vip(row.attributes)}


def _followers(session: Session, ids: set[int]) -> dict[int, int]:
    if not ids:
        return {}
    found = {}
    for row in session.connection().execute(_IDENTITIES, {"ids": sorted(ids)}):
        count = (row.attributes or {}).get("followers")
        if isinstance(count, int | float) and not isinstance(count, bool):
            found[row.id] = int(count)
    return found


def _recent_messages(
    session: Session, items: Sequence[TriageItem]
) -> dict[int, list[tuple[int, datetime]]]:
    """Each customer's inbound messages (by a person) from a week before the batch's first."""
    rows = session.connection().execute(
        _RECENT,
        {
            "ids": sorted({item.customer_id for item in items}),
            "earliest": min(item.occurred_at for item in items) - RECENT,
            "latest": max(item.occurred_at for item in items),
        },
    )
    found: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for row in rows:
        found[row.customer_id].append((row.id, row.occurred_at))
    return found
