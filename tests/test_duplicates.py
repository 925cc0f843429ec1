"""Suggested duplicates: customers who may be one person, each with the evidence in words, for a
supervisor to merge or to mark as not the same (then never suggested again)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from filrouge.core.duplicates import find_duplicates
from filrouge.core.models import DuplicateSuggestion, Event, Message, Workspace
from filrouge.jobs.duplicates import scan_duplicates
from helpers import receive


def customer(admin: Any, name: str | None, *identities: tuple[str, str, bool]) -> int:
    body = {
        "name": name,
        "identities": [
            {"kind": k, "value": v, "verified": verified} for k, v, verified in identities
        ],
    }
    response = admin.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def suggestions(caller: Any, **params: Any) -> list[dict[str, Any]]:
    response = caller.get("/api/v1/duplicates", params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


def pairs(items: list[dict[str, Any]]) -> set[frozenset[int]]:
    return {frozenset((item["customer"]["id"], item["other"]["id"])) for item in items}


def test_it_suggests_the_same_phone_written_differently_and_says_why(admin, channel):
    sms = channel("sms")
    texting = receive(admin, sms["id"], "06 12 34 56 78", kind="phone", text="Bonjour")
    jeanne = customer(admin, "Jeanne Martin", ("whatsapp", "+33612345678", False))
    customer(admin, "Paul Durand", ("phone", "+33798765432", False))

    scan = admin.post("/api/v1/duplicates:scan")

    assert scan.json() == {"new": 1, "updated": 0, "withdrawn": 0}
    [found] = suggestions(admin)
    assert pairs([found]) == {frozenset((texting["customer_id"], jeanne))}
    assert found["evidence"][0]["kind"] == "same_phone"
    assert found["explanation"] == ["Même numéro de téléphone +33612345678 (téléphone / WhatsApp)"]
    english = admin.get("/api/v1/duplicates", headers={"Accept-Language": "en"}).json()
    assert english[0]["explanation"] == ["Same phone number +33612345678 (phone / WhatsApp)"]
    assert admin.post("/api/v1/duplicates:scan").json() == {"new": 0, "updated": 0, "withdrawn": 0}


def test_it_suggests_a_chat_visitor_who_typed_a_known_customers_email(admin, factory):
    known = customer(admin, "Jeanne Martin", ("email", "jeanne@example.fr", True))
    visitor = customer(admin, None, ("chat_visitor", "v-123", False))
    admin.patch(
        f"/api/v1/customers/{visitor}", json={"attributes": {"chat_email": "jeanne@example.fr"}}
    )

    admin.post("/api/v1/duplicates:scan")

    [found] = suggestions(admin)
    assert pairs([found]) == {frozenset((known, visitor))}
    assert found["evidence"] == [{"kind": "chat_email", "value": "jeanne@example.fr"}]


def test_it_suggests_the_same_name_at_the_same_domain_and_a_close_name_on_a_network(admin):
    first = customer(admin, "Éloïse Dupont", ("email", "eloise@atelier-dupont.fr", True))
    second = customer(admin, "eloise DUPONT", ("email", "contact@atelier-dupont.fr", True))
    social = customer(admin, "Jeane Martin", ("x", "jmartin75", False))
    known = customer(admin, "Jeanne Martin", ("email", "jeanne@example.fr", True))
    customer(admin, "Jean Marais", ("email", "jean@example.fr", True))  # not close enough

    admin.post("/api/v1/duplicates:scan")

    found = {frozenset((i["customer"]["id"], i["other"]["id"])): i for i in suggestions(admin)}
    assert set(found) == {frozenset((first, second)), frozenset((social, known))}
    same_domain = found[frozenset((first, second))]["evidence"][0]
    assert same_domain["kind"] == "same_name_same_domain"
    assert same_domain["domain"] == "atelier-dupont.fr"
    similar = found[frozenset((social, known))]["evidence"][0]
    assert (similar["kind"], similar["network"], similar["other_name"]) == (
        "similar_name",
        "x",
        "Jeanne Martin",
    )
    assert 88 <= similar["similarity"] < 100


def test_it_leaves_namesakes_alone_when_each_has_an_address_of_their_own(admin):
    for n in range(22):  # a domain this many customers use is a mailbox provider
        customer(admin, f"Client {n}", ("email", f"client{n}@boite.example", True))
    first = customer(admin, "Marie Martin", ("email", "marie.m@boite.example", True))
    second = customer(
        admin,
        "Marie Martin",
        ("email", "mmartin@boite.example", True),
        ("whatsapp", "+33611111111", True),
    )
    social = customer(admin, "Marie Martin", ("instagram", "marie.m.75", False))

    admin.post("/api/v1/duplicates:scan")

    found = suggestions(admin)
    assert pairs(found) == {frozenset((social, first)), frozenset((social, second))}
    assert {e["kind"] for item in found for e in item["evidence"]} == {"similar_name"}
    assert all(len(item["evidence"]) == 1 for item in found)  # the best match, once a pair


def test_it_merges_a_suggestion_into_the_chosen_customer_without_losing_a_message(
    admin, channel, factory
):
    sms, email = channel("sms"), channel("email")
    texting = receive(admin, sms["id"], "+33612345678", kind="phone", text="Mon colis ?")
    mailing = receive(admin, email["id"], "jeanne@example.fr", text="Ma commande ?")
    admin.patch(
        f"/api/v1/customers/{mailing['customer_id']}",
        json={"name": "Jeanne Martin"},
    )
    with factory() as session:
        messages = session.scalar(select(func.count()).select_from(Message))
    jeanne = mailing["customer_id"]
    admin.post(
        f"/api/v1/customers/{jeanne}/orders",
        json={"number": "ML-1", "ordered_at": "2026-11-01T10:00:00Z", "amount": "5"},
    )
    other = customer(admin, None, ("whatsapp", "+33612345678", False))
    admin.post("/api/v1/duplicates:scan")
    [suggestion] = suggestions(admin)
    assert pairs([suggestion]) == {frozenset((texting["customer_id"], other))}
    admin.post(
        f"/api/v1/customers/{jeanne}/merge", json={"other_id": texting["customer_id"]}
    )  # meanwhile, by hand
    stale = admin.post(f"/api/v1/duplicates/{suggestion['id']}/merge", json={})
    assert stale.status_code == 409
    admin.post("/api/v1/duplicates:scan")
    [fresh] = suggestions(admin)
    assert pairs([fresh]) == {frozenset((jeanne, other))}

    merged = admin.post(f"/api/v1/duplicates/{fresh['id']}/merge", json={"target_id": jeanne})

    assert merged.status_code == 200, merged.text
    assert {i["value"] for i in merged.json()["identities"]} == {
        "+33612345678",
        "jeanne@example.fr",
    }
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == messages
    assert suggestions(admin) == []
    assert pairs(suggestions(admin, status="merged")) == {frozenset((jeanne, other))}
    assert admin.post(f"/api/v1/duplicates/{fresh['id']}/merge", json={}).status_code == 409


def test_it_never_suggests_again_a_pair_marked_as_not_the_same(admin, factory):
    customer(admin, "Jeanne Martin", ("phone", "+33612345678", False))
    customer(admin, "Jeanne Martin", ("whatsapp", "+33612345678", False))
    admin.post("/api/v1/duplicates:scan")
    [suggestion] = suggestions(admin)

    dismissed = admin.post(f"/api/v1/duplicates/{suggestion['id']}/dismiss")

    assert dismissed.status_code == 204
    assert admin.post("/api/v1/duplicates:scan").json()["new"] == 0
    assert suggestions(admin) == []
    with factory() as session:
        event = session.scalars(
            select(Event).where(Event.action == "customer.duplicate_dismissed")
        ).one()
    assert event.after["other_id"] == suggestion["other"]["id"]


def test_the_scheduled_scan_fills_the_queue_and_withdraws_what_no_longer_holds(admin, factory):
    first = customer(admin, "A", ("phone", "+33612345678", False))
    second = customer(admin, "B", ("whatsapp", "+33612345678", False))

    assert scan_duplicates.call_local() == 1

    with factory() as session, session.begin():
        session.execute(DuplicateSuggestion.__table__.update().values(evidence=[]))
    assert scan_duplicates.call_local() == 0
    assert suggestions(admin)[0]["evidence"][0]["kind"] == "same_phone"  # brought up to date
    admin.post(f"/api/v1/customers/{first}/merge", json={"other_id": second})  # by hand
    assert scan_duplicates.call_local() == 0
    assert suggestions(admin) == []


def test_only_supervisors_and_admins_review_duplicates(admin, make_caller, make_browser):
    customer(admin, "A", ("phone", "+33612345678", False))
    customer(admin, "B", ("whatsapp", "+33612345678", False))
    admin.post("/api/v1/duplicates:scan")
    assert make_caller("agent").get("/api/v1/duplicates").status_code == 403
    assert len(suggestions(make_caller("supervisor"))) == 1
    browser = make_browser("supervisor", email="sup.browser@example.test")

    page = browser.get("/duplicates")

    assert page.status_code == 200
    assert "Même numéro de téléphone +33612345678" in page.text
    [suggestion] = suggestions(admin)
    answer = browser.post(f"/duplicates/{suggestion['id']}/dismiss")
    assert answer.status_code == 303
    assert suggestions(admin) == []
    assert browser.client.post(f"/duplicates/{suggestion['id']}/dismiss").status_code == 403


def open_evidence(factory: Any) -> dict[tuple[int, int], Any]:
    with factory() as session:
        rows = session.scalars(
            select(DuplicateSuggestion).where(DuplicateSuggestion.status == "open")
        )
        return {(row.customer_id, row.other_id): row.evidence for row in rows}


def test_scans_that_read_only_what_changed_find_what_a_full_scan_finds(admin, factory):
    customer(admin, "Éloïse Dupont", ("email", "eloise@atelier-dupont.fr", True))
    customer(admin, "Jeanne Martin", ("email", "jeanne@example.fr", True))
    customer(admin, "A", ("phone", "+33612345678", False))
    admin.post("/api/v1/duplicates:scan")
    # each arrives after the first scan, and matches someone who did not change
    customer(admin, "eloise DUPONT", ("email", "contact@atelier-dupont.fr", True))
    customer(admin, "Jeane Martin", ("x", "jmartin75", False))
    customer(admin, "B", ("whatsapp", "+33612345678", False))
    visitor = customer(admin, None, ("chat_visitor", "v-123", False))
    admin.patch(
        f"/api/v1/customers/{visitor}", json={"attributes": {"chat_email": "jeanne@example.fr"}}
    )

    admin.post("/api/v1/duplicates:scan")

    with factory() as session:
        workspace_id = session.scalars(select(Workspace.id)).one()
        full = find_duplicates(session, workspace_id)
    assert len(full) == 4
    assert open_evidence(factory) == full
