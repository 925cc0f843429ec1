"""Full-text search: messages, customers and orders, ranked, highlighted, filtered, within
what each user may see; on SQLite (FTS5) and PostgreSQL (tsvector) alike."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, update

from filrouge.core.actions.users import create_token, create_user
from filrouge.core.models import User, Workspace
from filrouge.core.search_index import rebuild_search_index
from filrouge.db import transaction
from filrouge.schema import alembic_config
from helpers import receive

ORDER = {
    "number": "ML-2026-004211",
    "ordered_at": "2026-11-20T10:15:00+01:00",
    "amount": "89.90",
    "currency": "EUR",
    "channel": "web",
    "status": "shipped",
    "items": [{"name": "Lampe Arc laiton", "sku": "LA-001", "quantity": 1, "unit_price": "69.90"}],
}
HOSTILE = ['"', "*", "NEAR(", "AND OR", 'colis "abîmé', "a" * 2000, "col*is", "NOT", "^x", "-:+"]


def search(caller: Any, q: str, **params: Any) -> Any:
    return caller.get("/api/v1/search", params={"q": q, **params})


def found(caller: Any, q: str, **params: Any) -> list[dict[str, Any]]:
    response = search(caller, q, **params)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def message_ids(caller: Any, q: str, **params: Any) -> list[int]:
    return [r["id"] for r in found(caller, q, kind="messages", **params)]


def sent(admin: Any, channel: Any, sender: str, text: str, **extra: Any) -> dict[str, Any]:
    return receive(admin, channel["id"], sender, text=text, **extra)


def new_customer(admin: Any, name: str, *identities: tuple[str, str]) -> int:
    body = {"name": name, "identities": [{"kind": k, "value": v} for k, v in identities]}
    response = admin.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_it_ranks_a_message_with_every_word_above_one_with_fewer(admin, channel):
    api = channel()
    sent(admin, api, "a@example.fr", "Ma commande est arrivée, merci")
    both = sent(admin, api, "b@example.fr", "Le colis est arrivé cassé, colis abîmé, tout cassé")
    one = sent(admin, api, "c@example.fr", "Le colis est bien arrivé")

    assert message_ids(admin, "colis cassé") == [both["message_id"]]  # every word must match
    assert message_ids(admin, "colis")[:2] == [both["message_id"], one["message_id"]]


def test_it_ignores_accents_and_case_both_ways(admin, channel):
    api = channel()
    accented = sent(admin, api, "a@example.fr", "Je fais une RÉCLAMATION pour ma commande")
    plain = sent(admin, api, "b@example.fr", "Une reclamation de plus")

    assert set(message_ids(admin, "reclamation")) == {accented["message_id"], plain["message_id"]}
    assert set(message_ids(admin, "Réclamation")) == {accented["message_id"], plain["message_id"]}


def test_it_finds_plurals_and_other_forms_of_a_word(admin, channel):
    api = channel()
    singular = sent(admin, api, "a@example.fr", "J'attends mon remboursement depuis un mois")
    refunds = sent(admin, api, "b@example.com", "Where are my refunds?")

    assert message_ids(admin, "remboursements") == [singular["message_id"]]
    assert message_ids(admin, "refund") == [refunds["message_id"]]


def test_it_completes_the_last_word_as_it_is_typed(admin, channel):
    api = channel()
    message = sent(admin, api, "a@example.fr", "Mon remboursement n'est pas arrivé")

    assert message_ids(admin, "rembour") == [message["message_id"]]
    assert message_ids(admin, "pas rembo") == [message["message_id"]]
    assert message_ids(admin, "rembour ") == []  # a space after it: a whole word


def test_it_matches_a_quoted_phrase_in_order(admin, channel):
    api = channel()
    phrase = sent(admin, api, "a@example.fr", "Le colis abîmé est reparti")
    apart = sent(admin, api, "b@example.fr", "Abîmé, le colis ? Non.")

    assert message_ids(admin, '"colis abime"') == [phrase["message_id"]]
    assert set(message_ids(admin, "colis abîmé")) == {phrase["message_id"], apart["message_id"]}


def test_it_searches_the_conversations_subject_too(admin, channel):
    api = channel()
    message = sent(admin, api, "a@example.fr", "Bonjour, voir ci-dessous", subject="Facture 2211")

    assert message_ids(admin, "facture") == [message["message_id"]]


def test_it_finds_a_customer_by_phone_typed_any_way_email_or_name(admin):
    ottoline = new_customer(
        admin,
        "Ottoline Brindlewood",
        ("phone", "+33647219358"),
        ("email", "ottoline.b@exemple.test"),
    )
    new_customer(admin, "Ottoline Martin", ("email", "o.martin@exemple.test"))

    for typed in ("06 47 21 93 58", "0647219358", "+33 6 47 21 93 58", "ottoline.b@exemple.test"):
        results = found(admin, typed, kind="customers")
        assert [(r["kind"], r["id"]) for r in results][:1] == [("customer", ottoline)], typed
    assert len(found(admin, "ottoline", kind="customers")) == 2
    assert [r["id"] for r in found(admin, "brindl", kind="customers")] == [ottoline]
    snippet = found(admin, "ottoline.b@exemple.test", kind="customers")[0]["snippet"]
    assert "<mark>ottoline.b@exemple.test</mark>" in snippet


def test_it_finds_an_order_by_number_or_by_what_was_bought(admin):
    jeanne = new_customer(admin, "Jeanne Martin", ("email", "jeanne@example.fr"))
    response = admin.post(f"/api/v1/customers/{jeanne}/orders", json=ORDER)
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]

    by_number = found(admin, "ml-2026-004211", kind="orders")
    by_item = found(admin, "lampe laiton", kind="orders")

    assert [(r["kind"], r["id"], r["customer_id"]) for r in by_number] == [
        ("order", order_id, jeanne)
    ]
    assert [r["id"] for r in by_item] == [order_id]
    assert "<mark>Lampe</mark>" in by_item[0]["snippet"]


def test_it_escapes_what_the_customer_wrote_and_marks_only_the_matches(admin, channel):
    api = channel()
    sent(admin, api, "a@example.fr", "<script>alert(1)</script> <b>remboursement</b> \ue000 svp")

    snippet = found(admin, "remboursement", kind="messages")[0]["snippet"]

    assert "<script" not in snippet
    assert "<b>" not in snippet
    assert "&lt;script&gt;" in snippet or "alert(1)" in snippet  # PostgreSQL drops tags
    assert snippet.count("<mark>") == snippet.count("</mark>") >= 1
    without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks


def test_it_filters_by_channel_status_and_date(admin, channel):
    email, sms = channel("email"), channel("sms")
    by_mail = sent(admin, email, "a@example.fr", "Livraison en retard", hours=0)
    by_sms = sent(admin, sms, "+33612345678", "Livraison en retard aussi", kind="phone", hours=48)
    admin.patch(f"/api/v1/conversations/{by_sms['conversation_id']}", json={"status": "resolved"})

    assert message_ids(admin, "livraison", channel_id=email["id"]) == [by_mail["message_id"]]
    assert message_ids(admin, "livraison", status="resolved") == [by_sms["message_id"]]
    since = "2026-06-02T00:00:00Z"
    assert message_ids(admin, "livraison", since=since) == [by_sms["message_id"]]
    assert message_ids(admin, "livraison", until=since) == [by_mail["message_id"]]
    everything = found(admin, "livraison", channel_id=email["id"])
    assert {r["kind"] for r in everything} == {"message"}  # customers have no channel


def test_it_pages_through_ranked_results_without_repeating_any(admin, channel):
    api = channel()
    expected = {
        sent(admin, api, f"c{i}@example.fr", f"Question numéro {i} sur la garantie")["message_id"]
        for i in range(23)
    }
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params = {"q": "garantie", "kind": "messages", "limit": 10}
        page = admin.get("/api/v1/search", params={**params, **({"cursor": cursor})}).json()
        seen += [r["id"] for r in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(expected)
    assert search(admin, "garantie", cursor="nonsense!").status_code == 422


def test_a_contributor_finds_only_the_conversations_they_may_open(
    admin, make_caller, channel, factory
):
    api = channel()
    contributor = make_caller("contributor")
    with transaction(factory) as session:
        session.execute(
            update(User).where(User.id == contributor.user.id).values(expertise=["cuisine"])
        )
    shared = sent(admin, api, "a@example.fr", "Question sur le four vapeur", name="Alice Four")
    hidden = sent(admin, api, "b@example.fr", "Le four vapeur est en panne", name="Bruno Four")
    admin.patch(f"/api/v1/conversations/{shared['conversation_id']}", json={"tags": ["cuisine"]})

    assert message_ids(contributor, "four vapeur") == [shared["message_id"]]
    assert [r["id"] for r in found(contributor, "four", kind="customers")] == [
        shared["customer_id"]
    ]
    assert {r["id"] for r in found(admin, "four", kind="customers")} == {
        shared["customer_id"],
        hidden["customer_id"],
    }
    inbox = contributor.get("/api/v1/conversations", params={"q": "vapeur"}).json()["items"]
    assert [c["id"] for c in inbox] == [shared["conversation_id"]]


def test_nobody_finds_another_workspaces_words(admin, channel, client, factory):
    sent(admin, channel(), "a@example.fr", "Un parapluie oublié en magasin", name="Zoé Pluie")
    with transaction(factory) as session:
        other = Workspace(name="Autre marque", settings={})
        session.add(other)
        session.flush()
        stranger = create_user(
            session, other.id, "x@autre.test", "correct horse battery", "admin", "X"
        )
        token = create_token(session, stranger)

    response = client.get(
        "/api/v1/search", params={"q": "parapluie"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert len(found(admin, "parapluie")) == 1


def test_the_inbox_search_box_finds_conversations_by_their_words(admin, channel):
    api = channel()
    wanted = sent(admin, api, "a@example.fr", "Ma réclamation concerne la facture", name="Léa")
    sent(admin, api, "b@example.fr", "Merci pour tout", name="Marc")

    def inbox(q: str) -> list[int]:
        return [
            c["id"] for c in admin.get("/api/v1/conversations", params={"q": q}).json()["items"]
        ]

    assert inbox("reclamation facture") == [wanted["conversation_id"]]
    assert inbox("lea") == [wanted["conversation_id"]]  # the customer's name
    assert inbox("a@example.fr") == [wanted["conversation_id"]]
    assert inbox("?!") == []


@pytest.mark.parametrize("typed", HOSTILE)
def test_it_never_fails_on_what_people_type(admin, channel, typed):
    sent(admin, channel(), "a@example.fr", 'Le colis "abîmé" AND OR NEAR(x) *')

    response = search(admin, typed)

    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["error"]["code"] == "search_query_empty"
    inbox = admin.get("/api/v1/conversations", params={"q": typed[:200]})
    assert inbox.status_code == 200


def test_it_refuses_an_empty_query_clearly(admin):
    for typed in ("", "   ", "?!…", '""'):
        response = search(admin, typed)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "search_query_empty"
    assert search(admin, "x", kind="tickets").status_code == 422


def test_an_erased_customer_cannot_be_found_any_more(admin, channel, engine):
    api = channel()
    who = sent(admin, api, "ottoline@exemple.test", "Ottoline écrit à propos de sa commande")
    admin.patch(f"/api/v1/customers/{who['customer_id']}", json={"name": "Ottoline Brindlewood"})
    assert found(admin, "ottoline")

    erased = admin.post(
        f"/api/v1/customers/{who['customer_id']}/erase", json={"reason": "Demande écrite"}
    )

    assert erased.status_code == 200, erased.text
    for typed in ("ottoline", "brindlewood", "ottoline@exemple.test", "commande"):
        assert found(admin, typed) == [], typed


def test_a_rebuilt_index_finds_the_same(admin, channel, factory):
    message = sent(admin, channel(), "a@example.fr", "Le sèche-linge fait du bruit", name="Ana")

    with transaction(factory) as session:
        rebuild_search_index(session, ("messages", "customers", "orders"))

    assert message_ids(admin, "seche linge") == [message["message_id"]]
    assert found(admin, "ana", kind="customers")[0]["id"] == message["customer_id"]
    with transaction(factory) as session:
        assert session.scalar(select(Workspace.id)) is not None


def test_the_search_page_shows_highlighted_results_with_links(admin, channel, make_browser):
    sent(admin, channel(), "a@example.fr", "Mon <b>remboursement</b> n'arrive pas", name="Léa")
    browser = make_browser("agent")

    page = browser.get("/search", params={"q": "remboursement", "kind": "messages"})

    assert page.status_code == 200
    assert "<mark>remboursement</mark>" in page.text
    assert "&lt;b&gt;" in page.text or "<b>remboursement" not in page.text
    assert 'href="/conversations/' in page.text
    empty = browser.get("/search", params={"q": "?!"})
    assert empty.status_code == 200
    assert "Saisissez un mot à rechercher." in empty.text


def test_the_migration_indexes_what_was_already_there(admin, channel, engine):
    message = sent(admin, channel(), "a@example.fr", "Un vieux message sur la réclamation")
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0016")  # the revision before the search index
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    assert message_ids(admin, "reclamation") == [message["message_id"]]
    assert found(admin, "a@example.fr", kind="customers")[0]["id"] == message["customer_id"]
