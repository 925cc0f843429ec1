"""``/api/v1/customers``: one customer, every identity, the whole cross-channel timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from filrouge.channels.base import Sender
from filrouge.core.access import access_conversation_by_id, access_customer_by_id
from filrouge.core.actions.concierge import CustomerFilter, assign_owner_in_bulk, set_owner
from filrouge.core.actions.contacts import ContactLog, log_contact
from filrouge.core.actions.customers import (
    create_customer_with_identities,
    merge_customers,
    update_customer,
)
from filrouge.core.actions.segments import segment_filter
from filrouge.core.actions.unmerge import unmerge_customers
from filrouge.core.audit import Actor
from filrouge.core.errors import Invalid
from filrouge.core.models import Customer, Message, User
from filrouge.core.queries import (
    count_customers,
    customer_conversations,
    customer_orders,
    customer_timeline,
    list_customers,
)
from filrouge.db import transaction
from filrouge.web.api.present import (
    authors_of,
    conversation_public,
    customer_public,
    load_owners,
    message_public,
    order_public,
    timeline_entry,
)
from filrouge.web.deps import Allowed, FactoryDep, SettingsDep, require_role
from filrouge.web.schemas import (
    ContactCreate,
    CustomerCreate,
    CustomerDetail,
    CustomerPagePublic,
    CustomerPublic,
    CustomerUpdate,
    IdPath,
    IdQuery,
    MergeRequest,
    MessagePublic,
    OwnerAssigned,
    OwnerAssignment,
    TextQuery,
)

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("", response_model=CustomerPagePublic)
def get_customers(
    factory: FactoryDep,
    user: Annotated[User, Allowed("customers:list")],
    q: TextQuery = None,
    cursor: TextQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    segment: IdQuery = None,
) -> CustomerPagePublic:
    """With ``segment``: the segment's members, and ``count``, how many there are in all."""
    with transaction(factory) as session:
        members = segment_filter(session, user, segment)
        page = list_customers(session, user, limit, cursor, q, members)
        load_owners(session, page.items)
        count = None if members is None else count_customers(session, user, members)
        return CustomerPagePublic(
            items=[customer_public(c) for c in page.items],
            next_cursor=page.next_cursor,
            count=count,
        )


@router.post("", status_code=201, response_model=CustomerPublic)
def post_customer(
    body: CustomerCreate,
    factory: FactoryDep,
    settings: SettingsDep,
    user: Annotated[User, Allowed("customers:create")],
) -> CustomerPublic:
    senders = [Sender(i.kind, i.value, i.name, i.verified) for i in body.identities]
    with transaction(factory) as session:
        customer = create_customer_with_identities(
            session,
            user.workspace_id,
            body.name,
            senders,
            body.attributes,
            settings.default_region,
            Actor.user(user.id),
        )
        session.flush()
        session.refresh(customer, ["identities"])
        return customer_public(customer)


@router.get(
    "/{customer_id}",
    response_model=CustomerDetail,
    responses={301: {"description": "Merged: the Location header names the live customer."}},
)
def get_customer(
    customer_id: IdPath, factory: FactoryDep, user: Annotated[User, Allowed("customers:read")]
) -> CustomerDetail | JSONResponse:
    with transaction(factory) as session:
        customer = access_customer_by_id(session, user, customer_id)
        if customer.merged_into_id is not None:
            return _redirect_to_live(customer)
        return customer_detail(session, user, customer)


@router.patch("/{customer_id}", response_model=CustomerPublic)
def patch_customer(
    customer_id: IdPath,
    body: CustomerUpdate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("customers:update")],
) -> CustomerPublic:
    """Change the name, attributes (null removes one) or, for supervisors and admins, the
    concierge (``owner_id``, null for none)."""
    if "owner_id" in body.model_fields_set:
        require_role(user, "customers:assign_owner")
    with transaction(factory) as session:
        customer = _live(access_customer_by_id(session, user, customer_id))
        update_customer(session, customer, body.name, body.attributes, Actor.user(user.id))
        if "owner_id" in body.model_fields_set:
            set_owner(session, customer, body.owner_id, Actor.user(user.id))
            session.flush()
            session.refresh(customer, ["owner"])
        return customer_public(customer)


@router.post(":assign-owner", response_model=OwnerAssigned)
def post_assign_owner(
    body: OwnerAssignment,
    factory: FactoryDep,
    user: Annotated[User, Allowed("customers:assign_owner")],
) -> OwnerAssigned:
    """Give one concierge (``owner_id``; null: none) to up to 10,000 customers, named by
    ``customer_ids`` or chosen by ``filter`` (``q``, ``attribute`` and ``value``); answers how
    many changed. Each customer's log records its change."""
    where = None
    if body.filter is not None:
        where = CustomerFilter(body.filter.q, body.filter.attribute, body.filter.value)
    with transaction(factory) as session:
        assigned = assign_owner_in_bulk(session, user, body.owner_id, body.customer_ids, where)
    return OwnerAssigned(assigned=assigned)


@router.post("/{customer_id}/contacts", status_code=201, response_model=MessagePublic)
def post_contact(
    customer_id: IdPath,
    body: ContactCreate,
    factory: FactoryDep,
    user: Annotated[User, Allowed("contacts:log")],
) -> MessagePublic:
    """Log a phone call, a store visit or a letter on the customer's history."""
    with transaction(factory) as session:
        customer = _live(access_customer_by_id(session, user, customer_id))
        conversation = None
        if body.conversation_id is not None:
            conversation = access_conversation_by_id(session, user, body.conversation_id)
            if conversation.customer_id != customer.id:
                raise Invalid(
                    "not_this_customer",
                    "Conversation {id} is not this customer's.",
                    field="conversation_id",
                    id=body.conversation_id,
                )
        entry = ContactLog(
            channel_id=body.channel_id,
            direction=body.direction,
            summary=body.summary,
            occurred_at=body.occurred_at,
            duration_minutes=body.duration_minutes,
            store=body.store,
            outcome=body.outcome,
        )
        message = log_contact(session, customer, user, entry, conversation)
        return message_public(message, {user.id: user})


@router.post("/{customer_id}/merge", response_model=CustomerPublic)
def post_merge(
    customer_id: IdPath,
    body: MergeRequest,
    factory: FactoryDep,
    user: Annotated[User, Allowed("customers:merge")],
) -> CustomerPublic:
    with transaction(factory) as session:
        target = access_customer_by_id(session, user, customer_id)
        if body.other_id == customer_id:
            other = target
        else:
            other = access_customer_by_id(session, user, body.other_id)
        merged = merge_customers(session, target, other, Actor.user(user.id))
        session.flush()
        session.refresh(merged, ["identities"])
        return customer_public(merged)


@router.post("/{customer_id}/unmerge", response_model=CustomerPublic)
def post_unmerge(
    customer_id: IdPath,
    body: MergeRequest,
    factory: FactoryDep,
    user: Annotated[User, Allowed("customers:merge")],
) -> CustomerPublic:
    """Undo the merge of ``other_id`` into this customer: what the merge moved goes back
    (identities, conversations, orders, attributes filled in); answers the customer restored."""
    with transaction(factory) as session:
        target = access_customer_by_id(session, user, customer_id)
        other = access_customer_by_id(session, user, body.other_id)
        restored = unmerge_customers(session, target, other, Actor.user(user.id))
        session.flush()
        session.refresh(restored, ["identities"])
        return customer_public(restored)


def customer_detail(session: Session, user: User, customer: Customer) -> CustomerDetail:
    entries = customer_timeline(session, user, customer.id)
    messages = [item for kind, item in entries if isinstance(item, Message)]
    authors = authors_of(session, messages)
    return CustomerDetail(
        **customer_public(customer).model_dump(),
        conversations=[
            conversation_public(c) for c in customer_conversations(session, user, customer.id)
        ],
        orders=[order_public(order) for order in customer_orders(session, customer.id)],
        timeline=[timeline_entry(kind, item, authors) for kind, item in entries],
    )


def _live(customer: Customer) -> Customer:
    if customer.merged_into_id is not None:
        raise Invalid(
            "customer_merged",
            "Customer {id} was merged into customer {target}.",
            id=customer.id,
            target=customer.merged_into_id,
        )
    return customer


def _redirect_to_live(customer: Customer) -> JSONResponse:
    target = customer.merged_into_id
    return JSONResponse(
        {"merged_into_id": target, "location": f"/api/v1/customers/{target}"},
        status_code=301,
        headers={"Location": f"/api/v1/customers/{target}"},
    )
