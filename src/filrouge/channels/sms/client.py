"""The Twilio Messaging REST API, as far as Filrouge uses it: create a message, fetch a file a
customer sent. Settings: ``account_sid`` and ``auth_token`` (HTTP basic auth on every call),
``api_base_url`` (default ``https://api.twilio.com``; tests point it at 127.0.0.1).

Twilio's refusals are JSON ``{"code", "message", "more_info", "status"}``: the code is kept in
the words shown to agents (``21610`` an opted-out number, ``21211`` an invalid one), and
``20003`` (authentication) or ``20005`` (account not active) ask an admin to reconnect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from filrouge.channels.base import DeliveryError
from filrouge.channels.provider_http import ProviderRefusal, call_provider, json_object_of
from filrouge.lib.http import BlockedAddress, send_request

DEFAULT_BASE = "https://api.twilio.com"
API_VERSION = "2010-04-01"
RECONNECT_CODES = frozenset({20003, 20005})
MAX_REDIRECTS = 3


def messages_url(settings: Mapping[str, Any]) -> str:
    account_sid, _ = credentials(settings)
    return f"{_base(settings)}/{API_VERSION}/Accounts/{account_sid}/Messages.json"


def create_message(settings: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """POST one message (form-encoded, as Twilio takes it); Twilio's answer (``sid``…)."""
    answer = call_provider(
        "POST", messages_url(settings), read_refusal, data=dict(form), auth=credentials(settings)
    )
    return answer if isinstance(answer, dict) else {}


def download(settings: Mapping[str, Any], url: str, limit: int) -> bytes:
    """The bytes behind a ``MediaUrl``: basic auth on Twilio's own host only, then the
    redirect to the short-lived file URL followed without credentials."""
    auth = credentials(settings) if _same_origin(url, _base(settings)) else None
    response = _get(url, auth)
    for _ in range(MAX_REDIRECTS):
        if not response.is_redirect or "location" not in response.headers:
            break
        response = _get(urljoin(url, response.headers["location"]), None)
    if not response.is_success:
        raise DeliveryError(f"the file could not be fetched (HTTP {response.status_code})")
    if len(response.content) > limit:
        raise DeliveryError("the file is larger than the attachment limit", permanent=True)
    return response.content


def read_refusal(response: httpx.Response) -> ProviderRefusal:
    body = json_object_of(response)
    code = body.get("code")
    words = str(body.get("message") or response.reason_phrase or "refused")
    message = f"Twilio error {code}: {words}" if code else words
    return ProviderRefusal(message, reconnect=code in RECONNECT_CODES)


def credentials(settings: Mapping[str, Any]) -> tuple[str, str]:
    account_sid, token = settings.get("account_sid"), settings.get("auth_token")
    if not isinstance(account_sid, str) or not account_sid:
        raise DeliveryError("this SMS channel has no account_sid", permanent=True)
    if not isinstance(token, str) or not token:
        raise DeliveryError("this SMS channel has no auth_token", permanent=True)
    return account_sid, token


def _get(url: str, auth: tuple[str, str] | None) -> httpx.Response:
    try:
        return send_request("GET", url, **({"auth": auth} if auth else {}))
    except BlockedAddress as exc:
        raise DeliveryError(f"refused to fetch the file: {exc}", permanent=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"the file could not be fetched: {exc}") from exc


def _same_origin(url: str, base: str) -> bool:
    one, other = urlsplit(url), urlsplit(base)
    return (one.scheme, one.netloc) == (other.scheme, other.netloc)


def _base(settings: Mapping[str, Any]) -> str:
    return str(settings.get("api_base_url") or DEFAULT_BASE).rstrip("/")
