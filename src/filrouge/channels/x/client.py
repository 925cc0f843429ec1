"""The X API v2, as far as Filrouge uses it: post a tweet (a public reply), send a DM, upload
an image for either, and fetch the photos and videos customers tweet.

Settings: ``access_token`` (an OAuth 2.0 user-context token of the account, scopes
``tweet.write dm.write media.write``, sent as ``Authorization: Bearer``), ``api_base_url``
(default ``https://api.x.com``; tests point it at 127.0.0.1) and ``media_base_url`` (where the
public media of ``pbs.twimg.com`` and ``video.twimg.com`` are fetched from: unset, from those
hosts themselves; a proxy or a test server otherwise).

X refuses in two shapes: a problem (``{"title", "detail", "type", "status"}``, v2) or a list
(``{"errors": [{"message", "code"}]}``); both are read into the provider's own words. A 429
says when the window resets in ``x-rate-limit-reset`` (epoch seconds): that is when we try
again, unless a ``Retry-After`` says otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from filrouge.channels.base import DeliveryError, IncomingAttachment
from filrouge.channels.provider_http import (
    MAX_RETRY_AFTER,
    ProviderRefusal,
    call_provider,
    json_object_of,
)
from filrouge.lib.http import send_request

DEFAULT_BASE = "https://api.x.com"
PUBLIC_MEDIA_HOSTS = frozenset({"pbs.twimg.com", "video.twimg.com"})
# v1.1 error codes that mean the token is no longer good ("Invalid or expired token").
TOKEN_CODES = frozenset({89})


def post_tweet(settings: Mapping[str, Any], body: dict[str, Any]) -> str:
    """``POST /2/tweets``; the new tweet's id."""
    return _created_id(call(settings, "/2/tweets", json=body), "id")


def send_dm(settings: Mapping[str, Any], participant_id: str, body: dict[str, Any]) -> str:
    """``POST /2/dm_conversations/with/<participant>/messages``; the DM event's id."""
    if not participant_id.isdigit():
        raise DeliveryError(f"{participant_id!r} is not an X user id", permanent=True)
    path = f"/2/dm_conversations/with/{participant_id}/messages"
    return _created_id(call(settings, path, json=body), "dm_event_id")


def upload_media(settings: Mapping[str, Any], file: IncomingAttachment, category: str) -> str:
    """``POST /2/media/upload`` (one request: images and GIFs); the media id."""
    files = {"media": (file.filename, file.content or b"", file.content_type)}
    answer = call(settings, "/2/media/upload", data={"media_category": category}, files=files)
    return _created_id(answer, "id")


def call(settings: Mapping[str, Any], path: str, **kwargs: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {_token(settings)}"}
    answer = call_provider(
        "POST", f"{_base(settings)}{path}", read_refusal, headers=headers, **kwargs
    )
    return answer if isinstance(answer, dict) else {}


def read_refusal(response: httpx.Response) -> ProviderRefusal:
    body = json_object_of(response)
    return ProviderRefusal(
        _words(body) or response.reason_phrase or "refused",
        reconnect=response.status_code == 401 or bool(_codes(body) & TOKEN_CODES),
        retry_after=rate_limit_wait(response) if response.status_code == 429 else None,
    )


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds until ``x-rate-limit-reset`` (epoch seconds), within reason."""
    try:
        reset = float(response.headers.get("x-rate-limit-reset", ""))
    except ValueError:
        return None
    return min(max(reset - time.time(), 0.0), MAX_RETRY_AFTER)


def download_media(settings: Mapping[str, Any], url: str, limit: int) -> bytes | None:
    """The bytes of a photo or video of a tweet; None for media X serves only with OAuth 1.0a
    (those of DMs), which stay links."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in PUBLIC_MEDIA_HOSTS:
        return None
    base = str(settings.get("media_base_url") or "").rstrip("/")
    response = send_request("GET", f"{base}{parts.path}" if base else url)
    if not response.is_success:
        raise DeliveryError(f"the file could not be fetched (HTTP {response.status_code})")
    if len(response.content) > limit:
        raise DeliveryError("the file is larger than the attachment limit", permanent=True)
    return response.content


def _created_id(answer: dict[str, Any], key: str) -> str:
    data = answer.get("data")
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str | int) or not str(value):
        # Not retried: X may have published it all the same, and a tweet must not go twice.
        words = _words(answer) or f"{answer!r:.200}"
        raise DeliveryError(f"X answered without a {key}: {words}", permanent=True)
    return str(value)


def _words(body: dict[str, Any]) -> str:
    """The refusal in X's words: the problem's detail (or title), then each error's message."""
    headline = body.get("detail") or body.get("title")
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    said = [str(headline)] if headline else []
    for error in errors or []:
        message = error.get("message") or error.get("detail") if isinstance(error, dict) else None
        if message and str(message) not in said:
            said.append(str(message))
    return "; ".join(said)


def _codes(body: dict[str, Any]) -> set[int]:
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    return {
        e["code"] for e in errors or [] if isinstance(e, dict) and isinstance(e.get("code"), int)
    }


def _base(settings: Mapping[str, Any]) -> str:
    return str(settings.get("api_base_url") or DEFAULT_BASE).rstrip("/")


def _token(settings: Mapping[str, Any]) -> str:
    token = settings.get("access_token")
    if not isinstance(token, str) or not token:
        raise DeliveryError("this X channel has no access_token", permanent=True, reconnect=True)
    return token
