"""Calling a provider's HTTP API, and reading its refusals the same way for every channel.

``call_provider`` returns the provider's JSON answer or raises ``DeliveryError``:

- the network failed, the provider is overloaded (429) or broken (5xx): transient, with the
  provider's ``Retry-After`` (seconds or an HTTP date) when it gave one;
- the provider refused the channel's credentials (401, or what ``read_error`` recognises as a
  revoked token): ``reconnect``, so the channel is flagged and admins told;
- any other refusal (4xx): permanent, with the provider's own words.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from filrouge.channels.base import DeliveryError
from filrouge.lib.http import BlockedAddress, send_request
from filrouge.lib.timeutil import utcnow

MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class ProviderRefusal:
    message: str
    reconnect: bool = False
    retry_after: float | None = None  # when the provider says it in its body, not a header


def generic_refusal(response: httpx.Response) -> ProviderRefusal:
    return ProviderRefusal(f"HTTP {response.status_code}: {response.text[:300]}")


def call_provider(
    method: str,
    url: str,
    read_error: Callable[[httpx.Response], ProviderRefusal] = generic_refusal,
    **kwargs: Any,
) -> Any:
    try:
        response = send_request(method, url, **kwargs)
    except BlockedAddress as exc:
        raise DeliveryError(f"refused to call the provider: {exc}", permanent=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"the provider could not be reached: {exc}") from exc
    if response.is_success:
        return _json(response)
    refusal = read_error(response)
    status = response.status_code
    if status == 429 or status >= 500:
        raise DeliveryError(
            f"HTTP {status}: {refusal.message}",
            retry_after=retry_after_seconds(response) or refusal.retry_after,
        )
    raise DeliveryError(
        f"HTTP {status}: {refusal.message}",
        permanent=True,
        reconnect=refusal.reconnect or status == 401,
    )


def json_object_of(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when the provider sent anything else."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - utcnow()).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {}
