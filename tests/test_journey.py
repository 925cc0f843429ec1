"""The customer's journey: one page (and the API's timeline) with every channel, the calls and
store visits logged by hand, callbacks, orders, channel switches and merges, in order."""

from __future__ import annotations

import re

from helpers import receive
from test_callbacks import ask, callback_channel

ORDER = {
    "number": "ML-2026-0042",
    "ordered_at": "2026-11-02T10:00:00+01:00",
    "amount": "89.90",
    "currency": "EUR",
    "channel": "store",
    "store": "Lyon Part-Dieu",
    "status": "delivered",
}


def steps(page: str) -> list[str]:
    """The kinds of the journey's steps, in the order the page shows them."""
    return re.findall(r'class="step [a-z]+[^"]*" data-kind="([a-z]+)"', page)


def test_the_journey_shows_every_channel_callbacks_orders_visits_and_merges(
    admin, channel, client, make_browser
):
    sms, whatsapp = channel("sms", "SMS"), channel("whatsapp", "WhatsApp")
    store = channel("in_person", "Lyon")
    line = callback_channel(channel)
    first = receive(admin, sms["id"], "06 12 34 56 78", kind="phone", text="Ma cafetière fuit")
    customer_id = first["customer_id"]
    receive(
        admin,
        whatsapp["id"],
        "+33 6 12 34 56 78",
        kind="phone",
        hours=1,
        text="Voici la photo de la fuite",
    )
    visit = admin.post(
        f"/api/v1/customers/{customer_id}/contacts",
        json={
            "channel_id": store["id"],
            "direction": "inbound",
            "summary": "Passée au magasin avec la cafetière, échange proposé.",
            "store": "Lyon Part-Dieu",
        },
    )
    assert visit.status_code == 201, visit.text
    assert admin.post(f"/api/v1/customers/{customer_id}/orders", json=ORDER).status_code == 201
    assert ask(client, line["id"], phone="06 12 34 56 78", name="Léa").status_code == 200
    other = admin.post("/api/v1/customers", json={"name": "Léa M."}).json()
    merged = admin.post(f"/api/v1/customers/{customer_id}/merge", json={"other_id": other["id"]})
    assert merged.status_code == 200, merged.text

    timeline = admin.get(f"/api/v1/customers/{customer_id}").json()["timeline"]
    [callback] = [e for e in timeline if e["type"] == "callback"]
    assert (callback["callback"]["phone"], callback["callback"]["status"]) == (
        "+33612345678",
        "requested",
    )
    assert {e["type"] for e in timeline} == {"message", "event", "order", "callback"}

    page = make_browser("agent").get(f"/customers/{customer_id}")
    assert page.status_code == 200
    text = page.text
    for shown in (
        "Ma cafetière fuit",
        "Voici la photo de la fuite",
        "Le client est venu en magasin",
        "Lyon Part-Dieu",
        "Commande ML-2026-0042",
        "Demande à être rappelé au +33612345678",
        f"Client n° {other['id']} fusionné dans celui-ci",
    ):
        assert shown in text, shown
    assert "Passé de SMS à WhatsApp" in text
    kinds = steps(text)  # the latest first: the merge, the callback, ..., the first message
    assert kinds[0] == "event"
    assert kinds[-1] == "message"
    assert {"message", "event", "order", "callback"} <= set(kinds)


def test_the_journey_filters_by_channel_and_by_kind(admin, channel, make_browser):
    sms, whatsapp = channel("sms", "SMS"), channel("whatsapp")
    first = receive(admin, sms["id"], "06 12 34 56 78", kind="phone", text="Par SMS")
    receive(admin, whatsapp["id"], "06 12 34 56 78", kind="phone", hours=1, text="Par WhatsApp")
    browser = make_browser("agent")
    only_sms = browser.get(f"/customers/{first['customer_id']}?channel_id={sms['id']}").text
    assert "Par SMS" in only_sms
    assert "Par WhatsApp" not in only_sms
    switches = browser.get(f"/customers/{first['customer_id']}?kind=event").text
    assert set(steps(switches)) == {"event"}
    assert "Par SMS" not in switches
    assert browser.get(f"/customers/{first['customer_id']}?kind=nothing").status_code == 422


def test_a_merged_customer_leads_to_the_one_that_holds_the_journey(admin, make_browser):
    kept = admin.post("/api/v1/customers", json={"name": "Gardé"}).json()
    gone = admin.post("/api/v1/customers", json={"name": "Fusionné"}).json()
    admin.post(f"/api/v1/customers/{kept['id']}/merge", json={"other_id": gone["id"]})
    browser = make_browser("agent")
    moved = browser.client.get(f"/customers/{gone['id']}", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (303, f"/customers/{kept['id']}")
    assert browser.get("/customers/999999").status_code == 404


def test_a_contributor_sees_only_the_journey_of_customers_they_work_with(
    admin, channel, make_browser
):
    api = channel("api", "Site")
    first = receive(admin, api["id"], "jeanne@example.fr", text="Question sur ma facture")
    contributor = make_browser("contributor")
    assert contributor.get(f"/customers/{first['customer_id']}").status_code == 404
