"""The ingestion pipeline through ``POST /api/v1/inbound``: idempotency, identities, threading."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from filrouge.core.blobs import BlobStore
from filrouge.core.models import Attachment, Event, Message
from helpers import inbound

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # all test dates are in the past


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def post(admin: Any, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = admin.post("/api/v1/inbound", json=body)
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


def test_it_stores_a_retried_delivery_once(admin, channel, factory):
    ch = channel("api")
    first = post(admin, inbound(ch["id"], "jeanne@example.fr", provider_message_id="p-1"))
    again = post(admin, inbound(ch["id"], "jeanne@example.fr", provider_message_id="p-1"), 200)
    assert first["duplicate"] is False
    assert again == {**first, "duplicate": True}
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_it_accepts_the_same_provider_id_on_two_channels(admin, channel):
    one, two = channel("api", "one"), channel("api", "two")
    a = post(admin, inbound(one["id"], "jeanne@example.fr", provider_message_id="42"))
    b = post(admin, inbound(two["id"], "jeanne@example.fr", provider_message_id="42"))
    assert a["message_id"] != b["message_id"]


def test_it_finds_the_customer_by_normalised_identity(admin, channel):
    ch = channel("api")
    a = post(admin, inbound(ch["id"], "Jeanne.Martin@Example.FR"))
    b = post(admin, inbound(ch["id"], "  jeanne.martin@example.fr "))
    assert a["customer_id"] == b["customer_id"]
    customer = admin.get(f"/api/v1/customers/{a['customer_id']}").json()
    assert [i["value"] for i in customer["identities"]] == ["jeanne.martin@example.fr"]


def test_it_normalises_phone_numbers_to_e164(admin, channel):
    sms = channel("sms")
    a = post(admin, inbound(sms["id"], "06 12 34 56 78", kind="phone"))
    b = post(admin, inbound(sms["id"], "+33 6 12 34 56 78", kind="phone"))
    assert a["customer_id"] == b["customer_id"]
    customer = admin.get(f"/api/v1/customers/{a['customer_id']}").json()
    assert customer["identities"][0]["value"] == "+33612345678"


def test_it_links_a_verified_whatsapp_number_to_the_verified_phone_owner(admin, channel):
    sms, whatsapp = channel("sms"), channel("whatsapp")
    a = post(admin, inbound(sms["id"], "0612345678", kind="phone", verified=True, name="Jeanne"))
    b = post(admin, inbound(whatsapp["id"], "+33612345678", kind="whatsapp", verified=True))
    assert b["customer_id"] == a["customer_id"]
    kinds = {
        i["kind"] for i in admin.get(f"/api/v1/customers/{a['customer_id']}").json()["identities"]
    }
    assert kinds == {"phone", "whatsapp"}


def test_it_never_links_an_unverified_email_to_a_known_customer(admin, channel):
    email, chat = channel("email"), channel("chat")
    known = post(admin, inbound(email["id"], "jeanne@example.fr", verified=True))
    typed = post(admin, inbound(chat["id"], "visitor-77", kind="chat_visitor"))
    claimed = post(admin, inbound(chat["id"], "jeanne@example.fr", verified=False))
    assert typed["customer_id"] != known["customer_id"]
    # Same normalised identity: it is the same identity, found directly.
    assert claimed["customer_id"] == known["customer_id"]


def test_it_keeps_an_unverified_phone_apart_from_the_verified_owner(admin, channel):
    sms, web = channel("sms"), channel("web_form")
    owner = post(admin, inbound(sms["id"], "+33612345678", kind="phone", verified=True))
    other = post(admin, inbound(web["id"], "+33612345678", kind="whatsapp", verified=False))
    assert other["customer_id"] != owner["customer_id"]


def test_it_threads_a_reply_by_in_reply_to_even_after_the_window(admin, channel):
    ch = channel("email")
    first = post(
        admin, inbound(ch["id"], "a@example.fr", provider_message_id="<m1@x>", occurred_at=at(0))
    )
    later = post(
        admin,
        inbound(
            ch["id"],
            "a@example.fr",
            provider_message_id="<m2@x>",
            in_reply_to=["<m1@x>"],
            occurred_at=at(24 * 30),
        ),
    )
    assert later["conversation_id"] == first["conversation_id"]


def test_it_threads_by_the_providers_thread_key_for_each_customer(admin, channel):
    ch = channel("facebook_comments")
    public = {"kind": "facebook", "visibility": "public", "thread_key": "post_1"}
    a = post(admin, inbound(ch["id"], "fb-1", occurred_at=at(0), **public))
    b = post(admin, inbound(ch["id"], "fb-2", occurred_at=at(1), **public))
    again = post(admin, inbound(ch["id"], "fb-1", occurred_at=at(24 * 30), **public))
    assert again["conversation_id"] == a["conversation_id"]
    assert b["conversation_id"] != a["conversation_id"]


def test_it_never_threads_into_another_customers_conversation(admin, channel):
    ch = channel("email")
    victim = post(admin, inbound(ch["id"], "victim@example.fr", provider_message_id="<v1@x>"))
    other = post(admin, inbound(ch["id"], "other@example.fr", in_reply_to=["<v1@x>"], text="Hi"))
    assert other["conversation_id"] != victim["conversation_id"]
    detail = admin.get(f"/api/v1/conversations/{victim['conversation_id']}").json()
    assert [m["text"] for m in detail["messages"]] == ["Bonjour"]


def test_it_keeps_an_unverified_claim_of_a_verified_address_out_of_the_thread(admin, channel):
    email, form = channel("email"), channel("web_form")
    owner = post(admin, inbound(email["id"], "ceo@corp.fr", verified=True, occurred_at=at(0)))
    claim = post(
        admin,
        inbound(
            form["id"], "ceo@corp.fr", verified=False, occurred_at=at(1), in_reply_to=["nothing"]
        ),
    )
    assert claim["conversation_id"] != owner["conversation_id"]
    detail = admin.get(f"/api/v1/conversations/{owner['conversation_id']}").json()
    assert len(detail["messages"]) == 1
    assert detail["channel_id"] == email["id"]


def test_it_reads_a_date_in_the_future_as_now(admin, channel):
    ch = channel("email")
    future = post(admin, inbound(ch["id"], "a@example.fr", occurred_at="2099-01-01T00:00:00Z"))
    detail = admin.get(f"/api/v1/conversations/{future['conversation_id']}").json()
    assert detail["messages"][0]["created_at"] < "2030"
    later = post(admin, inbound(ch["id"], "b@example.fr"))
    first = admin.get("/api/v1/conversations?limit=1").json()["items"][0]
    assert first["id"] == later["conversation_id"]


def test_it_continues_the_open_conversation_when_the_customer_switches_channel(admin, channel):
    x, whatsapp = channel("x", "X @marque"), channel("whatsapp")
    post(admin, inbound(x["id"], "+33612345678", kind="whatsapp", verified=True, occurred_at=at(0)))
    moved = post(
        admin,
        inbound(
            whatsapp["id"],
            "+33612345678",
            kind="whatsapp",
            verified=True,
            occurred_at=at(2),
            text="Je vous écris ici",
        ),
    )
    detail = admin.get(f"/api/v1/conversations/{moved['conversation_id']}").json()
    assert detail["channel_id"] == whatsapp["id"]
    assert detail["origin_channel_id"] == x["id"]
    assert [m["channel_id"] for m in detail["messages"]] == [x["id"], whatsapp["id"]]
    assert detail["channel_switches"][0]["from_channel_id"] == x["id"]
    assert detail["channel_switches"][0]["to_channel_id"] == whatsapp["id"]


def test_it_starts_a_new_conversation_after_the_thread_window(admin, channel):
    ch = channel("api")
    a = post(admin, inbound(ch["id"], "a@example.fr", occurred_at=at(0)))
    b = post(admin, inbound(ch["id"], "a@example.fr", occurred_at=at(24 * 7 + 1)))
    assert a["conversation_id"] != b["conversation_id"]
    assert a["customer_id"] == b["customer_id"]


def test_it_reads_the_thread_window_from_the_setting(admin, channel, app):
    app.state.settings.thread_window = timedelta(hours=1)
    ch = channel("api")
    a = post(admin, inbound(ch["id"], "a@example.fr", occurred_at=at(0)))
    b = post(admin, inbound(ch["id"], "a@example.fr", occurred_at=at(0.5)))
    c = post(admin, inbound(ch["id"], "a@example.fr", occurred_at=at(2)))
    assert a["conversation_id"] == b["conversation_id"] != c["conversation_id"]


def test_it_reopens_a_resolved_conversation(admin, channel):
    ch = channel("api")
    a = post(admin, inbound(ch["id"], "a@example.fr", occurred_at=at(0)))
    admin.patch(f"/api/v1/conversations/{a['conversation_id']}", json={"status": "resolved"})
    b = post(admin, inbound(ch["id"], "a@example.fr", occurred_at=at(1)))
    assert b["conversation_id"] == a["conversation_id"]
    assert admin.get(f"/api/v1/conversations/{a['conversation_id']}").json()["status"] == "open"


def test_it_starts_a_follow_up_instead_of_reopening_a_closed_conversation(admin, channel):
    ch = channel("email")
    a = post(admin, inbound(ch["id"], "a@example.fr", provider_message_id="<m1@x>"))
    admin.patch(f"/api/v1/conversations/{a['conversation_id']}", json={"status": "closed"})
    b = post(admin, inbound(ch["id"], "a@example.fr", in_reply_to="<m1@x>"))
    assert b["conversation_id"] != a["conversation_id"]
    assert admin.get(f"/api/v1/conversations/{a['conversation_id']}").json()["status"] == "closed"


def test_it_keeps_a_public_post_out_of_a_private_conversation(admin, channel):
    whatsapp, x = channel("whatsapp"), channel("x")
    private = post(
        admin,
        inbound(whatsapp["id"], "+33612345678", kind="whatsapp", verified=True, occurred_at=at(0)),
    )
    public = post(
        admin,
        inbound(
            x["id"],
            "+33612345678",
            kind="whatsapp",
            verified=True,
            visibility="public",
            occurred_at=at(1),
        ),
    )
    assert public["conversation_id"] != private["conversation_id"]
    assert (
        admin.get(f"/api/v1/conversations/{public['conversation_id']}").json()["visibility"]
        == "public"
    )


def test_it_moves_a_public_conversation_to_private_when_the_customer_writes_privately(
    admin, channel
):
    x, whatsapp = channel("x"), channel("whatsapp")
    public = post(
        admin,
        inbound(
            x["id"],
            "+33612345678",
            kind="whatsapp",
            verified=True,
            visibility="public",
            occurred_at=at(0),
        ),
    )
    private = post(
        admin,
        inbound(whatsapp["id"], "+33612345678", kind="whatsapp", verified=True, occurred_at=at(1)),
    )
    assert private["conversation_id"] == public["conversation_id"]
    detail = admin.get(f"/api/v1/conversations/{public['conversation_id']}").json()
    assert detail["visibility"] == "private"
    assert [m["visibility"] for m in detail["messages"]] == ["public", "private"]


def test_it_sanitises_html_from_outside(admin, channel):
    ch = channel("api")
    html = (
        '<p onclick="steal()">Bonjour <script>alert(1)</script><a href="javascript:x">lien</a></p>'
    )
    a = post(admin, inbound(ch["id"], "a@example.fr", html=html))
    message = admin.get(f"/api/v1/conversations/{a['conversation_id']}").json()["messages"][0]
    assert "script" not in message["html"]
    assert "onclick" not in message["html"]
    assert "javascript" not in message["html"]
    assert "Bonjour" in message["html"]


def test_it_stores_attachment_bytes_by_content(admin, channel, factory, settings):
    ch = channel("chat")
    photo = b"\x89PNG\r\n\x1a\n fake photo bytes"
    a = post(
        admin,
        inbound(
            ch["id"],
            "visitor-1",
            kind="chat_visitor",
            attachments=[
                {
                    "filename": "colis.png",
                    "content_type": "image/png",
                    "content_base64": base64.b64encode(photo).decode(),
                },
                {
                    "filename": "video.mp4",
                    "content_type": "video/mp4",
                    "url": "https://cdn.test/v.mp4",
                },
            ],
        ),
    )
    message = admin.get(f"/api/v1/conversations/{a['conversation_id']}").json()["messages"][0]
    assert [(x["filename"], x["size"]) for x in message["attachments"]] == [
        ("colis.png", len(photo)),
        ("video.mp4", None),
    ]
    with factory() as session:
        stored = session.scalars(select(Attachment).order_by(Attachment.id)).first()
        assert stored is not None
        assert stored.sha256 is not None
        assert BlobStore(settings.attachments_dir).get(stored.sha256) == photo
    download = admin.get(f"/api/v1/attachments/{message['attachments'][0]['id']}")
    assert download.status_code == 200
    assert download.content == photo
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    link = admin.get(
        f"/api/v1/attachments/{message['attachments'][1]['id']}", follow_redirects=False
    )
    assert (link.status_code, link.headers["location"]) == (307, "https://cdn.test/v.mp4")


def test_it_records_events_for_every_change(admin, channel, factory):
    x, whatsapp = channel("x"), channel("whatsapp")
    first = post(
        admin, inbound(x["id"], "+33612345678", kind="whatsapp", verified=True, occurred_at=at(0))
    )
    post(
        admin,
        inbound(whatsapp["id"], "+33612345678", kind="whatsapp", verified=True, occurred_at=at(1)),
    )
    with factory() as session:
        events = list(
            session.scalars(
                select(Event)
                .where(Event.subject_type.in_(("customer", "conversation")))
                .order_by(Event.id)
            )
        )
    assert [e.action for e in events] == [
        "customer.created",
        "identity.added",
        "conversation.created",
        "message.received",
        "conversation.channel_switched",
        "message.received",
    ]
    switch = events[4]
    assert (switch.subject_type, switch.subject_id) == ("conversation", first["conversation_id"])
    assert switch.before == {"channel_id": x["id"]}
    assert switch.after is not None
    assert switch.after["channel_id"] == whatsapp["id"]
    assert switch.actor_kind == "channel"
    assert switch.actor_id == whatsapp["id"]


def test_it_publishes_an_event_only_after_commit(admin, channel):
    from filrouge.core.events import subscribe, unsubscribe

    seen: list[dict[str, Any]] = []

    def handler(event: Any) -> None:
        seen.append(event.payload)

    subscribe("message.received", handler)
    try:
        ch = channel("api")
        ok = post(admin, inbound(ch["id"], "a@example.fr"))
        admin.post("/api/v1/inbound", json=inbound(ch["id"], "a@example.fr", text="x" * 70000))
    finally:
        unsubscribe("message.received", handler)
    assert seen == [
        {
            "message_id": ok["message_id"],
            "conversation_id": ok["conversation_id"],
            "customer_id": ok["customer_id"],
            "channel_id": ch["id"],
        }
    ]


def test_it_stores_a_batch_and_answers_for_each_item(admin, channel, factory):
    ch = channel("whatsapp")
    items = [
        inbound(
            ch["id"], "+33612345678", kind="whatsapp", provider_message_id="w1", occurred_at=at(0)
        ),
        inbound(
            ch["id"], "+33612345678", kind="whatsapp", provider_message_id="w2", occurred_at=at(0.1)
        ),
        inbound(
            ch["id"], "+33698765432", kind="whatsapp", provider_message_id="w3", occurred_at=at(0.2)
        ),
    ]
    response = admin.post("/api/v1/inbound:batch", json={"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["items"]
    assert [r["duplicate"] for r in results] == [False, False, False]
    assert results[0]["conversation_id"] == results[1]["conversation_id"]
    assert results[2]["customer_id"] != results[0]["customer_id"]
    again = admin.post("/api/v1/inbound:batch", json={"items": items}).json()["items"]
    assert [r["message_id"] for r in again] == [r["message_id"] for r in results]
    assert all(r["duplicate"] for r in again)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 3


def test_it_stores_the_good_messages_of_a_batch_and_refuses_the_bad_one(admin, channel, factory):
    ch = channel("sms")
    items = [
        inbound(ch["id"], "+33612345678", kind="phone", provider_message_id="s1"),
        inbound(ch["id"], "not a number", kind="phone", provider_message_id="s2"),
        inbound(
            ch["id"],
            "+33612345678",
            kind="phone",
            provider_message_id="s3",
            attachments=[{"filename": "x", "url": "javascript:alert(1)"}],
        ),
        inbound(ch["id"], "+33698765432", kind="phone", provider_message_id="s4"),
    ]
    results = admin.post(
        "/api/v1/inbound:batch", json={"items": items}, headers={"Accept-Language": "en"}
    ).json()["items"]
    assert [r["error"]["code"] if r["error"] else "ok" for r in results] == [
        "ok",
        "invalid_phone",
        "invalid_url",
        "ok",
    ]
    assert results[1]["error"]["message"] == "not a number is not a phone number."
    with factory() as session:
        stored = set(session.scalars(select(Message.provider_message_id)))
    assert stored == {"s1", "s4"}


def test_it_answers_a_second_copy_within_one_batch_as_a_duplicate(admin, channel, factory):
    ch = channel("whatsapp")
    item = inbound(ch["id"], "+33612345678", kind="whatsapp", provider_message_id="w1")
    results = admin.post("/api/v1/inbound:batch", json={"items": [item, item]}).json()["items"]
    assert [r["duplicate"] for r in results] == [False, True]
    assert results[0]["message_id"] == results[1]["message_id"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
