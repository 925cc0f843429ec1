"""Finding the customer behind a sender: by identity, then by verified email or phone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.base import Sender
from filrouge.core.audit import Actor, record_event
from filrouge.core.identity import linkable_kinds, normalise_identity
from filrouge.core.models import Customer, Identity


@dataclass(frozen=True)
class ResolvedSender:
    identity: Identity
    customer: Customer


def resolve_sender(
    session: Session, workspace_id: int, sender: Sender, region: str, actor: Actor
) -> ResolvedSender:
    """Return the identity and customer for ``sender``, creating them when nobody matches."""
    value = normalise_identity(sender.kind, sender.value, region)
    identity = find_identity(session, workspace_id, sender.kind, value)
    if identity is not None:
        customer = live_customer(session, identity.customer)
        _refresh_identity(identity, customer, sender)
        return ResolvedSender(identity, customer)
    owner = _customer_with_verified_match(session, workspace_id, sender, value)
    if owner is None:
        owner = create_customer(session, workspace_id, sender.name, actor)
    return ResolvedSender(add_identity(session, owner, sender, value, actor), owner)


def find_identity(session: Session, workspace_id: int, kind: str, value: str) -> Identity | None:
    return session.scalar(
        select(Identity).where(
            Identity.workspace_id == workspace_id, Identity.kind == kind, Identity.value == value
        )
    )


def live_customer(session: Session, customer: Customer) -> Customer:
    """Follow merge tombstones to the customer that now holds the history."""
    seen = {customer.id}
    while customer.merged_into_id is not None:
        target = session.get(Customer, customer.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        customer = target
    return customer


def create_customer(
    session: Session, workspace_id: int, name: str | None, actor: Actor
) -> Customer:
    customer = Customer(workspace_id=workspace_id, name=name, attributes={})
    session.add(customer)
    session.flush()
    record_event(
        session,
        workspace_id,
        actor,
        ("customer", customer.id),
        "customer.created",
        after={"name": name},
    )
    return customer


def add_identity(
    session: Session, customer: Customer, sender: Sender, value: str, actor: Actor
) -> Identity:
    identity = Identity(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        kind=sender.kind,
        value=value,
        display_name=sender.name,
        verified=sender.verified,
    )
    session.add(identity)
    session.flush()
    record_event(
        session,
        customer.workspace_id,
        actor,
        ("customer", customer.id),
        "identity.added",
        after={
            "identity_id": identity.id,
            "kind": sender.kind,
            "value": value,
            "verified": sender.verified,
        },
    )
    return identity


def _customer_with_verified_match(
    session: Session, workspace_id: int, sender: Sender, value: str
) -> Customer | None:
    """A verified sender joins the customer who owns the same verified email or phone.

    Both sides must be verified: a visitor who merely types someone's address must not be
    let into that person's history (such cases become suggestions, never automatic links).
    """
    kinds = linkable_kinds(sender.kind)
    if not sender.verified or not kinds:
        return None
    match = session.scalar(
        select(Identity)
        .where(
            Identity.workspace_id == workspace_id,
            Identity.kind.in_(kinds),
            Identity.value == value,
            Identity.verified.is_(True),
        )
        .order_by(Identity.id)
        .limit(1)
    )
    return None if match is None else live_customer(session, match.customer)


def _refresh_identity(identity: Identity, customer: Customer, sender: Sender) -> None:
    if sender.verified and not identity.verified:
        identity.verified = True
    if sender.name and not identity.display_name:
        identity.display_name = sender.name
    if sender.name and not customer.name:
        customer.name = sender.name
