"""``/api/v1/channels``: list, read and create channel accounts; a provider channel's stored
webhook deliveries (admins: they hold raw personal data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from filrouge.core.actions.channels import channel_of_workspace, create_channel
from filrouge.core.audit import Actor
from filrouge.core.models import ChannelAccount, User, WebhookDelivery
from filrouge.core.models.enums import Role
from filrouge.db import transaction
from filrouge.web.api.present import channel_public
from filrouge.web.deps import Allowed, FactoryDep
from filrouge.web.errors import http_error
from filrouge.web.schemas import (
    ChannelCreate,
    ChannelCreated,
    ChannelPublic,
    IdPath,
    PagePublic,
    WebhookDeliveryPublic,
)

router = APIRouter(prefix="/channels", tags=["channels"])


@router.get("", response_model=PagePublic[ChannelPublic])
def list_channels(
    factory: FactoryDep, user: Annotated[User, Allowed("channels:list")]
) -> PagePublic[ChannelPublic]:
    with transaction(factory) as session:
        channels = session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.workspace_id == user.workspace_id)
            .order_by(ChannelAccount.id)
        )
        return PagePublic(
            items=[channel_public(c, user.role == Role.ADMIN) for c in channels], next_cursor=None
        )


@router.post("", status_code=201, response_model=ChannelCreated)
def post_channel(
    body: ChannelCreate, factory: FactoryDep, user: Annotated[User, Allowed("channels:create")]
) -> ChannelCreated:
    with transaction(factory) as session:
        channel, token = create_channel(
            session, user.workspace_id, body.kind, body.name, body.settings, Actor.user(user.id)
        )
        public = channel_public(channel, with_settings=True)
    return ChannelCreated(**public.model_dump(), inbound_token=token)


@router.get("/{channel_id}", response_model=ChannelPublic)
def get_channel(
    channel_id: IdPath, factory: FactoryDep, user: Annotated[User, Allowed("channels:read")]
) -> ChannelPublic:
    with transaction(factory) as session:
        channel = channel_of_workspace(session, user.workspace_id, channel_id)
        return channel_public(channel, user.role == Role.ADMIN)


@router.get("/{channel_id}/webhook-deliveries", response_model=PagePublic[WebhookDeliveryPublic])
def list_webhook_deliveries(
    channel_id: IdPath,
    factory: FactoryDep,
    user: Annotated[User, Allowed("webhooks:list")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PagePublic[WebhookDeliveryPublic]:
    """The latest deliveries first, with what became of each."""
    with transaction(factory) as session:
        channel_of_workspace(session, user.workspace_id, channel_id)
        rows = session.execute(
            select(WebhookDelivery, func.length(WebhookDelivery.body).label("size"))
            .where(WebhookDelivery.channel_id == channel_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        ).all()
        items = [_delivery_public(row.WebhookDelivery, row.size) for row in rows]
    return PagePublic(items=items, next_cursor=None)


@router.get(
    "/{channel_id}/webhook-deliveries/{delivery_id}/raw",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_webhook_delivery_raw(
    channel_id: IdPath,
    delivery_id: IdPath,
    factory: FactoryDep,
    user: Annotated[User, Allowed("webhooks:list")],
) -> Response:
    """The delivery's body exactly as the provider sent it (served as a download)."""
    with transaction(factory) as session:
        channel_of_workspace(session, user.workspace_id, channel_id)
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.channel_id != channel_id:
            raise http_error(404, "unknown_delivery", "There is no such delivery.")
        body = delivery.body
    return Response(
        body,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="delivery-{delivery_id}.raw"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _delivery_public(delivery: WebhookDelivery, size: int | None) -> WebhookDeliveryPublic:
    return WebhookDeliveryPublic(
        id=delivery.id,
        outcome=delivery.outcome,
        received_at=delivery.received_at,
        processed_at=delivery.processed_at,
        content_type=delivery.content_type,
        size=size or 0,
        summary=delivery.summary,
    )
