"""Who may hand a channel its messages: the channel's own inbound token, or a user's API token.

The inbound token is shown once when the channel is created (or rotated on the admin page);
relays that cannot set headers pass it as ``?token=``, others as ``X-Filrouge-Token``. An API
token works too (``Authorization: Bearer …``) when its user's role may create inbound messages
and the channel belongs to the user's workspace.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import select

from filrouge.core.models import ChannelAccount
from filrouge.db import transaction
from filrouge.lib.secrets import same_secret, token_digest
from filrouge.web.deps import FactoryDep, _bearer, bearer_user, require_role
from filrouge.web.errors import http_error
from filrouge.web.permissions import RULES
from filrouge.web.schemas import IdPath

TOKEN_HEADER = "x-filrouge-token"


def ChannelCaller(permission: str) -> Any:  # noqa: N802 - reads as a type in signatures
    """``channel: Annotated[ChannelAccount, ChannelCaller("inbound:create")]``."""
    if permission not in RULES:
        raise KeyError(f"no rule for permission {permission!r} in web/permissions.py")

    def check(
        request: Request,
        channel_id: IdPath,
        factory: FactoryDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ChannelAccount:
        token = request.headers.get(TOKEN_HEADER) or request.query_params.get("token")
        if token:
            return _channel_for_token(factory, channel_id, token)
        user = require_role(bearer_user(factory, credentials), permission)
        channel = _channel(factory, channel_id)
        if channel is None or channel.workspace_id != user.workspace_id:
            raise _unknown(channel_id)
        return channel

    check.permission = permission  # type: ignore[attr-defined]
    return Depends(check)


def _channel_for_token(factory: FactoryDep, channel_id: int, token: str) -> ChannelAccount:
    channel = _channel(factory, channel_id)
    if channel is None or not channel.inbound_token_digest:
        raise _unknown(channel_id)
    if not same_secret(token_digest(token), channel.inbound_token_digest):
        raise http_error(401, "invalid_token", "This inbound token is not this channel's.")
    return channel


def _channel(factory: FactoryDep, channel_id: int) -> ChannelAccount | None:
    with transaction(factory) as session:
        return session.scalar(select(ChannelAccount).where(ChannelAccount.id == channel_id))


def _unknown(channel_id: int) -> Exception:
    return http_error(
        404, "unknown_channel", "There is no channel {channel_id}.", channel_id=channel_id
    )
