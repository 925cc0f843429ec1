"""Messenger webhooks (``object: page``): Meta's ``hub.mode=subscribe`` handshake with the
channel's ``verify_token``, every delivery signed ``X-Hub-Signature-256`` with its
``app_secret``; the events are read by ``inbound.py`` for the channel's ``page_id``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from filrouge.channels.base import WebhookBatch
from filrouge.channels.messenger.client import download
from filrouge.channels.messenger.inbound import meta_body, read_page_body
from filrouge.channels.meta.webhook import answer_subscription, verify_meta_signature
from filrouge.channels.webhooks import HookAnswer, HookRequest, WebhookReceiver
from filrouge.core.models.enums import ChannelKind


class MetaMessagingReceiver(WebhookReceiver):
    """What Messenger and Instagram webhooks share: handshake, signature, body, files."""

    app_family: ClassVar[str | None] = "meta"
    secret_settings: ClassVar[tuple[str, ...]] = ("app_secret",)

    def challenge(self, settings: Mapping[str, Any], request: HookRequest) -> HookAnswer | None:
        return answer_subscription(settings, request)

    def verify(self, settings: Mapping[str, Any], request: HookRequest) -> None:
        verify_meta_signature(settings, request)

    def check(self, request: HookRequest) -> None:
        meta_body(request.body)

    def fetch_media(self, settings: Mapping[str, Any], url: str, limit: int) -> bytes | None:
        """Files of a message are named by an http(s) URL on Meta's CDN."""
        if not url.lower().startswith(("https://", "http://")):
            return None
        return download(url, limit)


class MessengerReceiver(MetaMessagingReceiver):
    kind: ClassVar[str] = ChannelKind.MESSENGER

    def parse(
        self, channel_id: int, settings: Mapping[str, Any], request: HookRequest
    ) -> WebhookBatch:
        return read_page_body(channel_id, settings, request.body)
