"""Twilio webhooks (incoming SMS/MMS and status callbacks), form-encoded.

``X-Twilio-Signature`` is checked with the ``twilio`` package's ``RequestValidator`` and the
channel's ``auth_token``, against the URL Twilio called: the ``webhook_url`` setting (behind a
proxy the URL we see is not the one Twilio called; it includes ``/hooks/sms/<id>``), the
``status_callback_url`` setting (receipts), and the URL of the request itself. Twilio expects
TwiML back: an empty ``<Response>`` sends no automatic reply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

from filrouge.channels.base import WebhookBatch
from filrouge.channels.sms.client import download
from filrouge.channels.sms.inbound import Form, callback_kind, message_sid, read_callback, read_form
from filrouge.channels.webhooks import (
    HookAnswer,
    HookRequest,
    PayloadError,
    SignatureError,
    WebhookReceiver,
    required_secret,
)
from filrouge.core.models.enums import ChannelKind

SIGNATURE_HEADER = "x-twilio-signature"
FORM_TYPE = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class SmsReceiver(WebhookReceiver):
    kind: ClassVar[str] = ChannelKind.SMS
    secret_settings: ClassVar[tuple[str, ...]] = ("auth_token",)

    def verify(self, settings: Mapping[str, Any], request: HookRequest) -> None:
        validator = RequestValidator(required_secret(settings, "auth_token"))
        signature = request.headers.get(SIGNATURE_HEADER, "").strip()
        if signature and any(
            validator.validate(url, _signed_params(url, request.body), signature)
            for url in called_urls(settings, request)
        ):
            return
        raise SignatureError("X-Twilio-Signature is missing or not made with this auth_token")

    def check(self, request: HookRequest) -> None:
        if not request.content_type.lower().startswith(FORM_TYPE):
            raise PayloadError(f"the body is not a form ({request.content_type or 'no type'})")
        form = read_form(request.body)
        if not message_sid(form):
            raise PayloadError("the form names no MessageSid or SmsSid")
        if callback_kind(form) is None:
            raise PayloadError("the form is neither an incoming message nor a status callback")

    def parse(
        self, channel_id: int, settings: Mapping[str, Any], request: HookRequest
    ) -> WebhookBatch:
        return read_callback(channel_id, settings, read_form(request.body))

    def fetch_media(self, settings: Mapping[str, Any], url: str, limit: int) -> bytes | None:
        if not url.startswith(("https://", "http://")):
            return None
        return download(settings, url, limit)

    def accepted(self) -> HookAnswer | None:
        return HookAnswer(EMPTY_TWIML, media_type="text/xml")


def called_urls(settings: Mapping[str, Any], request: HookRequest) -> list[str]:
    """The URLs Twilio may have signed, the configured ones first."""
    urls = [settings.get("webhook_url"), settings.get("status_callback_url"), request.url]
    return list(dict.fromkeys(u for u in urls if isinstance(u, str) and u))


class _Params(dict[str, list[str]]):
    """Posted parameters with every value of a repeated name (as the validator reads them)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def _signed_params(url: str, body: bytes) -> _Params | str:
    """The raw body when Twilio signed its hash in the URL (JSON bodies), else the form."""
    if "bodySHA256" in parse_qs(urlsplit(url).query):
        return body.decode(errors="replace")
    try:
        form: Form = read_form(body, strict=False)
    except PayloadError:
        form = {}
    return _Params(form)
