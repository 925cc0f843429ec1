"""Live chat: the visitor's socket and uploads, and agents' replies pushed back to the widget."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from filrouge.channels.chat.hours import channel_hours
from filrouge.channels.chat.tokens import LIFETIME, issue_token, read_token, signing_key
from filrouge.core.models import Conversation, Identity
from filrouge.web.app import create_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SITE = "https://boutique.example"
PARIS = ZoneInfo("Europe/Paris")


def hello(ws: Any, token: str | None = None, locale: str = "en") -> dict[str, Any]:
    ws.send_json({"type": "hello", "token": token, "locale": locale})
    welcome: dict[str, Any] = ws.receive_json()
    assert welcome["type"] == "welcome", welcome
    return welcome


def say(ws: Any, text: str, client_id: str = "c1") -> dict[str, Any]:
    ws.send_json({"type": "message", "text": text, "client_id": client_id})
    return next_of(ws, "ack")


def next_of(ws: Any, kind: str) -> dict[str, Any]:
    """The next frame of ``kind`` (frames of other kinds may come first)."""
    for _ in range(20):
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def close_code(ws: Any) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    return closed.value.code


@pytest.fixture
def chat(channel: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return channel("chat", "Chat du site", allowed_origins=[SITE])


@pytest.fixture
def online(make_browser: Callable[..., Any]) -> Any:
    """An agent signed in a moment ago: the team is there."""
    return make_browser("agent", name="Léa Martin")


def test_it_keeps_a_chat_in_one_conversation_and_pushes_the_agents_reply(
    client, admin, chat, online
):
    url = f"/hooks/chat/{chat['id']}/ws"
    with client.websocket_connect(url, headers={"origin": SITE}) as ws:
        welcome = hello(ws)
        assert welcome["messages"] == []
        assert welcome["availability"]["online"] is True
        first = say(ws, "Bonjour, ma commande est en retard", "m1")
        conversation_id = admin.get(f"/api/v1/conversations?channel_id={chat['id']}").json()[
            "items"
        ][0]["id"]
        reply = admin.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            json={"text": "Je regarde tout de suite."},
        )
        assert reply.status_code == 201, reply.text
        pushed = next_of(ws, "message")["message"]
        while pushed["from"] != "agent":
            pushed = next_of(ws, "message")["message"]
        assert pushed["text"].startswith("Je regarde tout de suite.")
        assert pushed["author"] == "Camille"
    assert (
        admin.get(f"/api/v1/conversations/{conversation_id}").json()["messages"][-1]["status"]
        == "sent"
    )
    with client.websocket_connect(url) as ws:  # a later visit, another page
        again = hello(ws, welcome["token"])
        assert [m["from"] for m in again["messages"]] == ["visitor", "agent"]
        assert again["messages"][0]["id"] == first["message_id"]
        second = say(ws, "Merci !", "m2")
    thread = admin.get(f"/api/v1/conversations/{conversation_id}").json()["messages"]
    assert second["message_id"] in [m["id"] for m in thread]


def test_it_keeps_a_reply_for_a_visitor_who_left_until_they_come_back(client, admin, chat):
    url = f"/hooks/chat/{chat['id']}/ws"
    with client.websocket_connect(url) as ws:
        token = hello(ws)["token"]
        say(ws, "Vous êtes là ?")
    conversation = admin.get("/api/v1/conversations").json()["items"][0]
    admin.post(f"/api/v1/conversations/{conversation['id']}/replies", json={"text": "Oui !"})
    with client.websocket_connect(url) as ws:
        history = hello(ws, token)["messages"]
    assert history[-1]["from"] == "agent"
    assert history[-1]["text"].startswith("Oui !")


def test_it_stores_a_resent_message_once(client, admin, chat):
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        hello(ws)
        first = say(ws, "Allô ?", "same-id")
        again = say(ws, "Allô ?", "same-id")  # the widget resends after a lost connection
    assert again["message_id"] == first["message_id"]


def test_it_answers_bad_frames_with_an_error_and_keeps_the_socket_open(client, chat):
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        hello(ws)
        ws.send_text("not json {")
        assert next_of(ws, "error")["code"] == "not_json"
        ws.send_json({"type": "shout", "text": "x"})
        assert next_of(ws, "error")["code"] == "unknown_type"
        ws.send_json({"type": "message", "text": "   "})
        error = next_of(ws, "error")
        assert (error["code"], error["message"]) == ("empty_text", "The message is empty.")
        ws.send_json({"type": "contact", "email": "pas-un-email"})
        assert next_of(ws, "error")["code"] == "invalid_email"
        assert say(ws, "Toujours là")["message_id"] > 0


def test_it_closes_a_socket_that_sends_an_oversize_frame(client, chat, settings):
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        hello(ws)
        ws.send_text(json.dumps({"type": "message", "text": "x" * 3 * settings.max_text_bytes}))
        assert close_code(ws) == 1009


def test_it_refuses_a_forged_or_expired_visitor_token(client, chat, settings):
    key = signing_key(settings)
    forged = issue_token(b"not the server's key, not at all" * 2, chat["id"], "v" * 24)
    expired = issue_token(key, chat["id"], "v" * 24, datetime.now(UTC) - LIFETIME - timedelta(1))
    for token in (forged, expired, "v1.1.abc.1.xyz"):
        with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
            ws.send_json({"type": "hello", "token": token})
            assert close_code(ws) == 4401
    assert read_token(key, chat["id"], issue_token(key, chat["id"], "v" * 24)) == "v" * 24
    assert read_token(key, chat["id"] + 1, issue_token(key, chat["id"], "v" * 24)) is None


def test_it_refuses_channels_that_are_not_active_chats(client, channel):
    api = channel("api")
    for channel_id in (api["id"], 999_999):
        with client.websocket_connect(f"/hooks/chat/{channel_id}/ws") as ws:
            assert close_code(ws) == 4404
        assert client.get(f"/widget/{channel_id}.js").status_code == 404


def test_it_refuses_sites_that_are_not_allowed(client, chat):
    url = f"/hooks/chat/{chat['id']}/ws"
    with client.websocket_connect(url, headers={"origin": "https://evil.example"}) as ws:
        assert close_code(ws) == 4403
    with client.websocket_connect(url, headers={"origin": SITE}) as ws:
        token = hello(ws)["token"]
    upload = f"/hooks/chat/{chat['id']}/upload"
    evil = client.post(
        upload,
        files={"file": ("a.png", PNG, "image/png")},
        headers={"origin": "https://evil.example", "X-Filrouge-Visitor": token},
    )
    assert evil.status_code == 403
    assert "access-control-allow-origin" not in evil.headers
    preflight = client.options(upload, headers={"origin": SITE})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    assert client.options(upload, headers={"origin": "https://evil.example"}).status_code == 403


def test_it_limits_how_many_messages_a_visitor_sends_per_minute(client, channel):
    limited = channel("chat", messages_per_minute=2)
    with client.websocket_connect(f"/hooks/chat/{limited['id']}/ws") as ws:
        hello(ws)
        say(ws, "un", "a1")
        say(ws, "deux", "a2")
        ws.send_json({"type": "message", "text": "trois", "client_id": "a3"})
        error = next_of(ws, "error")
    assert error["code"] == "rate_limited"
    assert "wait a minute" in error["message"]


def test_it_takes_a_photo_from_the_visitor_and_shows_it_only_to_them(client, admin, chat):
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        token = hello(ws)["token"]
        say(ws, "Voici le colis abîmé")
    sent = client.post(
        f"/hooks/chat/{chat['id']}/upload",
        files={"file": ("IMG_0042.jpg", PNG, "image/jpeg")},
        data={"client_id": "photo1"},
        headers={"origin": SITE, "X-Filrouge-Visitor": token},
    )
    assert sent.status_code == 201, sent.text
    assert sent.headers["access-control-allow-origin"] == SITE
    thread = admin.get(f"/api/v1/conversations/{sent.json()['conversation_id']}").json()
    photo = thread["messages"][-1]["attachments"][0]
    assert photo["content_type"] == "image/png"  # what the bytes are, not what was claimed
    own = f"/hooks/chat/{chat['id']}/attachments/{photo['id']}"
    assert client.get(own, params={"token": token}).content == PNG
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        stranger = hello(ws)["token"]
    assert client.get(own, params={"token": stranger}).status_code == 404
    assert client.get(own, params={"token": "forged"}).status_code == 401


def test_it_takes_a_short_video_from_the_phones_camera_and_agents_see_it_inline(
    client, admin, chat, make_browser
):
    # The first bytes of an MP4 as phones record them: an ``ftyp`` box naming the brand.
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        token = hello(ws)["token"]
        say(ws, "Regardez la fuite")
    sent = client.post(
        f"/hooks/chat/{chat['id']}/upload",
        files={"file": ("VID_0007.mp4", video, "video/mp4")},
        data={"client_id": "video1"},
        headers={"origin": SITE, "X-Filrouge-Visitor": token},
    )
    assert sent.status_code == 201, sent.text
    conversation_id = sent.json()["conversation_id"]
    thread = admin.get(f"/api/v1/conversations/{conversation_id}").json()
    clip = thread["messages"][-1]["attachments"][0]
    assert clip["content_type"] == "video/mp4"
    page = make_browser("agent").get(f"/conversations/{conversation_id}").text
    assert f'<video class="attachment" src="/attachments/{clip["id"]}"' in page


def test_it_refuses_a_file_over_the_size_limit(engine, tmp_path, admin, chat):
    from filrouge.settings import Settings

    small = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path / "var",
        max_attachment_bytes=32,
    )
    with TestClient(create_app(small, engine)) as client:
        with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
            welcome = hello(ws)
        assert welcome["limits"]["max_bytes"] == 32
        refused = client.post(
            f"/hooks/chat/{chat['id']}/upload",
            files={"file": ("big.png", PNG, "image/png")},
            headers={"X-Filrouge-Visitor": welcome["token"], "Accept-Language": "en"},
        )
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "attachment_too_large"


def test_it_says_when_the_team_is_away_and_asks_for_an_email(client, admin, channel, factory):
    tomorrow = (datetime.now(PARIS) + timedelta(days=1)).strftime("%a").lower()
    closed = channel("chat", hours={tomorrow: [["00:00", "24:00"]]}, holidays_country="")
    with client.websocket_connect(f"/hooks/chat/{closed['id']}/ws") as ws:
        welcome = hello(ws)
        assert welcome["availability"]["online"] is False
        assert welcome["availability"]["reason"] == "closed"
        assert welcome["availability"]["next"] is not None
        ack = say(ws, "Mon colis n'est pas arrivé")
        assert ack["availability"]["online"] is False
        ws.send_json({"type": "contact", "name": "Jeanne", "email": "Jeanne@Example.fr"})
        assert next_of(ws, "contact")["email"] == "jeanne@example.fr"
    with factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert "suivi-email" in conversation.tags
        email = session.scalars(select(Identity).where(Identity.kind == "email")).one()
        assert (email.value, email.verified) == ("jeanne@example.fr", False)
        assert email.customer_id == conversation.customer_id


def test_it_says_nobody_is_there_when_no_agent_is_signed_in(client, chat):
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        availability = hello(ws)["availability"]
    assert availability == {"online": False, "reason": "no_agent", "next": None}


def test_it_tells_the_visitor_when_an_agent_types(client, admin, chat, online):
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        hello(ws)
        say(ws, "Bonjour")
        conversation_id = admin.get("/api/v1/conversations").json()["items"][0]["id"]
        typed = online.post(f"/conversations/{conversation_id}/presence", {"state": "typing"})
        assert typed.status_code == 204
        assert next_of(ws, "typing")["name"] == "Léa"


def test_it_keeps_visitor_markup_as_text(client, chat, online):
    with client.websocket_connect(f"/hooks/chat/{chat['id']}/ws") as ws:
        hello(ws)
        say(ws, "<script>alert(1)</script><b>gras</b>")
    page = online.get("/inbox").text
    assert "<script>alert(1)</script>" not in page
    conversation_page = online.get("/conversations/1").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;gras&lt;/b&gt;" in conversation_page


def test_it_serves_the_widget_and_a_demo_page(client, chat):
    script = client.get(f"/widget/{chat['id']}.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "Écrivez votre message…" in script.text or "Write your message…" in script.text
    assert "</script>" not in script.text.split("(function (config)")[1]
    demo = client.get(f"/widget/{chat['id']}/demo", headers={"Accept-Language": "en"})
    assert f'src="/widget/{chat["id"]}.js"' in demo.text
    assert "Chat du site" in demo.text


def test_it_opens_after_public_holidays_on_the_next_working_day():
    hours = channel_hours(
        {"hours": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}},
        "Europe/Paris",
        "FR",
    )
    assert hours is not None
    thursday_evening = datetime(2026, 4, 30, 19, 0, tzinfo=PARIS)  # Friday is 1 May
    assert hours.next_opening(thursday_evening) == datetime(2026, 5, 4, 9, 0, tzinfo=PARIS)
    assert not hours.is_open(datetime(2026, 5, 1, 10, 0, tzinfo=PARIS))
    assert hours.is_open(datetime(2026, 5, 4, 10, 0, tzinfo=PARIS))
