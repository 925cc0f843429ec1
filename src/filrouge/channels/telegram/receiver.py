"""Telegram webhooks: ``X-Telegram-Bot-Api-Secret-Token`` must equal the channel's
``secret_token`` (the one given to ``setWebhook``); each body is one ``Update``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from filrouge.channels.base import WebhookBatch
from filrouge.channels.telegram.client import download
from filrouge.channels.telegram.inbound import FILE_REF, read_update
from filrouge.channels.webhooks import (
    HookRequest,
    SignatureError,
    WebhookReceiver,
    json_object,
    required_secret,
    same_signature,
)
from filrouge.core.models.enums import ChannelKind

SECRET_HEADER = "x-telegram-bot-api-secret-token"


class TelegramReceiver(WebhookReceiver):
    kind: ClassVar[str] = ChannelKind.TELEGRAM
    secret_settings: ClassVar[tuple[str, ...]] = ("secret_token",)

    def verify(self, settings: Mapping[str, Any], request: HookRequest) -> None:
        secret = required_secret(settings, "secret_token")
        if not same_signature(secret, request.headers.get(SECRET_HEADER)):
            raise SignatureError("the secret token header is missing or wrong")

    def fetch_media(self, settings: Mapping[str, Any], url: str, limit: int) -> bytes | None:
        if not url.startswith(FILE_REF):
            return None
        return download(settings, url.removeprefix(FILE_REF), limit)

    def parse(
        self, channel_id: int, settings: Mapping[str, Any], request: HookRequest
    ) -> WebhookBatch:
        return read_update(channel_id, json_object(request.body))
