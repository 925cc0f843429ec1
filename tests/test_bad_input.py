"""Bad input gets a clear 4xx JSON error, nothing is half-written, and the reason is logged."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from filrouge.core.models import Attachment, Conversation, Customer, Event, Identity, Message
from helpers import inbound


def counts(factory: Any) -> dict[str, int]:
    with factory() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Customer, Identity, Conversation, Message, Attachment, Event)
        }


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert error["field"] == field


def test_it_rejects_malformed_json(admin, channel, factory):
    channel("api")
    before = counts(factory)
    response = admin.post(
        "/api/v1/inbound",
        content=b'{"channel_id": 1, "sender": ',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "malformed_json")
    assert counts(factory) == before


def test_it_rejects_invalid_utf8(admin, channel, factory):
    ch = channel("api")
    before = counts(factory)
    body = b'{"channel_id": %d, "sender": {"kind": "email", "value": "a@b.fr"}, "text": "\xff\xfe"}'
    response = admin.post(
        "/api/v1/inbound", content=body % ch["id"], headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in {"malformed_json", "bad_request"}
    assert counts(factory) == before


def test_it_rejects_an_unknown_channel(admin, factory):
    before = counts(factory)
    assert_error(
        admin.post("/api/v1/inbound", json=inbound(999, "a@b.fr")),
        404,
        "unknown_channel",
        "channel_id",
    )
    assert counts(factory) == before


def test_it_rejects_a_missing_sender(admin, channel, factory):
    ch = channel("api")
    before = counts(factory)
    response = admin.post("/api/v1/inbound", json={"channel_id": ch["id"], "text": "Bonjour"})
    assert_error(response, 422, "missing_field", "sender")
    assert counts(factory) == before


def test_it_rejects_text_over_64_kib_with_413(admin, channel, factory):
    ch = channel("api")
    before = counts(factory)
    response = admin.post("/api/v1/inbound", json=inbound(ch["id"], "a@b.fr", text="é" * 33000))
    assert_error(response, 413, "text_too_large", "text")
    assert counts(factory) == before


def test_it_rejects_an_attachment_over_the_limit_and_writes_nothing(admin, channel, factory, app):
    app.state.settings.max_attachment_bytes = 1000
    ch = channel("api")
    before = counts(factory)
    big = base64.b64encode(b"x" * 1001).decode()
    response = admin.post(
        "/api/v1/inbound",
        json=inbound(
            ch["id"],
            "a@b.fr",
            attachments=[
                {"filename": "ok.txt", "content_base64": base64.b64encode(b"ok").decode()},
                {"filename": "big.bin", "content_base64": big},
            ],
        ),
    )
    assert_error(response, 413, "attachment_too_large", "attachments.1")
    assert counts(factory) == before


def test_it_rejects_invalid_base64(admin, channel):
    ch = channel("api")
    response = admin.post(
        "/api/v1/inbound",
        json=inbound(
            ch["id"],
            "a@b.fr",
            attachments=[{"filename": "x.png", "content_base64": "not base64!!"}],
        ),
    )
    assert_error(response, 422, "invalid_base64", "attachments.0.content_base64")


def test_it_rejects_an_invalid_phone_number(admin, channel, factory):
    ch = channel("sms")
    before = counts(factory)
    response = admin.post("/api/v1/inbound", json=inbound(ch["id"], "12", kind="phone"))
    assert_error(response, 422, "invalid_phone", "sender.value")
    assert counts(factory) == before


def test_it_rejects_a_body_larger_than_the_request_limit(admin, channel, factory):
    channel("api")
    before = counts(factory)
    response = admin.post(
        "/api/v1/inbound",
        content=b"{" + b" " * (41 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 413, "request_too_large")
    assert counts(factory) == before


def test_it_rejects_a_streamed_body_larger_than_the_request_limit(admin, channel, factory):
    channel("api")
    before = counts(factory)

    def chunks():
        for _ in range(41):
            yield b" " * (1024 * 1024)

    response = admin.post(
        "/api/v1/inbound", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "request_too_large")
    assert counts(factory) == before


def test_it_rejects_a_merge_of_a_customer_into_itself(admin, channel, factory):
    ch = channel("api")
    created = admin.post("/api/v1/inbound", json=inbound(ch["id"], "a@b.fr")).json()
    before = counts(factory)
    response = admin.post(
        f"/api/v1/customers/{created['customer_id']}/merge",
        json={"other_id": created["customer_id"]},
    )
    assert_error(response, 422, "merge_into_self", "other_id")
    assert counts(factory) == before


def test_it_rejects_unknown_fields(admin, channel):
    ch = channel("api")
    response = admin.post("/api/v1/inbound", json={**inbound(ch["id"], "a@b.fr"), "txet": "x"})
    assert_error(response, 422, "invalid_field", "txet")


@pytest.mark.parametrize("limit", [0, 501, "many"])
def test_it_rejects_a_bad_page_size(admin, limit):
    assert_error(admin.get(f"/api/v1/conversations?limit={limit}"), 422, "invalid_field", "limit")


def test_it_rejects_a_forged_cursor(admin):
    assert_error(admin.get("/api/v1/conversations?cursor=garbage"), 422, "invalid_cursor", "cursor")


def test_it_answers_401_without_a_valid_token(client):
    assert_error(client.get("/api/v1/conversations"), 401, "unauthorized")
    response = client.get("/api/v1/conversations", headers={"Authorization": "Bearer nope"})
    assert_error(response, 401, "invalid_token")


def test_it_answers_in_french_by_default_and_in_english_on_request(admin):
    french = admin.get("/api/v1/conversations/12345").json()["error"]["message"]
    english = admin.get(
        "/api/v1/conversations/12345", headers={"Accept-Language": "en-GB,en;q=0.9"}
    ).json()["error"]["message"]
    assert french == "Il n'y a pas de conversation 12345."
    assert english == "There is no conversation 12345."


def test_it_logs_each_rejection_with_its_reason(admin, caplog):
    with caplog.at_level(logging.INFO, logger="filrouge.rejections"):
        admin.post("/api/v1/inbound", json=inbound(999, "a@b.fr"))
    assert any(
        "unknown_channel" in r.getMessage() and "999" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/conversations/99999999999999999999999999",
        "/api/v1/customers/99999999999999999999999999",
        "/api/v1/attachments/99999999999999999999999999",
        "/api/v1/conversations?team_id=-119779356556385536930390099895575904256",
    ],
)
def test_it_rejects_ids_no_database_can_hold(admin, url):
    response = admin.get(url)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_field"


@pytest.mark.parametrize("text", ["Bonjour\x00", "Bonjour \ud83d"])
def test_it_rejects_text_no_database_can_store(admin, channel, factory, text):
    ch = channel("api")
    before = counts(factory)
    body = json.dumps(inbound(ch["id"], "a@b.fr", text=text)).encode()
    response = admin.post(
        "/api/v1/inbound", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "invalid_field", "text")
    assert counts(factory) == before


def test_it_rejects_an_unknown_kind_of_sender(admin, channel):
    ch = channel("api")
    response = admin.post("/api/v1/inbound", json=inbound(ch["id"], "x", kind="carrier pigeon"))
    assert_error(response, 422, "invalid_field", "sender.kind")


@pytest.mark.parametrize(
    "raw",
    [
        '["0001-01-01T00:00:00+01:00", 1]',
        '["2026-01-01T00:00:00", 1e400]',
        '["2026-01-01T00:00:00", 1180591620717411303424]',
    ],
)
def test_it_rejects_cursors_that_decode_to_nonsense(admin, raw):
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert_error(admin.get(f"/api/v1/conversations?cursor={cursor}"), 422, "invalid_cursor")


def test_it_names_the_allowed_methods_on_a_405(admin):
    response = admin.request("DELETE", "/api/v1/channels")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]
