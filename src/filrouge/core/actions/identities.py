"""Finding the customer behind a sender: by identity, then by verified email or phone."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, select
from sqlalchemy.orm import Session

from filrouge.channels.base import Sender
from filrouge.core.actions import inbound_sql as sql
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid
from filrouge.core.identity import linkable_kinds, normalise_identity
from filrouge.core.models import Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedSender:
    identity_id: int
    customer_id: int
    # False when the sender's verification differs from the identity's: someone unverified
    # writing as a verified customer (or the reverse) is kept out of existing threads.
    trusted: bool = True


def resolve_sender(
    session: Session, workspace_id: int, sender: Sender, region: str, actor: Actor
) -> ResolvedSender:
    """Return the identity and customer for ``sender``, creating them when nobody matches."""
    conn = session.connection()
    value = normalise_identity(sender.kind, sender.value, region)
    row = conn.execute(
        sql.IDENTITY, {"workspace_id": workspace_id, "kind": sender.kind, "value": value}
    ).first()
    if row is not None:
        customer_id = live_customer_id(conn, row.customer_id, row.merged_into_id)
        _refresh_identity(conn, row, customer_id, sender)
        return ResolvedSender(row.id, customer_id, trusted=row.verified == sender.verified)
    owner_id = _verified_owner(conn, workspace_id, sender, value)
    if owner_id is None:
        owner_id = create_customer(session, workspace_id, sender.name, actor)
    return ResolvedSender(
        add_identity(session, workspace_id, owner_id, sender, value, actor), owner_id
    )


def add_sender_aliases(
    session: Session,
    workspace_id: int,
    customer_id: int,
    aliases: Iterable[Sender],
    region: str,
    actor: Actor,
) -> None:
    """Identities the provider proves are the sender's too (WhatsApp: the new number after a
    number change) join the sender's customer, unless someone holds them already: two
    customers are merged by a person, never silently."""
    conn = session.connection()
    for alias in aliases:
        try:
            value = normalise_identity(alias.kind, alias.value, region)
        except Invalid:
            log.warning("a %s alias of a sender is not a valid identity", alias.kind)
            continue
        known = conn.execute(
            sql.IDENTITY, {"workspace_id": workspace_id, "kind": alias.kind, "value": value}
        ).first()
        if known is None:
            add_identity(session, workspace_id, customer_id, alias, value, actor)


def find_identity(session: Session, workspace_id: int, kind: str, value: str) -> Identity | None:
    return session.scalar(
        select(Identity).where(
            Identity.workspace_id == workspace_id, Identity.kind == kind, Identity.value == value
        )
    )


def live_customer_id(conn: Connection, customer_id: int, merged_into_id: int | None) -> int:
    """Follow merge tombstones to the customer that now holds the history."""
    seen = {customer_id}
    while merged_into_id is not None and merged_into_id not in seen:
        seen.add(merged_into_id)
        customer_id = merged_into_id
        merged_into_id = conn.execute(sql.MERGED_INTO, {"customer_id": customer_id}).scalar()
    return customer_id


def create_customer(
    session: Session,
    workspace_id: int,
    name: str | None,
    actor: Actor,
    attributes: dict[str, Any] | None = None,
) -> int:
    customer_id: int = (
        session.connection()
        .execute(
            sql.INSERT_CUSTOMER,
            {"workspace_id": workspace_id, "name": name, "attributes": attributes or {}},
        )
        .scalar_one()
    )
    record_event(
        session,
        workspace_id,
        actor,
        ("customer", customer_id),
        "customer.created",
        after={"name": name},
    )
    return customer_id


def add_identity(
    session: Session,
    workspace_id: int,
    customer_id: int,
    sender: Sender,
    value: str,
    actor: Actor,
) -> int:
    identity_id: int = (
        session.connection()
        .execute(
            sql.INSERT_IDENTITY,
            {
                "workspace_id": workspace_id,
                "customer_id": customer_id,
                "kind": sender.kind,
                "value": value,
                "display_name": sender.name,
                "verified": sender.verified,
                "attributes": dict(sender.attributes) or None,
            },
        )
        .scalar_one()
    )
    record_event(
        session,
        workspace_id,
        actor,
        ("customer", customer_id),
        "identity.added",
        after={
            "identity_id": identity_id,
            "kind": sender.kind,
            "value": value,
            "verified": sender.verified,
        },
    )
    return identity_id


def _verified_owner(conn: Connection, workspace_id: int, sender: Sender, value: str) -> int | None:
    """A verified sender joins the customer who owns the same verified email or phone.

    Both sides must be verified: a visitor who merely types someone's address must not be
    let into that person's history (such cases become suggestions, never automatic links).
    """
    kinds = linkable_kinds(sender.kind)
    if not sender.verified or not kinds:
        return None
    owner = conn.execute(
        sql.VERIFIED_OWNER,
        {"workspace_id": workspace_id, "kinds": sorted(kinds), "value": value},
    ).scalar()
    return None if owner is None else live_customer_id(conn, owner, _merged_into(conn, owner))


def _merged_into(conn: Connection, customer_id: int) -> int | None:
    return conn.execute(sql.MERGED_INTO, {"customer_id": customer_id}).scalar()


def _refresh_identity(conn: Connection, row: Row[Any], customer_id: int, sender: Sender) -> None:
    verified = row.verified or sender.verified
    display_name = row.display_name or sender.name
    attributes = {**(row.attributes or {}), **sender.attributes} or None
    if (verified, display_name, attributes) != (row.verified, row.display_name, row.attributes):
        conn.execute(
            sql.REFRESH_IDENTITY,
            {
                "identity_id": row.id,
                "verified": verified,
                "display_name": display_name,
                "attributes": attributes,
            },
        )
    if sender.name and not row.customer_name:
        conn.execute(sql.NAME_CUSTOMER, {"customer_id": customer_id, "name": sender.name})
