"""WhatsApp Cloud API webhooks, Meta's way (``channels/meta/webhook.py``): the
``hub.mode=subscribe`` handshake answered when ``hub.verify_token`` is the channel's
``verify_token``, and every delivery signed ``X-Hub-Signature-256`` with the ``app_secret``.
Updates for another number than the channel's ``phone_number_id`` are left aside; media the
customer sent are fetched from the Graph API with the ``access_token``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from filrouge.channels.base import WebhookBatch
from filrouge.channels.meta.webhook import answer_subscription, verify_meta_signature
from filrouge.channels.webhooks import HookAnswer, HookRequest, WebhookReceiver, json_object
from filrouge.channels.whatsapp.client import download_media
from filrouge.channels.whatsapp.content import MEDIA_REF
from filrouge.channels.whatsapp.inbound import read_payload
from filrouge.core.models.enums import ChannelKind


class WhatsAppReceiver(WebhookReceiver):
    app_family: ClassVar[str | None] = "meta"
    kind: ClassVar[str] = ChannelKind.WHATSAPP
    secret_settings: ClassVar[tuple[str, ...]] = ("app_secret",)

    def challenge(self, settings: Mapping[str, Any], request: HookRequest) -> HookAnswer | None:
        return answer_subscription(settings, request)

    def verify(self, settings: Mapping[str, Any], request: HookRequest) -> None:
        verify_meta_signature(settings, request)

    def fetch_media(self, settings: Mapping[str, Any], url: str, limit: int) -> bytes | None:
        if not url.startswith(MEDIA_REF):
            return None
        return download_media(settings, url.removeprefix(MEDIA_REF), limit)

    def parse(
        self, channel_id: int, settings: Mapping[str, Any], request: HookRequest
    ) -> WebhookBatch:
        number = settings.get("phone_number_id")
        return read_payload(
            channel_id, None if number is None else str(number), json_object(request.body)
        )
