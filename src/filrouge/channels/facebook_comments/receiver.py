"""Facebook page ``feed`` webhooks: Meta's ``hub.mode=subscribe`` handshake (setting
``verify_token``), every delivery signed ``X-Hub-Signature-256`` with the app secret (setting
``app_secret``), and only the channel's own page (setting ``page_id``) read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from filrouge.channels.base import WebhookBatch
from filrouge.channels.facebook_comments.inbound import read_feed
from filrouge.channels.meta.webhook import answer_subscription, verify_meta_signature
from filrouge.channels.webhooks import HookAnswer, HookRequest, WebhookReceiver, json_object
from filrouge.core.models.enums import ChannelKind


class FacebookCommentsReceiver(WebhookReceiver):
    app_family: ClassVar[str | None] = "meta"
    kind: ClassVar[str] = ChannelKind.FACEBOOK_COMMENTS
    secret_settings: ClassVar[tuple[str, ...]] = ("app_secret",)

    def challenge(self, settings: Mapping[str, Any], request: HookRequest) -> HookAnswer | None:
        """Meta checks the callback URL with the channel's verify token."""
        return answer_subscription(settings, request)

    def verify(self, settings: Mapping[str, Any], request: HookRequest) -> None:
        verify_meta_signature(settings, request)

    def parse(
        self, channel_id: int, settings: Mapping[str, Any], request: HookRequest
    ) -> WebhookBatch:
        page_id = str(settings.get("page_id") or "")
        return read_feed(channel_id, page_id, json_object(request.body))
