"""Orders and purchases: ``/customers/{id}/orders`` one at a time, ``/orders:batch`` to import
(each order answered for itself), ``/orders/{number}`` to look one up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from filrouge.core.access import access_customer_by_id
from filrouge.core.actions.orders import (
    CustomerRef,
    OrderData,
    OrderLine,
    OrderOutcome,
    find_order,
    import_orders,
    live_customer,
    record_order,
)
from filrouge.core.audit import Actor
from filrouge.core.errors import NotFound
from filrouge.core.models import User
from filrouge.core.queries import customer_orders
from filrouge.db import transaction
from filrouge.i18n import negotiate_locale
from filrouge.web.api.present import order_public
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep
from filrouge.web.schemas import (
    ErrorPublic,
    IdPath,
    OrderBatch,
    OrderBatchItem,
    OrderBatchResult,
    OrderCreate,
    OrderImport,
    OrderPublic,
)

router = APIRouter(tags=["orders"])
NumberPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/customers/{customer_id}/orders", response_model=list[OrderPublic])
def get_customer_orders(
    customer_id: IdPath, factory: FactoryDep, user: Annotated[User, Allowed("orders:read")]
) -> list[OrderPublic]:
    """The customer's orders, newest first (a merged customer's are the live customer's)."""
    with transaction(factory) as session:
        customer = live_customer(session, access_customer_by_id(session, user, customer_id))
        return [order_public(order) for order in customer_orders(session, customer.id)]


@router.post("/customers/{customer_id}/orders", status_code=201, response_model=OrderPublic)
def post_customer_order(
    customer_id: IdPath,
    body: OrderCreate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("orders:create")],
) -> OrderPublic:
    """Record one order; a number already on record is refused (409): import to update."""
    with transaction(factory) as session:
        customer = live_customer(session, access_customer_by_id(session, user, customer_id))
        outcome = record_order(session, customer, order_data(body), Actor.user(user.id))
        assert outcome.order is not None
        session.flush()
        return order_public(outcome.order)


@router.post("/orders:batch", response_model=OrderBatchResult)
def post_orders_batch(
    body: OrderBatch,
    request: Request,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("orders:import")],
) -> OrderBatchResult:
    """Up to 1,000 orders: new numbers are created, known ones brought up to date, and each
    refusal (unknown customer, bad amount, a number twice) is reported without undoing the
    others."""
    items = [(customer_ref(item), order_data(item)) for item in body.items]
    locale = negotiate_locale(request.headers.get("accept-language"))
    with transaction(factory) as session:
        outcomes = import_orders(
            session, user.workspace_id, items, settings.default_region, Actor.user(user.id)
        )
        session.flush()
        return OrderBatchResult(items=[batch_item(outcome, locale) for outcome in outcomes])


@router.get("/orders/{number}", response_model=OrderPublic)
def get_order(
    number: NumberPath, factory: FactoryDep, user: Annotated[User, Allowed("orders:read")]
) -> OrderPublic:
    with transaction(factory) as session:
        order = find_order(session, user.workspace_id, number)
        if order is None:
            raise NotFound("order_not_found", "There is no order {number}.", number=number)
        access_customer_by_id(session, user, order.customer_id)  # contributors' scope
        return order_public(order)


def order_data(body: OrderCreate) -> OrderData:
    return OrderData(
        number=body.number,
        ordered_at=body.ordered_at,
        amount=body.amount,
        currency=body.currency,
        channel=body.channel,
        store=body.store,
        status=body.status,
        items=[OrderLine(i.name, i.quantity, i.sku, i.unit_price) for i in body.items],
    )


def customer_ref(item: OrderImport) -> CustomerRef:
    return CustomerRef(
        item.customer_id, item.customer_email, item.customer_phone, item.customer_name
    )


def batch_item(outcome: OrderOutcome, locale: str) -> OrderBatchItem:
    if outcome.error is not None:
        error = outcome.error
        return OrderBatchItem(
            number=outcome.number,
            result="refused",
            error=ErrorPublic(code=error.code, message=error.message_in(locale), field=error.field),
        )
    assert outcome.order is not None
    return OrderBatchItem(
        number=outcome.number,
        result=outcome.result,
        order=order_public(outcome.order),
    )
