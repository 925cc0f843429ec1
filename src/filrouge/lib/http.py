"""The one outbound HTTP client: timeouts always, private addresses refused unless allowed.

Provider calls go through ``post_json`` so that a channel configured with an internal URL cannot
be turned into a probe of the local network. Tests allow loopback with
``FILROUGE_HTTP_ALLOW_PRIVATE=1`` to reach their fake provider servers on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


class BlockedAddress(Exception):
    """The URL resolves to an address Filrouge must not call."""


def allow_private() -> bool:
    return os.environ.get("FILROUGE_HTTP_ALLOW_PRIVATE", "").lower() in {"1", "true", "yes"}


def loopback_only() -> bool:
    """The test suite's guard: nothing but 127.0.0.1 is ever called (no name is resolved)."""
    return os.environ.get("FILROUGE_HTTP_LOOPBACK_ONLY", "").lower() in {"1", "true", "yes"}


def check_public_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise BlockedAddress("not a valid URL") from exc
    if parts.scheme not in {"http", "https"} or not host:
        raise BlockedAddress("not an http(s) URL")
    if loopback_only():
        if host not in LOOPBACK_NAMES:
            raise BlockedAddress(f"{host} is not on this machine (loopback only)")
        return
    if allow_private():
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedAddress(f"cannot resolve {host}") from exc
    for info in infos:
        try:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        except ValueError as exc:
            raise BlockedAddress(f"{host} resolves to an unusable address") from exc
        if not address.is_global:
            raise BlockedAddress(f"{host} resolves to a private address")


def post_json(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    check_public_url(url)
    all_headers = {"Content-Type": "application/json", "User-Agent": "Filrouge", **headers}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        return client.post(url, content=body, headers=all_headers)


def send_request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Any provider call (JSON, form, multipart): the address is checked first, redirects are
    never followed, and every call has a timeout."""
    check_public_url(url)
    headers = {"User-Agent": "Filrouge", **kwargs.pop("headers", {})}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        return client.request(method, url, headers=headers, **kwargs)


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
