"""Undoing a merge: what the merge moved goes back, as its event recorded it.

``customer.merged`` names the identities, conversations and orders that moved and the attributes
that were filled in. An unmerge moves back those still with the customer that received them,
takes back the attributes filled in and still unchanged, and brings the tombstone back to life.
What happened since the merge stays where it happened: an identity added to the merged customer
afterwards stays there, and so does a conversation that started afterwards; a conversation that
came with the merge goes back whole, with what was written in it since.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from filrouge.core.actions.customers import lock_customers
from filrouge.core.actions.erasure import is_erased
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict
from filrouge.core.events import publish_after_commit
from filrouge.core.models import Conversation, Customer, Event, Identity, Order

MOVED = (("identity_ids", Identity), ("conversation_ids", Conversation), ("order_ids", Order))


def unmerge_customers(
    session: Session, target: Customer, other: Customer, actor: Actor
) -> Customer:
    """Give back to ``other`` (merged into ``target``) what the merge took; return ``other``."""
    lock_customers(session, target, other)
    merge = _merge_event(session, target, other)
    moved_back = {
        key: _move_back(session, model, merge.after, key, target, other) for key, model in MOVED
    }
    restored = _restore_details(target, other, merge)
    other.merged_into_id = None
    session.expire(target, ["identities"])
    session.expire(other, ["identities"])
    record_event(
        session,
        target.workspace_id,
        actor,
        ("customer", target.id),
        "customer.unmerged",
        after={"other_id": other.id, "merge_event_id": merge.id, **moved_back, **restored},
    )
    record_event(
        session,
        other.workspace_id,
        actor,
        ("customer", other.id),
        "customer.unmerged_from",
        after={"target_id": target.id},
    )
    publish_after_commit(session, "customer.unmerged", target_id=target.id, other_id=other.id)
    return other


def _merge_event(session: Session, target: Customer, other: Customer) -> Event:
    if other.merged_into_id != target.id:
        raise Conflict(
            "not_merged_into",
            "Customer {other} was not merged into customer {id}.",
            field="other_id",
            other=other.id,
            id=target.id,
        )
    for customer in (target, other):
        if is_erased(customer) or customer.merged_into_id not in (None, target.id):
            raise Conflict(
                "cannot_unmerge",
                "Customer {id} was erased or merged again since: it cannot be unmerged.",
                field="other_id",
                id=customer.id,
            )
    merges = session.scalars(
        select(Event)
        .where(
            Event.subject_type == "customer",
            Event.subject_id == target.id,
            Event.action == "customer.merged",
            Event.redacted_at.is_(None),
        )
        .order_by(Event.id.desc())
    )
    merge = next((e for e in merges if (e.after or {}).get("other_id") == other.id), None)
    if merge is None:
        raise Conflict(
            "cannot_unmerge",
            "Customer {id} was erased or merged again since: it cannot be unmerged.",
            field="other_id",
            id=other.id,
        )
    return merge


def _move_back(
    session: Session,
    model: Any,
    recorded: dict[str, Any] | None,
    key: str,
    target: Customer,
    other: Customer,
) -> list[int]:
    """The rows the merge moved that are still with ``target``, moved back to ``other``."""
    ids = [int(i) for i in (recorded or {}).get(key, [])]
    if not ids:
        return []
    still = list(
        session.scalars(select(model.id).where(model.id.in_(ids), model.customer_id == target.id))
    )
    if still:
        session.execute(update(model).where(model.id.in_(still)).values(customer_id=other.id))
    return still


def _restore_details(target: Customer, other: Customer, merge: Event) -> dict[str, Any]:
    """Attributes filled in from ``other`` and unchanged since leave ``target``; so do the
    name and the concierge it took from ``other`` when it had none."""
    before = (merge.before or {}).get("target", {})
    filled = [k for k in (merge.after or {}).get("attributes_filled", []) if k in other.attributes]
    taken = [k for k in filled if target.attributes.get(k) == other.attributes[k]]
    if taken:
        target.attributes = {k: v for k, v in target.attributes.items() if k not in taken}
    name_back = before.get("name") is None and target.name is not None and target.name == other.name
    if name_back:
        target.name = None
    owner_back = bool((merge.after or {}).get("owner_taken")) and target.owner_id == other.owner_id
    if owner_back:  # the concierge it took from ``other``, unchanged since
        target.owner_id = None
    return {
        "attributes_taken_back": taken,
        "name_taken_back": name_back,
        "owner_taken_back": owner_back,
    }
