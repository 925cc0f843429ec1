"""The one outbound HTTP client calls the address it checked: a provider's name is resolved once,
and a DNS answer that changes afterwards (DNS rebinding) never reaches a private address."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import pytest

from fake_provider import fake_provider
from filrouge.lib import http

NAME = "filrouge-provider.test"  # a reserved name: nothing outside this test resolves it


@dataclass
class Resolver:
    """Resolves NAME to each of ``answers`` in turn and records every look-up of it."""

    answers: list[str] = field(default_factory=list)
    looked_up: list[str] = field(default_factory=list)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    monkeypatch.setenv("FILROUGE_HTTP_LOOPBACK_ONLY", "0")
    fake = Resolver()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return real(host, port, *args, **kwargs)
        fake.looked_up.append(host)
        address = fake.answers[min(len(fake.looked_up), len(fake.answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


def test_it_calls_the_address_it_checked_and_never_resolves_the_name_again(
    resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILROUGE_HTTP_ALLOW_PRIVATE", "1")
    resolver.answers.extend(["127.0.0.1", "10.20.30.40"])  # the second answer would be the attack
    with fake_provider() as provider:
        port = provider.url.split(":")[2].split("/")[0]
        response = http.send_request("POST", f"http://{NAME}:{port}/hook", json={"a": 1})
    assert response.status_code == 200
    assert len(provider.received) == 1
    assert provider.received[0].headers["Host"] == f"{NAME}:{port}"
    assert resolver.looked_up == [NAME]


def test_it_refuses_a_name_that_resolves_to_a_private_address(
    resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILROUGE_HTTP_ALLOW_PRIVATE", "0")
    resolver.answers.append("10.20.30.40")
    with pytest.raises(http.BlockedAddress, match="private address"):
        http.send_request("GET", f"https://{NAME}/v1/me")
    with pytest.raises(http.BlockedAddress, match="private address"):
        http.send_request("GET", "http://192.168.1.1/admin")


def test_it_keeps_the_name_for_tls_when_it_calls_the_address(
    resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILROUGE_HTTP_ALLOW_PRIVATE", "1")
    resolver.answers.append("127.0.0.1")
    target = http.check_public_url(f"https://{NAME}/v20.0/me/messages?x=1")
    assert target.url == "https://127.0.0.1/v20.0/me/messages?x=1"
    assert target.headers == {"Host": NAME}
    assert target.extensions == {"sni_hostname": NAME}  # SNI and the certificate's name
