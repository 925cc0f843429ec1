"""The concierge: the agent a customer's new conversations go to first (routing.py).

Supervisors and admins give a customer an owner, take it away, or give one owner many customers
at once (by ids or by the customer list's filters). Only active admins, supervisors and agents
can be owners. Every change is an event on the customer (``owner_assigned`` /
``owner_cleared``, with the owner before and after): a bulk assignment writes one per customer
that changed, all in the transaction's one insert, so that each customer's log stays true.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from filrouge.core.access import customer_scope
from filrouge.core.actions.erasure import is_erased
from filrouge.core.actions.notifications import notify
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, Invalid, NotFound
from filrouge.core.models import Customer, User
from filrouge.core.presence import ANSWERING_ROLES
from filrouge.core.queries import customer_matches_text

MAX_BULK = 10_000
_CHUNK = 500
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class CustomerFilter:
    """The customer list's filters: a text to find, an attribute equal to a value."""

    q: str | None = None
    attribute: str | None = None
    value: Any = None


def check_owner(session: Session, workspace_id: int, owner_id: int) -> User:
    """An admin, supervisor or agent of the workspace, active (404 unknown, 422 not one)."""
    owner = session.get(User, owner_id)
    if owner is None or owner.workspace_id != workspace_id:
        raise NotFound("unknown_owner", "There is no user {id}.", field="owner_id", id=owner_id)
    if not owner.active or owner.role not in ANSWERING_ROLES:
        raise Invalid(
            "owner_not_eligible",
            "{name} cannot be a concierge: only active agents, supervisors and admins can.",
            field="owner_id",
            name=owner.name,
        )
    return owner


def set_owner(session: Session, customer: Customer, owner_id: int | None, actor: Actor) -> bool:
    """Give ``customer`` an owner (``None``: none); True when it changed."""
    if is_erased(customer) and owner_id is not None:
        raise Conflict(
            "customer_erased", "Customer {id} was erased: it has no concierge.", id=customer.id
        )
    if owner_id is not None:
        check_owner(session, customer.workspace_id, owner_id)
    before = customer.owner_id
    if before == owner_id:
        return False
    customer.owner_id = owner_id
    _record_change(session, customer.workspace_id, customer.id, before, owner_id, actor)
    _tell_owners(session, [(customer.id, before)], owner_id)
    return True


def assign_owner_in_bulk(
    session: Session,
    user: User,
    owner_id: int | None,
    customer_ids: Sequence[int] | None = None,
    where: CustomerFilter | None = None,
) -> int:
    """Give ``owner_id`` (or no one) to the live customers named or matching ``where``, among
    those ``user`` may see; answers how many changed."""
    if owner_id is not None:
        check_owner(session, user.workspace_id, owner_id)
    chosen = _chosen(session, user, customer_ids, where)
    changing = [
        (row.id, row.owner_id)
        for ids in _chunks(chosen)
        for row in session.execute(
            select(Customer.id, Customer.owner_id).where(
                Customer.id.in_(ids), Customer.owner_id.is_distinct_from(owner_id)
            )
        )
    ]
    for ids in _chunks([customer_id for customer_id, _ in changing]):
        session.execute(
            update(Customer).where(Customer.id.in_(ids)).values(owner_id=owner_id),
            execution_options={"synchronize_session": False},
        )
    actor = Actor.user(user.id)
    for customer_id, before in changing:
        _record_change(session, user.workspace_id, customer_id, before, owner_id, actor, bulk=True)
    _tell_owners(session, changing, owner_id)
    return len(changing)


def _chosen(
    session: Session, user: User, ids: Sequence[int] | None, where: CustomerFilter | None
) -> list[int]:
    if (ids is None) == (where is None):
        raise Invalid(
            "customers_or_filter", "Name the customers or give a filter, not both.", field="filter"
        )
    query = select(Customer.id).where(customer_scope(user), Customer.merged_into_id.is_(None))
    if ids is not None:
        wanted = sorted(set(ids))
        _check_count(len(wanted))
        return [
            i
            for chunk in _chunks(wanted)
            for i in session.scalars(query.where(Customer.id.in_(chunk)))
        ]
    assert where is not None
    if not (where.q or "").strip() and where.attribute is None:
        raise Invalid(
            "empty_filter",
            "Give a text or an attribute to choose the customers.",
            field="filter",
        )
    found = list(session.scalars(_filtered(session, query, where).limit(MAX_BULK + 1)))
    _check_count(len(found))
    return found


def _check_count(count: int) -> None:
    if count > MAX_BULK:
        raise Invalid(
            "too_many_customers",
            "At most {max} customers at once: narrow the filter.",
            field="customer_ids",
            max=MAX_BULK,
        )


def _filtered(session: Session, query: Select[Any], where: CustomerFilter) -> Select[Any]:
    if where.q and where.q.strip():
        query = query.where(customer_matches_text(where.q))
    if where.attribute is not None:
        dialect = session.get_bind().dialect.name
        query = query.where(attribute_equals(dialect, where.attribute, where.value))
    return query


def attribute_equals(dialect: str, key: str, value: Any) -> ColumnElement[bool]:
    """``customers.attributes[key] == value`` for a text, number or true/false value."""
    if not key or len(key) > 64 or '"' in key or "\\" in key:
        raise Invalid(
            "invalid_attribute", "{key} is not an attribute name.", field="attribute", key=key
        )
    if not isinstance(value, _SCALARS):
        raise Invalid(
            "invalid_attribute_value",
            "An attribute is compared with a text, a number, true or false.",
            field="value",
        )
    if dialect == "postgresql":
        return type_coerce(Customer.attributes, JSONB).contains(
            json.loads(json.dumps({key: value}))
        )
    path = f'$."{key}"'
    if isinstance(value, bool):
        return func.json_type(Customer.attributes, path) == ("true" if value else "false")
    return func.json_extract(Customer.attributes, path) == value


def _record_change(
    session: Session,
    workspace_id: int,
    customer_id: int,
    before: int | None,
    after: int | None,
    actor: Actor,
    bulk: bool = False,
) -> None:
    record_event(
        session,
        workspace_id,
        actor,
        ("customer", customer_id),
        "owner_assigned" if after is not None else "owner_cleared",
        before={"owner_id": before},
        after={"owner_id": after, **({"bulk": True} if bulk else {})},
    )


def _tell_owners(
    session: Session, changes: list[tuple[int, int | None]], owner_id: int | None
) -> None:
    """The new owner hears of their customers (one notification for many); a former owner
    of one customer hears they no longer have it."""
    if owner_id is not None and len(changes) == 1:
        notify(session, owner_id, "concierge.owner_assigned", customer_id=changes[0][0])
    elif owner_id is not None and changes:
        notify(session, owner_id, "concierge.owner_assigned_many", payload={"count": len(changes)})
    if len(changes) == 1 and changes[0][1] is not None:
        notify(session, changes[0][1], "concierge.owner_cleared", customer_id=changes[0][0])


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])
