"""Orders and purchases: recorded by API or imported in batches, on the customer's journey,
following merges, and recognised when a customer writes an order number."""

from __future__ import annotations

from typing import Any

from helpers import receive

ORDER = {
    "number": "ML-2026-004211",
    "ordered_at": "2026-11-20T10:15:00+01:00",
    "amount": "89.90",
    "currency": "EUR",
    "channel": "web",
    "status": "shipped",
    "items": [
        {"name": "Lampe Arc laiton", "sku": "LA-001", "quantity": 1, "unit_price": "69.90"},
        {"name": "Ampoule LED E27", "quantity": 2, "unit_price": 10},
    ],
}


def customer(admin: Any, email: str = "jeanne@example.fr", name: str = "Jeanne Martin") -> int:
    body = {"name": name, "identities": [{"kind": "email", "value": email, "verified": True}]}
    response = admin.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_it_records_an_order_and_shows_it_on_the_customers_journey(admin):
    jeanne = customer(admin)

    created = admin.post(f"/api/v1/customers/{jeanne}/orders", json=ORDER)

    assert created.status_code == 201, created.text
    order = created.json()
    assert order["amount"] == "89.90"
    assert order["ordered_at"].startswith("2026-11-20T09:15:00")
    assert [(i["name"], i["quantity"], i["unit_price"]) for i in order["items"]] == [
        ("Lampe Arc laiton", 1, "69.90"),
        ("Ampoule LED E27", 2, "10.00"),
    ]
    detail = admin.get(f"/api/v1/customers/{jeanne}").json()
    assert [o["number"] for o in detail["orders"]] == ["ML-2026-004211"]
    on_timeline = [e for e in detail["timeline"] if e["type"] == "order"]
    assert on_timeline[0]["order"]["status"] == "shipped"
    assert admin.get("/api/v1/orders/ml-2026-004211").json()["customer_id"] == jeanne


def test_it_refuses_an_order_number_already_on_record_whatever_its_case(admin):
    jeanne = customer(admin)
    assert admin.post(f"/api/v1/customers/{jeanne}/orders", json=ORDER).status_code == 201

    again = admin.post(
        f"/api/v1/customers/{jeanne}/orders",
        json={**ORDER, "number": " ml-2026-004211", "amount": "1"},
    )

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_exists"
    orders = admin.get(f"/api/v1/customers/{jeanne}/orders").json()
    assert [(o["number"], o["amount"]) for o in orders] == [("ML-2026-004211", "89.90")]


def test_it_refuses_amounts_a_currency_cannot_hold_and_unknown_currencies(admin):
    jeanne = customer(admin)
    cents = admin.post(f"/api/v1/customers/{jeanne}/orders", json={**ORDER, "amount": "9.999"})
    yen = admin.post(
        f"/api/v1/customers/{jeanne}/orders", json={**ORDER, "currency": "JPY", "amount": "10.5"}
    )
    unknown = admin.post(f"/api/v1/customers/{jeanne}/orders", json={**ORDER, "currency": "ZZZ"})
    assert [r.json()["error"]["code"] for r in (cents, yen, unknown)] == [
        "invalid_amount",
        "invalid_amount",
        "invalid_currency",
    ]
    assert admin.get(f"/api/v1/customers/{jeanne}/orders").json() == []


def test_it_imports_a_batch_where_each_order_answers_for_itself(admin):
    jeanne = customer(admin)
    paul = customer(admin, "paul@example.fr", "Paul Durand")
    admin.post(f"/api/v1/customers/{jeanne}/orders", json=ORDER)
    batch = [
        {**ORDER, "customer_id": jeanne, "status": "delivered"},  # updated
        {**ORDER, "number": "ML-2026-004300", "customer_email": "Paul@Example.fr"},  # Paul's
        {
            **ORDER,
            "number": "ML-2026-004301",
            "customer_phone": "06 12 34 56 78",
            "customer_name": "Nadia Benali",
            "channel": "store",
            "store": "Lyon Part-Dieu",
        },
        {**ORDER, "number": "ML-2026-004302", "customer_id": 999999},  # nobody
        {**ORDER, "number": "ML-2026-004303", "customer_id": paul, "amount": "1.005"},
        {**ORDER, "number": "ml-2026-004300", "customer_id": paul},  # twice in the batch
        {**ORDER, "number": "ML-2026-004304"},  # whose?
    ]

    response = admin.post(
        "/api/v1/orders:batch", json={"items": batch}, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["result"] for i in items] == ["updated", "created", "created"] + ["refused"] * 4
    assert [i["error"]["code"] for i in items[3:]] == [
        "customer_not_found",
        "invalid_amount",
        "order_repeated",
        "order_without_customer",
    ]
    assert "appears twice" in items[5]["error"]["message"]
    assert items[1]["order"]["customer_id"] == paul
    nadia = items[2]["order"]["customer_id"]
    assert admin.get(f"/api/v1/customers/{nadia}").json()["name"] == "Nadia Benali"
    assert [o["status"] for o in admin.get(f"/api/v1/customers/{jeanne}/orders").json()] == [
        "delivered"
    ]
    assert admin.get("/api/v1/orders/ML-2026-004302").status_code == 404
    again = admin.post("/api/v1/orders:batch", json={"items": batch[:1]}).json()["items"]
    assert again[0]["result"] == "unchanged"
    claimed = admin.post("/api/v1/orders:batch", json={"items": [{**ORDER, "customer_id": paul}]})
    assert claimed.json()["items"][0]["error"]["code"] == "order_of_another_customer"


def test_it_moves_the_orders_with_a_merge(admin):
    jeanne = customer(admin)
    twin = customer(admin, "j.martin@example.fr")
    admin.post(f"/api/v1/customers/{twin}/orders", json=ORDER)

    merged = admin.post(f"/api/v1/customers/{jeanne}/merge", json={"other_id": twin})

    assert merged.status_code == 200, merged.text
    assert [o["number"] for o in admin.get(f"/api/v1/customers/{jeanne}/orders").json()] == [
        "ML-2026-004211"
    ]
    assert admin.get(f"/api/v1/customers/{twin}/orders").json()[0]["customer_id"] == jeanne
    batch = [{**ORDER, "customer_id": twin, "status": "returned"}]
    moved = admin.post("/api/v1/orders:batch", json={"items": batch}).json()["items"]
    assert (moved[0]["result"], moved[0]["order"]["customer_id"]) == ("updated", jeanne)


def test_it_lets_contributors_read_but_not_record_orders(admin, make_caller):
    jeanne = customer(admin)
    agent, contributor = make_caller("agent"), make_caller("contributor")
    assert agent.post(f"/api/v1/customers/{jeanne}/orders", json=ORDER).status_code == 201
    refused = contributor.post(
        f"/api/v1/customers/{jeanne}/orders", json={**ORDER, "number": "X-20261"}
    )
    assert refused.status_code == 403
    assert agent.post("/api/v1/orders:batch", json={"items": [ORDER]}).status_code == 403


def test_it_links_an_order_number_in_a_message_to_the_order(admin, channel, make_browser):
    api = channel("api")
    sent = receive(
        admin, api["id"], "jeanne@example.fr", text="Bonjour, ma commande ml-2026-004211 est où ?"
    )
    admin.post(f"/api/v1/customers/{sent['customer_id']}/orders", json=ORDER)  # imported later
    browser = make_browser("agent")

    page = browser.get(f"/conversations/{sent['conversation_id']}")

    assert page.status_code == 200
    assert 'class="order-mention"' in page.text
    assert "ML-2026-004211" in page.text
    assert "89,90" in page.text  # the amount, in French by default
