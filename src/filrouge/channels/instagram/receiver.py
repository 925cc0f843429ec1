"""Instagram webhooks (``object: instagram``): the same handshake, signature and files as
Messenger's (settings ``verify_token``, ``app_secret``); direct messages and comments read by
``inbound.py`` for the channel's ``instagram_account_id``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from filrouge.channels.base import WebhookBatch
from filrouge.channels.instagram.inbound import read_instagram_body
from filrouge.channels.messenger.receiver import MetaMessagingReceiver
from filrouge.channels.webhooks import HookRequest
from filrouge.core.models.enums import ChannelKind


class InstagramReceiver(MetaMessagingReceiver):
    kind: ClassVar[str] = ChannelKind.INSTAGRAM

    def parse(
        self, channel_id: int, settings: Mapping[str, Any], request: HookRequest
    ) -> WebhookBatch:
        return read_instagram_body(channel_id, settings, request.body)
