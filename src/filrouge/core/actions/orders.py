"""Orders and purchases: recorded one by one, or imported in batches where each order is
answered for itself (created, updated, unchanged or refused) and a refusal never undoes the
others."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.base import Sender
from filrouge.core.actions.identities import (
    add_identity,
    create_customer,
    find_identity,
    live_customer_id,
)
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, DomainError, Invalid, NotFound, check_choice
from filrouge.core.identity import normalise_identity
from filrouge.core.models import Customer, Order
from filrouge.core.models.enums import IdentityKind, OrderChannel, OrderStatus
from filrouge.lib.timeutil import as_utc

CURRENCIES = frozenset(list_currencies())
# What a change of an order compares, and what its event records before and after.
TRACKED = ("ordered_at", "amount_minor", "currency", "channel", "store", "status", "items")


@dataclass(frozen=True)
class OrderLine:
    name: str
    quantity: int = 1
    sku: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class OrderData:
    number: str
    ordered_at: datetime
    amount: Decimal
    currency: str = "EUR"
    channel: str = OrderChannel.WEB
    store: str | None = None
    status: str = OrderStatus.PLACED
    items: list[OrderLine] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerRef:
    """Whose order it is: a customer id, else an email or a phone number (a customer with
    that identity, created with ``name`` when nobody has it)."""

    customer_id: int | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class OrderOutcome:
    number: str
    result: str  # created, updated, unchanged, refused
    order: Order | None = None
    error: DomainError | None = None


def number_key(number: str) -> str:
    """How an order number is matched, in a message or a later import: case and spaces aside."""
    return "".join(number.split()).upper()


def record_order(
    session: Session,
    customer: Customer,
    data: OrderData,
    actor: Actor,
    *,
    replace: bool = False,
) -> OrderOutcome:
    """Store ``data`` for ``customer``. An order with the same number is refused (409), or
    brought up to date when ``replace``; it is never moved to another customer."""
    values = _checked_values(data)
    existing = find_order(session, customer.workspace_id, data.number)
    if existing is None:
        return OrderOutcome(data.number, "created", _create(session, customer, data, values, actor))
    _check_same_customer(session, existing, customer)
    if not replace:
        raise Conflict(
            "order_exists", "Order {number} already exists.", field="number", number=data.number
        )
    return _update(session, existing, values, actor)


def import_orders(
    session: Session,
    workspace_id: int,
    items: list[tuple[CustomerRef, OrderData]],
    region: str,
    actor: Actor,
) -> list[OrderOutcome]:
    """Record each order in its own savepoint: existing ones are brought up to date, a refused
    one is reported with its reason and the others are kept."""
    outcomes: list[OrderOutcome] = []
    seen: dict[str, int] = {}
    for position, (ref, data) in enumerate(items):
        key = number_key(data.number)
        if key in seen:
            error = Invalid(
                "order_repeated",
                "Order {number} appears twice in this import (item {first}).",
                field="number",
                number=data.number,
                first=seen[key] + 1,
            )
            outcomes.append(OrderOutcome(data.number, "refused", error=error))
            continue
        seen[key] = position
        outcomes.append(_import_one(session, workspace_id, ref, data, region, actor))
    return outcomes


def _import_one(
    session: Session,
    workspace_id: int,
    ref: CustomerRef,
    data: OrderData,
    region: str,
    actor: Actor,
) -> OrderOutcome:
    try:
        with session.begin_nested():
            customer = customer_of(session, workspace_id, ref, region, actor)
            return record_order(session, customer, data, actor, replace=True)
    except DomainError as error:
        return OrderOutcome(data.number, "refused", error=error)


def customer_of(
    session: Session, workspace_id: int, ref: CustomerRef, region: str, actor: Actor
) -> Customer:
    if ref.customer_id is not None:
        customer = session.get(Customer, ref.customer_id)
        if customer is None or customer.workspace_id != workspace_id:
            raise NotFound("customer_not_found", "There is no customer {id}.", id=ref.customer_id)
        return live_customer(session, customer)
    senders = [
        Sender(kind, value, ref.name)
        for kind, value in ((IdentityKind.EMAIL, ref.email), (IdentityKind.PHONE, ref.phone))
        if value
    ]
    if not senders:
        raise Invalid(
            "order_without_customer",
            "Say whose order it is: a customer id, an email or a phone number.",
            field="customer",
        )
    return _customer_with_identities(session, workspace_id, senders, ref.name, region, actor)


def live_customer(session: Session, customer: Customer) -> Customer:
    """Follow merge tombstones to the customer that now holds the history."""
    if customer.merged_into_id is None:
        return customer
    live_id = live_customer_id(session.connection(), customer.id, customer.merged_into_id)
    return session.get_one(Customer, live_id)


def find_order(session: Session, workspace_id: int, number: str) -> Order | None:
    """The order of that number in the workspace, case and spaces aside."""
    return session.scalar(
        select(Order).where(
            Order.workspace_id == workspace_id, Order.number_key == number_key(number)
        )
    )


def _customer_with_identities(
    session: Session,
    workspace_id: int,
    senders: list[Sender],
    name: str | None,
    region: str,
    actor: Actor,
) -> Customer:
    normalised = [(s, normalise_identity(s.kind, s.value, region)) for s in senders]
    for sender, value in normalised:
        identity = find_identity(session, workspace_id, sender.kind, value)
        if identity is not None:
            return live_customer(session, session.get_one(Customer, identity.customer_id))
    customer_id = create_customer(session, workspace_id, name, actor, {})
    for sender, value in normalised:
        add_identity(session, workspace_id, customer_id, sender, value, actor)
    return session.get_one(Customer, customer_id)


def _checked_values(data: OrderData) -> dict[str, Any]:
    number = data.number.strip()
    if not number or len(number) > 64 or any(not c.isprintable() for c in number):
        raise Invalid(
            "invalid_order_number",
            "An order number has 1 to 64 printable characters.",
            field="number",
        )
    currency = data.currency.upper()
    if currency not in CURRENCIES:
        raise Invalid(
            "invalid_currency", "{value} is not a currency code.", field="currency", value=currency
        )
    check_choice(data.channel, OrderChannel, "channel")
    check_choice(data.status, OrderStatus, "status")
    return {
        "ordered_at": as_utc(data.ordered_at),
        "amount_minor": to_minor_units(data.amount, currency, "amount"),
        "currency": currency,
        "channel": str(data.channel),
        "store": data.store or None,
        "status": str(data.status),
        "items": [_line_json(line, currency) for line in data.items],
    }


def to_minor_units(amount: Decimal, currency: str, field_name: str) -> int:
    """89.90 EUR → 8990; refuse more decimals than the currency has, or a negative amount."""
    try:
        minor = amount.scaleb(get_currency_precision(currency))
        exact = minor == minor.to_integral_value()
    except (InvalidOperation, ValueError):
        exact = False
    if not exact or amount < 0 or not amount.is_finite():
        raise Invalid(
            "invalid_amount",
            "{value} is not an amount in {currency}.",
            field=field_name,
            value=str(amount),
            currency=currency,
        )
    return int(minor)


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-get_currency_precision(currency))


def _line_json(line: OrderLine, currency: str) -> dict[str, Any]:
    if not line.name.strip() or line.quantity < 1:
        raise Invalid(
            "invalid_order_item",
            "Each item needs a name and a quantity of at least 1.",
            field="items",
        )
    price = line.unit_price
    return {
        "sku": line.sku or None,
        "name": line.name.strip(),
        "quantity": line.quantity,
        "unit_price_minor": None if price is None else to_minor_units(price, currency, "items"),
    }


def _create(
    session: Session, customer: Customer, data: OrderData, values: dict[str, Any], actor: Actor
) -> Order:
    order = Order(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        number=data.number.strip(),
        number_key=number_key(data.number),
        **values,
    )
    session.add(order)
    session.flush()
    record_event(
        session,
        customer.workspace_id,
        actor,
        ("customer", customer.id),
        "order.created",
        after={"order_id": order.id, "number": order.number, "status": order.status},
    )
    return order


def _update(session: Session, order: Order, values: dict[str, Any], actor: Actor) -> OrderOutcome:
    before = {name: _comparable(getattr(order, name)) for name in TRACKED}
    after = {name: _comparable(values[name]) for name in TRACKED}
    if before == after:
        return OrderOutcome(order.number, "unchanged", order)
    for name in TRACKED:
        setattr(order, name, values[name])
    changed = [name for name in TRACKED if before[name] != after[name]]
    record_event(
        session,
        order.workspace_id,
        actor,
        ("customer", order.customer_id),
        "order.updated",
        before={"order_id": order.id, **{name: before[name] for name in changed}},
        after={"order_id": order.id, "number": order.number, **{n: after[n] for n in changed}},
    )
    return OrderOutcome(order.number, "updated", order)


def _comparable(value: Any) -> Any:
    return as_utc(value).isoformat() if isinstance(value, datetime) else value


def _check_same_customer(session: Session, order: Order, customer: Customer) -> None:
    owner = live_customer(session, session.get_one(Customer, order.customer_id))
    if owner.id != customer.id:
        raise Conflict(
            "order_of_another_customer",
            "Order {number} belongs to another customer.",
            field="number",
            number=order.number,
        )
