"""Customers: creation by hand or import, attribute updates, and merging two into one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from filrouge.channels.base import Sender
from filrouge.core.actions.custom_fields import record_consent_changes, typed_attributes
from filrouge.core.actions.erasure import is_erased
from filrouge.core.actions.identities import add_identity, create_customer, find_identity
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, Invalid
from filrouge.core.events import publish_after_commit
from filrouge.core.identity import normalise_identity
from filrouge.core.models import Conversation, Customer, Identity, Order


def create_customer_with_identities(
    session: Session,
    workspace_id: int,
    name: str | None,
    identities: list[Sender],
    attributes: dict[str, Any],
    region: str,
    actor: Actor,
    source: str = "api",
) -> Customer:
    """Create a customer; refuse identities that already belong to someone (409) and
    attributes that do not fit their definition (422)."""
    typed = typed_attributes(session, workspace_id, attributes)
    normalised = [
        (sender, normalise_identity(sender.kind, sender.value, region)) for sender in identities
    ]
    for sender, value in normalised:
        if find_identity(session, workspace_id, sender.kind, value) is not None:
            raise Conflict(
                "identity_taken",
                "{kind} {value} already belongs to a customer.",
                field="identities",
                kind=sender.kind,
                value=value,
            )
    known = {key: value for key, value in typed.items() if value is not None}
    customer_id = create_customer(session, workspace_id, name, actor, known)
    for sender, value in normalised:
        add_identity(session, workspace_id, customer_id, sender, value, actor)
    customer = session.get_one(Customer, customer_id)
    record_consent_changes(session, customer, {}, actor, source)
    return customer


def update_customer(
    session: Session,
    customer: Customer,
    name: str | None,
    attributes: dict[str, Any] | None,
    actor: Actor,
    source: str = "api",
) -> Customer:
    """A new name, attributes typed by their definitions (``None`` removes one); a consent
    flag that changes is logged with ``source`` (api, import, panel)."""
    attributes_before = customer.attributes or {}
    before = {"name": customer.name, "attributes": customer.attributes}
    if name is not None:
        customer.name = name
    if attributes is not None:
        typed = typed_attributes(session, customer.workspace_id, attributes)
        merged = {**customer.attributes, **typed}
        customer.attributes = {key: value for key, value in merged.items() if value is not None}
    after = {"name": customer.name, "attributes": customer.attributes}
    if before != after:
        record_event(
            session,
            customer.workspace_id,
            actor,
            ("customer", customer.id),
            "customer.updated",
            before=before,
            after=after,
        )
        record_consent_changes(session, customer, attributes_before, actor, source)
    return customer


def merge_customers(session: Session, target: Customer, other: Customer, actor: Actor) -> Customer:
    """Move everything of ``other`` into ``target``; ``other`` stays as a tombstone.

    The event records exactly what moved, so that an unmerge can put it back.
    """
    lock_customers(session, target, other)
    _check_mergeable(target, other)
    identity_ids = list(
        session.scalars(select(Identity.id).where(Identity.customer_id == other.id))
    )
    conversation_ids = list(
        session.scalars(select(Conversation.id).where(Conversation.customer_id == other.id))
    )
    session.execute(
        update(Identity).where(Identity.customer_id == other.id).values(customer_id=target.id)
    )
    session.execute(
        update(Conversation)
        .where(Conversation.customer_id == other.id)
        .values(customer_id=target.id)
    )
    order_ids = list(session.scalars(select(Order.id).where(Order.customer_id == other.id)))
    session.execute(
        update(Order).where(Order.customer_id == other.id).values(customer_id=target.id)
    )
    filled = {k: v for k, v in other.attributes.items() if k not in target.attributes}
    owner_taken = target.owner_id is None and other.owner_id is not None
    before = {
        "target": {"name": target.name, "attributes": target.attributes},
        "other": {"id": other.id, "name": other.name, "attributes": other.attributes},
    }
    target.attributes = {**target.attributes, **filled}
    target.name = target.name or other.name
    if owner_taken:  # the concierge of either stays; the survivor's first
        target.owner_id = other.owner_id
    other.merged_into_id = target.id
    session.expire(target, ["identities"])
    record_event(
        session,
        target.workspace_id,
        actor,
        ("customer", target.id),
        "customer.merged",
        before=before,
        after={
            "other_id": other.id,
            "identity_ids": identity_ids,
            "conversation_ids": conversation_ids,
            "order_ids": order_ids,
            "attributes_filled": sorted(filled),
            "owner_taken": owner_taken,
        },
    )
    record_event(
        session,
        other.workspace_id,
        actor,
        ("customer", other.id),
        "customer.merged_into",
        after={"target_id": target.id},
    )
    publish_after_commit(session, "customer.merged", target_id=target.id, other_id=other.id)
    return target


def lock_customers(session: Session, *customers: Customer) -> None:
    """On PostgreSQL, wait for messages being received for either customer (they hold a shared
    lock on the customer row) so that none lands on the tombstone; in id order, no deadlock.
    Then re-read both: a concurrent merge may have just made one of them a tombstone."""
    ids = sorted({customer.id for customer in customers})
    session.execute(
        select(Customer.id).where(Customer.id.in_(ids)).order_by(Customer.id).with_for_update()
    ).all()
    for customer in customers:
        session.refresh(customer)


def _check_mergeable(target: Customer, other: Customer) -> None:
    if target.id == other.id:
        raise Invalid(
            "merge_into_self", "A customer cannot be merged into itself.", field="other_id"
        )
    if target.workspace_id != other.workspace_id:
        raise Invalid(
            "unknown_customer", "Customer {id} does not exist.", field="other_id", id=other.id
        )
    for customer in (target, other):
        if is_erased(customer):
            raise Conflict(
                "customer_erased",
                "Customer {id} was erased: nothing can be merged into it or from it.",
                field="other_id",
                id=customer.id,
            )
        if customer.merged_into_id is not None:
            raise Conflict(
                "customer_already_merged",
                "Customer {id} was already merged into customer {target}.",
                field="other_id",
                id=customer.id,
                target=customer.merged_into_id,
            )
