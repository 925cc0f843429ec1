"""The one outbound HTTP client: timeouts always, private addresses refused unless allowed.

Provider calls go through ``post_json`` or ``send_request`` so that a channel configured with an
internal URL cannot be turned into a probe of the local network. The name is resolved once, every
address it gives is checked, and the request is sent to the address that was checked (the name
kept in ``Host`` and in TLS's SNI and certificate check): a DNS answer that changes between the
check and the connection (DNS rebinding) cannot reach a private address. Tests allow loopback with
``FILROUGE_HTTP_ALLOW_PRIVATE=1`` to reach their fake provider servers on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Target:
    """Where a request really goes: ``url`` names the checked address when the name was
    resolved; ``headers`` and ``extensions`` keep the name for the server and for TLS."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def check_public_url(url: str) -> Target:
    try:
        parts = httpx.URL(url)
        host, port = parts.host, parts.port
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise BlockedAddress("not a valid URL") from exc
    if parts.scheme not in {"http", "https"} or not host:
        raise BlockedAddress("not an http(s) URL")
    if loopback_only():
        if host not in LOOPBACK_NAMES:
            raise BlockedAddress(f"{host} is not on this machine (loopback only)")
        return Target(url)
    if _is_address(host):
        _refuse_private(host, [host])
        return Target(url)
    addresses = _resolve(host, port or (443 if parts.scheme == "https" else 80))
    _refuse_private(host, addresses)
    return _pinned(parts, addresses[0])


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedAddress(f"cannot resolve {host}") from exc
    addresses = [str(info[4][0]).split("%")[0] for info in infos]
    if not addresses:
        raise BlockedAddress(f"cannot resolve {host}")
    return addresses


def _refuse_private(host: str, addresses: list[str]) -> None:
    if allow_private():
        return
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError as exc:
            raise BlockedAddress(f"{host} resolves to an unusable address") from exc
        if not address.is_global:
            raise BlockedAddress(f"{host} resolves to a private address")


def _pinned(parts: httpx.URL, address: str) -> Target:
    host_header = parts.netloc.decode("ascii").rpartition("@")[2]
    extensions = {"sni_hostname": parts.host} if parts.scheme == "https" else {}
    return Target(str(parts.copy_with(host=address)), {"Host": host_header}, extensions)


def post_json(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    all_headers = {"Content-Type": "application/json", **headers}
    return send_request("POST", url, content=body, headers=all_headers)


def send_request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Any provider call (JSON, form, multipart): the address is checked first and called as
    checked, redirects are never followed, and every call has a timeout."""
    target = check_public_url(url)
    headers = {"User-Agent": "Filrouge", **kwargs.pop("headers", {}), **target.headers}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        return client.request(
            method, target.url, headers=headers, extensions=target.extensions, **kwargs
        )


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
