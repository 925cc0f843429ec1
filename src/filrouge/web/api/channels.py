"""``/api/v1/channels``: list and create channel accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from sqlalchemy import select

from filrouge.core.actions.channels import create_channel
from filrouge.core.audit import Actor
from filrouge.core.models import ChannelAccount, User
from filrouge.core.models.enums import Role
from filrouge.db import transaction
from filrouge.web.api.present import channel_public
from filrouge.web.deps import Allowed, FactoryDep
from filrouge.web.schemas import ChannelCreate, ChannelCreated, ChannelPublic, PagePublic

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
