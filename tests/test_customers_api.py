"""Customers over HTTP: identities, the cross-channel timeline, updates and merges."""

from __future__ import annotations

from sqlalchemy import func, select

from filrouge.core.models import Conversation, Event, Identity, Message
from helpers import receive


def test_it_creates_a_customer_with_normalised_identities(admin):
    response = admin.post(
        "/api/v1/customers",
        json={
            "name": "Jeanne Martin",
            "identities": [
                {"kind": "email", "value": "Jeanne@Example.fr", "verified": True},
                {"kind": "phone", "value": "06 12 34 56 78"},
            ],
            "attributes": {"city": "Lyon", "vip": True},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [(i["kind"], i["value"]) for i in body["identities"]] == [
        ("email", "jeanne@example.fr"),
        ("phone", "+33612345678"),
    ]
    assert body["attributes"] == {"city": "Lyon", "vip": True}


def test_it_refuses_an_identity_that_already_belongs_to_someone(admin):
    admin.post("/api/v1/customers", json={"identities": [{"kind": "email", "value": "a@b.fr"}]})
    again = admin.post(
        "/api/v1/customers", json={"identities": [{"kind": "email", "value": "A@B.fr"}]}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "identity_taken"


def test_it_shows_the_whole_journey_across_channels(admin, channel):
    x, whatsapp, sms = channel("x"), channel("whatsapp"), channel("sms")
    first = receive(
        admin,
        x["id"],
        "+33612345678",
        kind="whatsapp",
        verified=True,
        text="Colis jamais arrivé",
        visibility="public",
    )
    receive(
        admin,
        whatsapp["id"],
        "+33612345678",
        kind="whatsapp",
        verified=True,
        hours=1,
        text="Voici mon numéro de commande",
    )
    later = receive(
        admin,
        sms["id"],
        "+33612345678",
        kind="phone",
        verified=True,
        hours=24 * 20,
        text="Nouvelle question",
    )
    customer = admin.get(f"/api/v1/customers/{first['customer_id']}").json()
    assert {i["kind"] for i in customer["identities"]} == {"whatsapp", "phone"}
    assert [c["id"] for c in customer["conversations"]] == [
        later["conversation_id"],
        first["conversation_id"],
    ]
    texts = [e["message"]["text"] for e in customer["timeline"] if e["type"] == "message"]
    assert texts == ["Colis jamais arrivé", "Voici mon numéro de commande", "Nouvelle question"]
    actions = [e["action"] for e in customer["timeline"] if e["type"] == "event"]
    assert "conversation.channel_switched" in actions


def test_it_updates_attributes_and_removes_those_set_to_null(admin):
    created = admin.post(
        "/api/v1/customers", json={"name": "J", "attributes": {"city": "Lyon", "vip": False}}
    ).json()
    updated = admin.patch(
        f"/api/v1/customers/{created['id']}",
        json={"name": "Jeanne", "attributes": {"vip": True, "city": None}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Jeanne"
    assert updated.json()["attributes"] == {"vip": True}


def test_it_merges_two_customers_without_losing_anything(admin, channel, factory):
    x, email = channel("x"), channel("email")
    a = receive(admin, email["id"], "jeanne@example.fr", name="Jeanne Martin")
    b = receive(admin, x["id"], "@JMartin", kind="x", visibility="public")
    admin.patch(f"/api/v1/customers/{b['customer_id']}", json={"attributes": {"followers": 5400}})
    with factory() as session:
        before_messages = session.scalar(select(func.count()).select_from(Message))
    merged = admin.post(
        f"/api/v1/customers/{a['customer_id']}/merge", json={"other_id": b["customer_id"]}
    )
    assert merged.status_code == 200, merged.text
    assert {(i["kind"], i["value"]) for i in merged.json()["identities"]} == {
        ("email", "jeanne@example.fr"),
        ("x", "jmartin"),
    }
    assert merged.json()["attributes"] == {"followers": 5400}
    with factory() as session:
        owners = set(session.scalars(select(Conversation.customer_id)))
        assert owners == {a["customer_id"]}
        assert session.scalar(select(func.count()).select_from(Message)) == before_messages
        event = session.scalars(select(Event).where(Event.action == "customer.merged")).one()
        assert event.after == {
            "other_id": b["customer_id"],
            "identity_ids": list(session.scalars(select(Identity.id).where(Identity.kind == "x"))),
            "conversation_ids": [b["conversation_id"]],
            "order_ids": [],
            "attributes_filled": ["followers"],
            "owner_taken": False,
        }


def test_it_redirects_a_merged_customer_to_the_one_that_holds_the_history(admin, channel):
    ch = channel("api")
    a = receive(admin, ch["id"], "a@example.fr")
    b = receive(admin, ch["id"], "b@example.fr")
    admin.post(f"/api/v1/customers/{a['customer_id']}/merge", json={"other_id": b["customer_id"]})
    response = admin.get(f"/api/v1/customers/{b['customer_id']}", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == f"/api/v1/customers/{a['customer_id']}"
    followed = admin.get(f"/api/v1/customers/{b['customer_id']}")
    assert followed.json()["id"] == a["customer_id"]
    again = admin.post(
        f"/api/v1/customers/{a['customer_id']}/merge", json={"other_id": b["customer_id"]}
    )
    assert again.status_code == 409


def test_it_threads_new_messages_from_a_merged_identity_into_the_live_customer(admin, channel):
    ch = channel("api")
    a = receive(admin, ch["id"], "a@example.fr")
    b = receive(admin, ch["id"], "b@example.fr", hours=24 * 30)
    admin.post(f"/api/v1/customers/{a['customer_id']}/merge", json={"other_id": b["customer_id"]})
    c = receive(admin, ch["id"], "b@example.fr", hours=24 * 30 + 1)
    assert c["customer_id"] == a["customer_id"]
    assert c["conversation_id"] == b["conversation_id"]


def test_it_lists_and_searches_customers_without_tombstones(admin, channel):
    ch = channel("api")
    a = receive(admin, ch["id"], "jeanne@example.fr", name="Jeanne Martin")
    b = receive(admin, ch["id"], "paul@example.fr", name="Paul Durand")
    c = receive(admin, ch["id"], "jm@example.fr", name="J. Martin")
    admin.post(f"/api/v1/customers/{a['customer_id']}/merge", json={"other_id": c["customer_id"]})
    listed = [x["id"] for x in admin.get("/api/v1/customers").json()["items"]]
    assert sorted(listed) == sorted([a["customer_id"], b["customer_id"]])
    found = [x["id"] for x in admin.get("/api/v1/customers?q=martin").json()["items"]]
    assert found == [a["customer_id"]]
    page = admin.get("/api/v1/customers?limit=1").json()
    rest = admin.get(f"/api/v1/customers?limit=1&cursor={page['next_cursor']}").json()
    assert [page["items"][0]["id"], rest["items"][0]["id"]] == [b["customer_id"], a["customer_id"]]
