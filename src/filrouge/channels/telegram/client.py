"""The Telegram Bot API, as far as Filrouge uses it: send text, photos and documents, read a
file. Settings: ``bot_token``, ``api_base_url`` (default ``https://api.telegram.org``; tests
point it at 127.0.0.1). The token is part of every URL: URLs are never logged or shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from filrouge.channels.base import DeliveryError, IncomingAttachment
from filrouge.channels.provider_http import ProviderRefusal, call_provider, json_object_of
from filrouge.lib.http import send_request

DEFAULT_BASE = "https://api.telegram.org"


def method_url(settings: Mapping[str, Any], method: str) -> str:
    return f"{_base(settings)}/bot{_token(settings)}/{method}"


def call(settings: Mapping[str, Any], method: str, **kwargs: Any) -> dict[str, Any]:
    answer = call_provider("POST", method_url(settings, method), read_refusal, **kwargs)
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(answer, dict) or not answer.get("ok") or not isinstance(result, dict):
        raise DeliveryError(f"Telegram answered without a result: {answer!r:.200}")
    return result


def send_text(settings: Mapping[str, Any], chat_id: str, text: str) -> dict[str, Any]:
    return call(settings, "sendMessage", json={"chat_id": chat_id, "text": text})


def send_file(
    settings: Mapping[str, Any], chat_id: str, file: IncomingAttachment, caption: str
) -> dict[str, Any]:
    method, field = (
        ("sendPhoto", "photo")
        if file.content_type.startswith("image/")
        else ("sendDocument", "document")
    )
    data = {"chat_id": chat_id, **({"caption": caption} if caption else {})}
    files = {field: (file.filename, file.content or b"", file.content_type)}
    return call(settings, method, data=data, files=files)


def download(settings: Mapping[str, Any], file_id: str, limit: int) -> bytes:
    """The bytes of a file a customer sent (``getFile``, then the file URL)."""
    found = call(settings, "getFile", json={"file_id": file_id})
    path = found.get("file_path")
    if not isinstance(path, str) or not path:
        raise DeliveryError("Telegram gave no path for this file", permanent=True)
    if int(found.get("file_size") or 0) > limit:
        raise DeliveryError("the file is larger than the attachment limit", permanent=True)
    response = send_request("GET", f"{_base(settings)}/file/bot{_token(settings)}/{path}")
    if not response.is_success or len(response.content) > limit:
        raise DeliveryError(f"the file could not be fetched (HTTP {response.status_code})")
    return response.content


def read_refusal(response: httpx.Response) -> ProviderRefusal:
    body = json_object_of(response)
    description = str(body.get("description") or response.reason_phrase or "refused")
    parameters = body.get("parameters")
    wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return ProviderRefusal(
        description,
        reconnect=response.status_code == 401,
        retry_after=float(wait) if isinstance(wait, int | float) else None,
    )


def _base(settings: Mapping[str, Any]) -> str:
    return str(settings.get("api_base_url") or DEFAULT_BASE).rstrip("/")


def _token(settings: Mapping[str, Any]) -> str:
    token = settings.get("bot_token")
    if not isinstance(token, str) or not token:
        raise DeliveryError("this Telegram channel has no bot_token", permanent=True)
    return token
