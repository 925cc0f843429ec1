"""ORM objects to API shapes. No queries here beyond what callers already loaded."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.registry import RECEIVERS
from filrouge.core.actions.channels import redact_settings
from filrouge.core.actions.orders import from_minor_units
from filrouge.core.models import (
    CallbackRequest,
    ChannelAccount,
    Conversation,
    Customer,
    Event,
    Message,
    Order,
    Survey,
    User,
)
from filrouge.core.models.enums import Direction
from filrouge.core.queries import Thread
from filrouge.core.segments import customer_reach
from filrouge.web.schemas import (
    AttachmentPublic,
    CallbackPublic,
    ChannelPublic,
    ChannelSwitchPublic,
    ConversationPublic,
    CustomerPublic,
    IdentityPublic,
    MessagePublic,
    OrderItemPublic,
    OrderPublic,
    OwnerPublic,
    SurveyPublic,
    TimelineEntry,
    TriagePublic,
)


def channel_public(channel: ChannelAccount, with_settings: bool) -> ChannelPublic:
    """Settings (redacted even so) are shown to admins only: they describe integrations."""
    return ChannelPublic(
        id=channel.id,
        kind=channel.kind,
        name=channel.name,
        settings=redact_settings(channel.settings or {}) if with_settings else {},
        active=channel.active,
        created_at=channel.created_at,
        needs_reconnection=channel.needs_reconnection_at is not None,
        reconnection_reason=channel.reconnection_reason,
        webhook_path=f"/hooks/{channel.kind}/{channel.id}" if channel.kind in RECEIVERS else None,
    )


def message_public(message: Message, authors: dict[int, User]) -> MessagePublic:
    author = authors.get(message.author_id) if message.author_id else None
    return MessagePublic(
        id=message.id,
        conversation_id=message.conversation_id,
        direction=message.direction,
        channel_id=message.channel_id,
        text=message.text,
        html=message.html,
        attachments=[
            AttachmentPublic(
                id=a.id, filename=a.filename, content_type=a.content_type, size=a.size, url=a.url
            )
            for a in message.attachments
        ],
        status=message.status,
        visibility=message.visibility,
        author=None if author is None else {"id": author.id, "name": author.name},
        signed_by_id=message.signed_by_id,
        provider_message_id=message.provider_message_id,
        in_reply_to_id=message.in_reply_to_id,
        error=message.error,
        flag=message.flag,
        details=message.details,
        triage=triage_public(message),
        created_at=message.occurred_at,
    )


def triage_public(message: Message) -> TriagePublic | None:
    """Only a customer's message has one (the relation is read for inbound messages only)."""
    if message.direction != Direction.INBOUND or message.triage is None:
        return None
    return TriagePublic.model_validate(message.triage.as_dict())


def authors_of(session: Session, messages: list[Message]) -> dict[int, User]:
    ids = {m.author_id for m in messages if m.author_id is not None}
    return {user.id: user for user in (session.get(User, i) for i in ids) if user is not None}


def conversation_public(conversation: Conversation) -> ConversationPublic:
    return ConversationPublic(
        id=conversation.id,
        customer_id=conversation.customer_id,
        status=conversation.status,
        channel_id=conversation.channel_id,
        origin_channel_id=conversation.origin_channel_id,
        assignee_id=conversation.assignee_id,
        team_id=conversation.team_id,
        priority=conversation.priority,
        tags=conversation.tags,
        visibility=conversation.visibility,
        subject=conversation.subject,
        first_inbound_at=conversation.first_inbound_at,
        first_response_at=conversation.first_response_at,
        last_activity_at=conversation.last_activity_at,
        resolved_at=conversation.resolved_at,
        created_at=conversation.created_at,
        linked_conversation_id=conversation.linked_conversation_id,
    )


def switches_public(thread: Thread) -> list[ChannelSwitchPublic]:
    return [
        ChannelSwitchPublic(
            at=event.occurred_at,
            from_channel_id=(event.before or {}).get("channel_id"),
            to_channel_id=(event.after or {}).get("channel_id"),
            message_id=(event.after or {}).get("message_id"),
        )
        for event in thread.switches
    ]


def load_owners(session: Session, customers: list[Customer]) -> None:
    """The concierges of a page of customers, read in one query (then ``owner`` is free)."""
    ids = {c.owner_id for c in customers if c.owner_id is not None}
    if ids:
        list(session.scalars(select(User).where(User.id.in_(ids))))


def customer_public(customer: Customer) -> CustomerPublic:
    return CustomerPublic(
        id=customer.id,
        name=customer.name,
        identities=[
            IdentityPublic(
                kind=i.kind,
                value=i.value,
                display_name=i.display_name,
                verified=i.verified,
                attributes=i.attributes or {},
            )
            for i in customer.identities
        ],
        attributes=customer.attributes or {},
        reach=customer_reach(customer),
        created_at=customer.created_at,
        owner=None
        if customer.owner is None
        else OwnerPublic(id=customer.owner.id, name=customer.owner.name),
    )


def order_public(order: Order) -> OrderPublic:
    items = [
        OrderItemPublic(
            name=line["name"],
            quantity=line["quantity"],
            sku=line.get("sku"),
            unit_price=None
            if line.get("unit_price_minor") is None
            else from_minor_units(line["unit_price_minor"], order.currency),
        )
        for line in order.items or []
    ]
    return OrderPublic(
        id=order.id,
        customer_id=order.customer_id,
        number=order.number,
        ordered_at=order.ordered_at,
        amount=from_minor_units(order.amount_minor, order.currency),
        currency=order.currency,
        channel=order.channel,
        store=order.store,
        status=order.status,
        items=items,
    )


def timeline_entry(
    kind: str,
    item: Message | Event | Order | CallbackRequest | Survey,
    authors: dict[int, User],
) -> TimelineEntry:
    if isinstance(item, Order):
        return TimelineEntry(type="order", at=item.ordered_at, order=order_public(item))
    if isinstance(item, Survey):
        return TimelineEntry(
            type="survey",
            at=item.sent_at,
            conversation_id=item.conversation_id,
            survey=SurveyPublic.model_validate(item, from_attributes=True),
        )
    if isinstance(item, CallbackRequest):
        return TimelineEntry(
            type="callback",
            at=item.created_at,
            conversation_id=item.conversation_id,
            callback=CallbackPublic.model_validate(item, from_attributes=True),
        )
    if isinstance(item, Message):
        return TimelineEntry(
            type="message",
            at=item.occurred_at,
            conversation_id=item.conversation_id,
            message=message_public(item, authors),
        )
    conversation_id = item.subject_id if item.subject_type == "conversation" else None
    return TimelineEntry(
        type="event",
        at=item.occurred_at,
        conversation_id=conversation_id,
        action=item.action,
        details={"before": item.before, "after": item.after},
    )
