"""The X API v2, as far as Filrouge uses it: post a tweet (a public reply), send a DM, upload
an image (one request) or a video (chunked: INIT, APPEND, FINALIZE, STATUS) for either, and
fetch the photos and videos customers tweet or send by DM (those of DMs with a GET signed
OAuth 1.0a, see ``oauth1.py``).

Settings: ``access_token`` (an OAuth 2.0 user-context token of the account, scopes
``tweet.write dm.write media.write``, sent as ``Authorization: Bearer``), ``api_base_url``
(default ``https://api.x.com``; tests point it at 127.0.0.1) and ``media_base_url`` (where the
media of ``pbs.twimg.com``, ``video.twimg.com`` and ``ton.twitter.com`` are fetched from:
unset, from those hosts themselves; a proxy or a test server otherwise), and for the files of
DMs the OAuth 1.0a settings of ``oauth1.py``.

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
from filrouge.channels.x.oauth1 import authorization, has_oauth1
from filrouge.lib.http import send_request

DEFAULT_BASE = "https://api.x.com"
PUBLIC_MEDIA_HOSTS = frozenset({"pbs.twimg.com", "video.twimg.com"})
DM_MEDIA_HOST = "ton.twitter.com"
MEDIA_HOSTS = PUBLIC_MEDIA_HOSTS | {DM_MEDIA_HOST}
CHUNK_BYTES = 4 * 1024 * 1024  # X takes parts of at most 5 MB
MAX_PAUSE = 30.0  # seconds between two STATUS questions, whatever X says
MAX_PROCESSING_WAIT = 120.0  # then the delivery is tried again later
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
    """The bytes of a photo or video of a tweet or a DM; None for what stays a link (a DM's
    file while the channel has no OAuth 1.0a credentials, another host)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in MEDIA_HOSTS:
        return None
    base = str(settings.get("media_base_url") or "").rstrip("/")
    target = f"{base}{parts.path}" if base else url
    headers = {}
    if is_dm_media(parts.hostname or "", parts.path):
        if not has_oauth1(settings):
            return None
        headers["Authorization"] = authorization(settings, "GET", target)
    response = send_request("GET", target, headers=headers)
    if not response.is_success:
        raise DeliveryError(f"the file could not be fetched (HTTP {response.status_code})")
    if len(response.content) > limit:
        raise DeliveryError("the file is larger than the attachment limit", permanent=True)
    return response.content


def is_dm_media(host: str, path: str) -> bool:
    """A DM's file: served by ``ton.twitter.com`` (photos), or a DM's video or GIF."""
    return host == DM_MEDIA_HOST or path.startswith(("/dm_video/", "/dm_gif/"))


def upload_video(settings: Mapping[str, Any], file: IncomingAttachment, category: str) -> str:
    """X's chunked upload: INIT (type, size, category), APPEND each part, FINALIZE, then
    STATUS until X has processed the video; the media id to name in the tweet or the DM."""
    content = file.content or b""
    init = {"media_type": file.content_type, "total_bytes": str(len(content))}
    media_id = _created_id(_command(settings, "INIT", **init, media_category=category), "id")
    for index in range(0, max(len(content), 1), CHUNK_BYTES):
        part = content[index : index + CHUNK_BYTES]
        segment = str(index // CHUNK_BYTES)
        media = ("chunk", part, "application/octet-stream")
        _command(settings, "APPEND", media_id=media_id, segment_index=segment, media=media)
    finalized = _command(settings, "FINALIZE", media_id=media_id)
    wait_until_processed(settings, media_id, _processing(finalized))
    return media_id


def wait_until_processed(
    settings: Mapping[str, Any], media_id: str, processing: dict[str, Any]
) -> None:
    """Ask X's STATUS, as often as it says, until the video is ready (or give up for now:
    the delivery is tried again later)."""
    waited = 0.0
    while processing and processing.get("state") != "succeeded":
        if processing.get("state") == "failed":
            error = processing.get("error")
            said = error if isinstance(error, dict) else {}
            words = said.get("message") or said.get("name") or "X could not process it"
            raise DeliveryError(f"X refused the video: {words}", permanent=True)
        pause = min(max(float(processing.get("check_after_secs") or 1), 0.0), MAX_PAUSE)
        if waited + pause > MAX_PROCESSING_WAIT:
            raise DeliveryError("X is still processing the video: trying again later")
        time.sleep(pause)
        waited += pause
        status = get(settings, "/2/media/upload", {"command": "STATUS", "media_id": media_id})
        processing = _processing(status) or {"state": "succeeded"}


def get(settings: Mapping[str, Any], path: str, params: Mapping[str, str]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {_token(settings)}"}
    url = f"{_base(settings)}{path}"
    answer = call_provider("GET", url, read_refusal, headers=headers, params=dict(params))
    return answer if isinstance(answer, dict) else {}


def _command(settings: Mapping[str, Any], command: str, **fields: Any) -> dict[str, Any]:
    """One step of the chunked upload, as multipart form data (``media``: a file tuple)."""
    parts = {k: v if isinstance(v, tuple) else (None, v) for k, v in fields.items()}
    return call(settings, "/2/media/upload", files={"command": (None, command), **parts})


def _processing(answer: dict[str, Any]) -> dict[str, Any]:
    data = answer.get("data") if isinstance(answer.get("data"), dict) else answer
    info = data.get("processing_info") if isinstance(data, dict) else None
    return info if isinstance(info, dict) else {}


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
