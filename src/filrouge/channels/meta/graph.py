"""The Graph API (``graph.facebook.com``), as every Meta channel calls it.

Settings: ``access_token`` (a page or system-user token), ``api_base_url`` (default
``https://graph.facebook.com``; tests point it at 127.0.0.1), ``api_version`` (``v21.0``).
The token travels in the ``Authorization`` header, never in a URL that could be logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from filrouge.channels.base import DeliveryError, Recipient
from filrouge.channels.provider_http import ProviderRefusal, call_provider, json_object_of

DEFAULT_BASE = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
# Graph error codes that mean the token is no longer good (expired, revoked, password
# changed): the channel must be connected again.
TOKEN_ERRORS = frozenset({190, 102, 463, 467})
# Codes Meta documents as "try again later" (rate limits, temporary issues).
TRANSIENT_ERRORS = frozenset({1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131048, 131056})


def graph_url(settings: Mapping[str, Any], path: str) -> str:
    base = str(settings.get("api_base_url") or DEFAULT_BASE).rstrip("/")
    version = str(settings.get("api_version") or DEFAULT_VERSION).strip("/")
    return f"{base}/{version}/{path.lstrip('/')}"


def graph_call(
    settings: Mapping[str, Any], method: str, path: str, **kwargs: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token(settings)}", **kwargs.pop("headers", {})}
    try:
        answer = call_provider(
            method, graph_url(settings, path), read_graph_refusal, headers=headers, **kwargs
        )
    except DeliveryError as exc:
        if exc.permanent and _transient_code(str(exc)):
            raise DeliveryError(str(exc), retry_after=exc.retry_after) from exc
        raise
    return answer if isinstance(answer, dict) else {}


def graph_download(settings: Mapping[str, Any], url: str, limit: int) -> bytes:
    """Bytes at a media URL Meta handed us (with the token: WhatsApp's media need it)."""
    from filrouge.lib.http import send_request

    response = send_request(
        "GET", url, headers={"Authorization": f"Bearer {access_token(settings)}"}
    )
    if not response.is_success:
        raise DeliveryError(f"the file could not be fetched (HTTP {response.status_code})")
    if len(response.content) > limit:
        raise DeliveryError("the file is larger than the attachment limit", permanent=True)
    return response.content


def read_graph_refusal(response: httpx.Response) -> ProviderRefusal:
    """``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``."""
    error = json_object_of(response).get("error") or {}
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    message = str(error.get("message") or response.reason_phrase or "refused")
    details = (error.get("error_data") or {}) if isinstance(error.get("error_data"), dict) else {}
    if details.get("details"):
        message += f" ({details['details']})"
    text = f"{message} [code {code}]" if code is not None else message
    return ProviderRefusal(text, reconnect=code in TOKEN_ERRORS or response.status_code == 401)


def access_token(settings: Mapping[str, Any]) -> str:
    token = settings.get("access_token")
    if not isinstance(token, str) or not token:
        raise DeliveryError("this channel has no access_token", permanent=True)
    return token


def _transient_code(message: str) -> bool:
    return any(message.endswith(f"[code {code}]") for code in TRANSIENT_ERRORS)


def recipient_of(answer: dict[str, Any], kind: str) -> Recipient | None:
    """The person a Send API answer names (``recipient_id``), as an identity of ``kind``."""
    person = answer.get("recipient_id")
    if not isinstance(person, str | int) or not str(person).strip():
        return None
    return Recipient(kind, str(person).strip())
