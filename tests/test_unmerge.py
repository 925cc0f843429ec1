"""Unmerge: what a merge moved goes back exactly, what happened since stays where it happened,
and the event log keeps both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from filrouge.core.models import Event, Message
from helpers import receive

ORDER = {"number": "ML-77", "ordered_at": "2026-11-01T10:00:00Z", "amount": "12.50"}


def identities_of(admin: Any, customer_id: int) -> set[tuple[str, str]]:
    body = admin.get(f"/api/v1/customers/{customer_id}").json()
    return {(i["kind"], i["value"]) for i in body["identities"]}


def test_it_gives_back_exactly_what_the_merge_moved(admin, channel, factory):
    email, x = channel("email"), channel("x")
    jeanne = receive(admin, email["id"], "jeanne@example.fr", name="Jeanne Martin")
    handle = receive(admin, x["id"], "@JMartin", kind="x", visibility="public", hours=1)
    other = handle["customer_id"]
    admin.patch(f"/api/v1/customers/{other}", json={"attributes": {"followers": 5400}})
    admin.post(f"/api/v1/customers/{other}/orders", json=ORDER)
    with factory() as session:
        messages = session.scalar(select(func.count()).select_from(Message))
    admin.post(f"/api/v1/customers/{jeanne['customer_id']}/merge", json={"other_id": other})
    later = receive(admin, email["id"], "jeanne@example.fr", hours=2, text="Et ma commande ?")

    restored = admin.post(
        f"/api/v1/customers/{jeanne['customer_id']}/unmerge", json={"other_id": other}
    )

    assert restored.status_code == 200, restored.text
    assert restored.json()["id"] == other
    assert identities_of(admin, other) == {("x", "jmartin")}
    assert identities_of(admin, jeanne["customer_id"]) == {("email", "jeanne@example.fr")}
    live = admin.get(f"/api/v1/customers/{other}")
    assert live.status_code == 200  # no longer a tombstone's redirect
    assert live.json()["attributes"] == {"followers": 5400}
    assert [c["id"] for c in live.json()["conversations"]] == [handle["conversation_id"]]
    assert [o["number"] for o in live.json()["orders"]] == ["ML-77"]
    jeanne_now = admin.get(f"/api/v1/customers/{jeanne['customer_id']}").json()
    assert jeanne_now["attributes"] == {}
    # her original conversation stays hers; the one that came with the merge goes back whole,
    # with what was written in it since
    assert [c["id"] for c in jeanne_now["conversations"]] == [jeanne["conversation_id"]]
    assert later["conversation_id"] == handle["conversation_id"]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == messages + 1
        actions = list(session.scalars(select(Event.action).order_by(Event.id)))
    assert actions[-2:] == ["customer.unmerged", "customer.unmerged_from"]


def test_it_keeps_on_the_merged_customer_what_changed_after_the_merge(admin):
    jeanne = admin.post(
        "/api/v1/customers",
        json={"name": "Jeanne", "identities": [{"kind": "email", "value": "j@example.fr"}]},
    ).json()["id"]
    twin = admin.post(
        "/api/v1/customers",
        json={
            "identities": [{"kind": "phone", "value": "+33612345678"}],
            "attributes": {"city": "Lyon"},
        },
    ).json()["id"]
    admin.post(f"/api/v1/customers/{jeanne}/merge", json={"other_id": twin})
    admin.patch(f"/api/v1/customers/{jeanne}", json={"attributes": {"city": "Paris"}})

    admin.post(f"/api/v1/customers/{jeanne}/unmerge", json={"other_id": twin})

    after = admin.get(f"/api/v1/customers/{jeanne}").json()
    assert after["name"] == "Jeanne"
    assert after["attributes"] == {"city": "Paris"}  # changed since the merge: kept
    assert admin.get(f"/api/v1/customers/{twin}").json()["attributes"] == {"city": "Lyon"}


def test_it_refuses_to_unmerge_what_was_not_merged_or_twice(admin):
    a = admin.post("/api/v1/customers", json={"name": "A"}).json()["id"]
    b = admin.post("/api/v1/customers", json={"name": "B"}).json()["id"]
    c = admin.post("/api/v1/customers", json={"name": "C"}).json()["id"]
    never = admin.post(f"/api/v1/customers/{a}/unmerge", json={"other_id": b})
    assert (never.status_code, never.json()["error"]["code"]) == (409, "not_merged_into")
    admin.post(f"/api/v1/customers/{a}/merge", json={"other_id": b})
    admin.post(f"/api/v1/customers/{c}/merge", json={"other_id": a})  # A went on into C
    again_merged = admin.post(f"/api/v1/customers/{a}/unmerge", json={"other_id": b})
    assert (again_merged.status_code, again_merged.json()["error"]["code"]) == (
        409,
        "cannot_unmerge",
    )
    assert admin.post(f"/api/v1/customers/{c}/unmerge", json={"other_id": a}).status_code == 200
    assert admin.post(f"/api/v1/customers/{a}/unmerge", json={"other_id": b}).status_code == 200
    twice = admin.post(f"/api/v1/customers/{a}/unmerge", json={"other_id": b})
    assert twice.status_code == 409


def test_only_managers_unmerge(admin, make_caller):
    a = admin.post("/api/v1/customers", json={"name": "A"}).json()["id"]
    b = admin.post("/api/v1/customers", json={"name": "B"}).json()["id"]
    admin.post(f"/api/v1/customers/{a}/merge", json={"other_id": b})
    agent = make_caller("agent")
    assert agent.post(f"/api/v1/customers/{a}/unmerge", json={"other_id": b}).status_code == 403


def test_a_supervisor_merges_and_unmerges_from_the_customer_panel(admin, channel, make_browser):
    email, sms = channel("email"), channel("sms")
    jeanne = receive(admin, email["id"], "jeanne@example.fr", name="Jeanne Martin")
    texting = receive(admin, sms["id"], "06 12 34 56 78", kind="phone", hours=1)
    supervisor = make_browser("supervisor", email="sup.browser@example.test")
    page = f"/conversations/{jeanne['conversation_id']}"
    assert "Fusionner dans ce client" in supervisor.get(page).text
    assert "Fusionner dans ce client" not in make_browser("agent").get(page).text

    unknown = supervisor.post(f"{page}/customer/merge", {"other": "nobody@example.fr"})
    assert unknown.status_code == 404
    assert "Aucun client n&#39;a le numéro, l&#39;e-mail ou le téléphone" in unknown.text
    merged = supervisor.post(f"{page}/customer/merge", {"other": "+33 6 12 34 56 78"})

    assert merged.status_code == 303, merged.text
    assert ("phone", "+33612345678") in identities_of(admin, jeanne["customer_id"])
    shown = supervisor.get(page).text
    assert f"(n° {texting['customer_id']})" in shown
    undone = supervisor.post(f"{page}/customer/unmerge", {"other_id": texting["customer_id"]})
    assert undone.status_code == 303
    assert identities_of(admin, texting["customer_id"]) == {("phone", "+33612345678")}
    assert supervisor.client.post(f"{page}/customer/merge", data={"other": "1"}).status_code == 403
