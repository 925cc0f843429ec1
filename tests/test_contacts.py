"""Contacts logged by hand: calls, store visits and letters complete the customer's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers import receive


def test_it_logs_a_phone_call_on_the_customers_timeline(admin, channel):
    email = channel("api", "Site")
    phone = channel("phone", "Téléphone")
    first = receive(admin, email["id"], "jeanne@example.fr", name="Jeanne")
    logged = admin.post(
        f"/api/v1/customers/{first['customer_id']}/contacts",
        json={
            "channel_id": phone["id"],
            "direction": "inbound",
            "summary": "Appelle pour la livraison, rassurée.",
            "occurred_at": "2026-06-02T10:00:00+02:00",
            "duration_minutes": 7,
            "outcome": "answered",
        },
    )
    assert logged.status_code == 201, logged.text
    call = logged.json()
    assert call["details"] == {"duration_minutes": 7, "outcome": "answered"}
    assert call["author"]["name"] == "Camille Admin"
    assert call["conversation_id"] != first["conversation_id"]  # a new conversation
    timeline = admin.get(f"/api/v1/customers/{first['customer_id']}").json()
    assert "Appelle pour la livraison, rassurée." in str(timeline)


def test_it_logs_a_store_visit_in_the_conversation_it_belongs_to(admin, channel):
    site = channel("api", "Site")
    store = channel("in_person", "Magasin Lyon")
    first = receive(admin, site["id"], "paul@example.fr")
    logged = admin.post(
        f"/api/v1/customers/{first['customer_id']}/contacts",
        json={
            "channel_id": store["id"],
            "direction": "inbound",
            "summary": "Venu échanger la lampe.",
            "store": "Lyon Part-Dieu",
            "conversation_id": first["conversation_id"],
        },
    )
    assert logged.status_code == 201, logged.text
    detail = admin.get(f"/api/v1/conversations/{first['conversation_id']}").json()
    assert [m["text"] for m in detail["messages"]][-1] == "Venu échanger la lampe."
    assert detail["messages"][-1]["details"] == {"store": "Lyon Part-Dieu"}


def test_it_logs_a_postal_letter_and_the_letter_sent_back(admin, channel):
    site = channel("api", "Site")
    post = channel("postal", "Courrier")
    first = receive(admin, site["id"], "marcel@example.fr", name="Marcel Dupont")
    url = f"/api/v1/customers/{first['customer_id']}/contacts"
    received = admin.post(
        url,
        json={
            "channel_id": post["id"],
            "direction": "inbound",
            "summary": "Lettre recommandée : demande le remboursement de la lampe, facture jointe.",
            "occurred_at": "2026-06-03T08:30:00+02:00",
            "outcome": "follow_up",
        },
    )
    assert received.status_code == 201, received.text
    letter = received.json()
    assert letter["details"] == {"outcome": "follow_up"}
    assert letter["conversation_id"] != first["conversation_id"]  # a letter of its own
    answered = admin.post(
        url,
        json={
            "channel_id": post["id"],
            "direction": "outbound",
            "summary": "Réponse envoyée par courrier : remboursement accordé.",
            "conversation_id": letter["conversation_id"],
            "outcome": "answered",
        },
    )
    assert answered.status_code == 201, answered.text
    detail = admin.get(f"/api/v1/conversations/{letter['conversation_id']}").json()
    inbound, outbound = detail["messages"]
    assert (inbound["direction"], inbound["status"]) == ("inbound", "received")
    assert (outbound["direction"], outbound["status"]) == ("outbound", "sent")  # logged, not sent
    assert {inbound["channel_id"], outbound["channel_id"]} == {post["id"]}
    assert inbound["created_at"].startswith("2026-06-03T06:30")  # the date on the letter, UTC
    assert outbound["author"]["name"] == "Camille Admin"
    timeline = str(admin.get(f"/api/v1/customers/{first['customer_id']}").json())
    assert "Lettre recommandée" in timeline
    assert "remboursement accordé" in timeline


def test_it_refuses_a_contact_it_cannot_log_and_writes_nothing(admin, channel, make_caller):
    site = channel("api", "Site")
    phone = channel("phone", "Téléphone")
    first = receive(admin, site["id"], "a@example.fr")
    other = receive(admin, site["id"], "b@example.fr")
    url = f"/api/v1/customers/{first['customer_id']}/contacts"
    base = {"channel_id": phone["id"], "direction": "outbound", "summary": "Rappel"}
    not_logged = admin.post(url, json={**base, "channel_id": site["id"]})
    assert not_logged.status_code == 422
    assert not_logged.json()["error"]["code"] == "not_a_logged_channel"
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert admin.post(url, json={**base, "occurred_at": future}).status_code == 422
    assert admin.post(url, json={**base, "outcome": "great"}).status_code == 422
    theirs = admin.post(url, json={**base, "conversation_id": other["conversation_id"]})
    assert theirs.json()["error"]["code"] == "not_this_customer"
    contributor = make_caller("contributor", email="expert@example.test")
    assert contributor.post(url, json=base).status_code == 403
    assert len(admin.get("/api/v1/conversations").json()["items"]) == 2


def test_it_logs_a_call_from_the_conversation_page_in_the_agents_time_zone(
    admin, channel, make_browser
):
    site = channel("api", "Site")
    phone = channel("phone", "Téléphone")
    first = receive(admin, site["id"], "jeanne@example.fr")
    agent = make_browser("agent", email="lea@example.test", name="Léa Martin")
    page = agent.get(f"/conversations/{first['conversation_id']}").text
    assert "Noter un appel" in page
    logged = agent.post(
        f"/conversations/{first['conversation_id']}/contacts",
        {
            "channel_id": phone["id"],
            "direction": "outbound",
            "summary": "Rappelée : colis livré demain.",
            "occurred_at": "2026-06-02T10:30",
            "duration_minutes": "4",
            "outcome": "answered",
        },
    )
    assert logged.status_code == 303
    messages = admin.get(f"/api/v1/conversations/{first['conversation_id']}").json()["messages"]
    call = messages[-1]
    assert call["created_at"].startswith("2026-06-02T08:30")  # 10:30 in Paris, in UTC
    page = agent.get(f"/conversations/{first['conversation_id']}").text
    assert "4 min" in page
    assert "noté par Léa Martin" in page
