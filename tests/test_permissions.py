"""Every route has a rule, and every role gets exactly what the rule says (role × route)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import update

from filrouge.core.models import User
from filrouge.core.models.enums import Role
from filrouge.web.deps import permission_of
from filrouge.web.permissions import RULES
from helpers import receive

STREAMS = {"/events"}
PUBLIC_PATHS = {
    "/",
    "/login",
    "/invite/{token}",  # the link's token is the proof
    "/forms/{channel_id}",  # the public contact form: honeypot, signed time, rate limit
    "/healthz",
    # Prometheus: readable from this machine, or with FILROUGE_METRICS_TOKEN only; no customer
    # data in it (tests/test_metrics.py)
    "/metrics",
    # a customer's satisfaction survey: the link's random token is the credential
    # (tests/test_surveys.py)
    "/survey/{token}",
    # the transparency page and its JSON, published by an admin: counts only, no personal
    # data; 404 unless published (tests/test_transparency.py)
    "/transparency/{token}",
    "/api/v1/public/transparency/{token}",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/docs/oauth2-redirect",
    # a customer's "call me back" page: no account; a signed timestamp, a honeypot and a
    # per-address limit protect it instead (tests/test_callbacks.py)
    "/callback/{channel_id}",
    # Live chat, for visitors of customers' sites, who have no account: the widget's script
    # and its demo page are public; the socket (not an APIRoute, listed for the record), the
    # uploads (and their CORS preflight) and the visitor's own files take the signed visitor
    # token as their only credential (tests/test_chat_channel.py).
    "/widget/{channel_id}.js",
    "/widget/{channel_id}/demo",
    "/hooks/chat/{channel_id}/ws",
    "/hooks/chat/{channel_id}/upload",
    "/hooks/chat/{channel_id}/attachments/{attachment_id}",
    # Provider webhooks (Meta, X, Telegram, Twilio): the provider's signature with the
    # channel's secret is the credential, checked before anything is stored
    # (tests/test_provider_hooks.py and each provider's tests).
    "/hooks/{kind}/{channel_id}",
}


def permissions_of(route: APIRoute) -> list[str]:
    found: list[str] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is not None and permission_of(dependant.call):
            found.append(str(permission_of(dependant.call)))
        stack.extend(dependant.dependencies)
    return found


def api_routes(app: Any) -> list[tuple[str, APIRoute]]:
    """(full path, route) for every API route, inside included routers too."""
    return [(path, r) for path, r in _walk(app.routes, "") if path not in PUBLIC_PATHS]


def _walk(routes: list[Any], prefix: str) -> list[tuple[str, APIRoute]]:
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):  # FastAPI keeps included routers lazily
            found += _walk(route.original_router.routes, prefix + route.include_context.prefix)
    return found


def test_it_has_exactly_one_rule_on_every_route(app):
    routes = api_routes(app)
    assert len(routes) >= 12
    missing = [f"{sorted(r.methods)} {p}" for p, r in routes if len(permissions_of(r)) != 1]
    assert missing == []


def test_it_uses_every_rule_it_declares(app):
    used = {p for _, r in api_routes(app) for p in permissions_of(r)}
    assert used == set(RULES)


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_it_enforces_the_rule_for_each_role_on_each_route(app, make_caller, make_browser, role):
    caller = make_caller(role)
    browser = make_browser(role, email=f"{role}.browser@example.test")
    routes = sorted(api_routes(app), key=lambda item: item[0] == "/logout")  # sign out last
    for full_path, route in routes:
        permission = permissions_of(route)[0]
        method = sorted(route.methods)[0]
        path = re.sub(r"\{\w+\}", "1", full_path)
        if path in STREAMS:  # never ends when allowed: checked against a live server
            assert role in RULES[permission]  # in test_realtime.py
            continue
        if path.startswith(("/api/", "/hooks/")):  # API tokens
            response = caller.request(method, path, json={})
        else:  # a page: the browser's cookie, and its CSRF token on every change
            headers = {"X-CSRF-Token": browser.csrf_token}
            response = browser.client.request(method, path, headers=headers)
        allowed = role in RULES[permission]
        assert (response.status_code == 403) is (not allowed), (
            f"{role} {method} {path}: {response.status_code} {response.text[:300]}"
        )


def test_it_shows_contributors_only_conversations_of_their_expertise_or_theirs(
    admin, make_caller, channel, factory
):
    contributor = make_caller("contributor")
    with factory() as session, session.begin():
        session.execute(
            update(User).where(User.id == contributor.user.id).values(expertise=["literie"])
        )
    ch = channel("api")
    mattress = receive(admin, ch["id"], "a@example.fr", text="Mon matelas s'affaisse")
    other = receive(admin, ch["id"], "b@example.fr", text="Où est ma commande ?")
    admin.patch(f"/api/v1/conversations/{mattress['conversation_id']}", json={"tags": ["Literie"]})
    listed = [c["id"] for c in contributor.get("/api/v1/conversations").json()["items"]]
    assert listed == [mattress["conversation_id"]]
    assert contributor.get(f"/api/v1/conversations/{other['conversation_id']}").status_code == 404
    assert contributor.get(f"/api/v1/customers/{other['customer_id']}").status_code == 404
    admin.patch(
        f"/api/v1/conversations/{other['conversation_id']}",
        json={"assignee_id": contributor.user.id},
    )
    assert contributor.get(f"/api/v1/conversations/{other['conversation_id']}").status_code == 200
