"""Customer attributes: custom field definitions, values typed and checked on every write
path (API, CSV import, the panel), the built-ins, consent, and reach per identity."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from conftest import BACKENDS
from filrouge.channels.x.inbound import read_activity
from filrouge.core.actions.customer_import import ImportOptions, import_customers
from filrouge.core.actions.inbound import receive_message
from filrouge.core.audit import Actor
from filrouge.core.consent import may_contact
from filrouge.core.custom_fields import age_band, age_band_of
from filrouge.core.models import Customer, Event
from filrouge.db import make_session_factory, transaction
from filrouge.schema import alembic_config, migrate
from helpers import database_of_its_own, receive, shared_data

FIELDS = [
    {"key": "loyalty_tier", "label": "Fidélité", "type": "choice", "options": ["gold", "silver"]},
    {"key": "customer_since", "label": "Client depuis", "type": "date"},
    {"key": "store_number", "label": "Magasin", "type": "number"},
    {"key": "favourite_colour", "type": "text"},
]


@pytest.fixture
def fields(admin: Any) -> dict[str, int]:
    created = {}
    for body in FIELDS:
        response = admin.post("/api/v1/custom-fields", json=body)
        assert response.status_code == 201, response.text
        created[body["key"]] = response.json()["id"]
    return created


def new_customer(admin: Any, **attributes: Any) -> Any:
    return admin.post("/api/v1/customers", json={"name": "Inès", "attributes": attributes})


def patch(admin: Any, customer_id: int, **attributes: Any) -> Any:
    return admin.patch(f"/api/v1/customers/{customer_id}", json={"attributes": attributes})


# -- definitions -------------------------------------------------------------------------------


def test_it_lists_the_built_ins_then_the_workspace_fields(admin, fields):
    listed = admin.get("/api/v1/custom-fields").json()
    keys = [f["key"] for f in listed]
    assert keys[:7] == [
        "vip",
        "language",
        "birth_date",
        "age_band",
        "consent_email",
        "consent_sms",
        "consent_whatsapp",
    ]
    assert keys[7:] == [f["key"] for f in FIELDS]
    language = listed[1]
    assert language["options"] == ["fr", "en"]
    assert language["builtin"] is True


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"key": "Loyalty Tier", "type": "text"}, "invalid_key"),
        ({"key": "vip", "type": "text"}, "key_taken"),
        ({"key": "email", "type": "text"}, "key_taken"),
        ({"key": "tier", "type": "choice", "options": []}, "options_required"),
    ],
)
def test_it_refuses_a_bad_definition(admin, body, code):
    response = admin.post("/api/v1/custom-fields", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_it_refuses_a_key_defined_twice_and_an_unknown_type(admin, fields):
    again = admin.post("/api/v1/custom-fields", json={"key": "store_number", "type": "text"})
    assert again.json()["error"]["code"] == "key_taken"
    assert (
        admin.post("/api/v1/custom-fields", json={"key": "x", "type": "colour"}).status_code == 422
    )


def test_only_admins_define_fields_but_everyone_reads_them(make_caller, fields):
    supervisor, agent = make_caller("supervisor"), make_caller("agent")
    body = {"key": "shoe_size", "type": "number"}
    assert supervisor.post("/api/v1/custom-fields", json=body).status_code == 403
    assert agent.get("/api/v1/custom-fields").status_code == 200


def test_a_type_change_or_a_deletion_keeps_the_values_already_written(admin, fields):
    customer = new_customer(admin, loyalty_tier="gold", store_number="12").json()
    changed = admin.patch(
        f"/api/v1/custom-fields/{fields['loyalty_tier']}", json={"type": "number"}
    )
    assert changed.status_code == 200
    assert changed.json()["type"] == "number"
    assert (
        admin.request("DELETE", f"/api/v1/custom-fields/{fields['store_number']}").status_code
        == 204
    )
    kept = admin.get(f"/api/v1/customers/{customer['id']}").json()["attributes"]
    assert kept == {"loyalty_tier": "gold", "store_number": 12}
    # the next write is checked against the new type; a deleted field's key is free text again
    assert patch(admin, customer["id"], loyalty_tier="platinum").json()["error"]["field"] == (
        "loyalty_tier"
    )
    assert patch(admin, customer["id"], store_number="douze").status_code == 200


# -- values on the API -------------------------------------------------------------------------


def test_it_types_each_value_by_its_definition(admin, fields):
    response = new_customer(
        admin,
        loyalty_tier="gold",
        customer_since="2019-03-01",
        store_number="12,5",
        favourite_colour="bleu",
        vip="oui",
        language="en",
        city="Lyon",
    )
    assert response.status_code == 201, response.text
    assert response.json()["attributes"] == {
        "loyalty_tier": "gold",
        "customer_since": "2019-03-01",
        "store_number": 12.5,
        "favourite_colour": "bleu",
        "vip": True,
        "language": "en",
        "city": "Lyon",  # no definition: kept as written
    }


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"store_number": "douze"}, "store_number"),
        ({"store_number": True}, "store_number"),
        ({"customer_since": "01/03/2019"}, "customer_since"),
        ({"loyalty_tier": "platinum"}, "loyalty_tier"),
        ({"favourite_colour": {"r": 1}}, "favourite_colour"),
        ({"vip": "peut-être"}, "vip"),
        ({"language": "de"}, "language"),
        ({"age_band": "20-30"}, "age_band"),
        ({"birth_date": "hier"}, "birth_date"),
        ({"consent_sms": "bof"}, "consent_sms"),
    ],
)
def test_it_refuses_a_value_that_does_not_fit_naming_the_field(admin, fields, attributes, field):
    customer = new_customer(admin).json()
    response = patch(admin, customer["id"], **attributes)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_attribute", field)
    assert field in error["message"]
    created = new_customer(admin, **attributes)
    assert created.status_code == 422
    assert created.json()["error"]["field"] == field


def test_the_refusal_is_in_the_callers_language(admin, fields):
    customer = new_customer(admin).json()
    french = patch(admin, customer["id"], store_number="douze").json()["error"]["message"]
    english = admin.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"attributes": {"store_number": "douze"}},
        headers={"Accept-Language": "en"},
    ).json()["error"]["message"]
    assert french == "store_number doit être un nombre."
    assert english == "store_number must be a number."


# -- built-ins ---------------------------------------------------------------------------------


def test_it_computes_the_age_band_from_a_date_of_birth_or_keeps_the_band_told():
    today = date(2026, 12, 4)
    assert age_band(date(2001, 12, 5), today) == "18-24"  # 24 until tomorrow
    assert age_band(date(2001, 12, 4), today) == "25-34"
    assert age_band(date(1961, 1, 1), today) == "65+"
    assert age_band(date(2010, 1, 1), today) is None
    assert age_band_of({"birth_date": "1990-06-01", "age_band": "18-24"}, today) == "35-44"
    assert age_band_of({"age_band": "45-54"}, today) == "45-54"


def test_a_consent_change_is_logged_with_its_date_and_source(admin, factory, fields):
    customer = new_customer(admin, consent_email=True).json()
    patch(admin, customer["id"], consent_email="no", consent_sms="oui")
    patch(admin, customer["id"], consent_sms="unknown")
    with transaction(factory) as session:
        events = session.scalars(
            select(Event).where(Event.action == "customer.consent_changed").order_by(Event.id)
        ).all()
        changes = [(e.after, e.occurred_at is not None) for e in events]
        stored = session.get_one(Customer, customer["id"]).attributes
    assert changes == [
        ({"consent_email": True, "source": "api"}, True),
        ({"consent_email": False, "source": "api"}, True),
        ({"consent_sms": True, "source": "api"}, True),
        ({"consent_sms": None, "source": "api"}, True),
    ]
    assert stored == {"consent_email": False}


def test_may_contact_follows_consent_on_email_sms_and_whatsapp_only():
    def someone(**attributes: Any) -> Customer:
        return Customer(workspace_id=1, attributes=attributes)

    # a survey, an acknowledgement: goes unless the customer said no
    assert may_contact(someone(consent_email=True), "email") is True
    assert may_contact(someone(consent_email=False), "email") is False
    assert may_contact(someone(), "email") is True
    assert may_contact(someone(consent_email=True, consent_sms=False), "sms") is False
    assert may_contact(someone(consent_whatsapp=False), "whatsapp") is False
    # marketing: an explicit yes only
    assert may_contact(someone(), "email", marketing=True) is False
    assert may_contact(someone(consent_sms=True), "sms", marketing=True) is True
    assert may_contact(someone(consent_sms=True), "whatsapp", marketing=True) is False
    # no flag: the channel's own rules decide
    assert may_contact(someone(consent_email=False), "chat", marketing=True) is True
    assert may_contact(someone(consent_email=True, erased_at="2026-01-01"), "email") is False
    merged = someone(consent_email=True)
    merged.merged_into_id = 7
    assert may_contact(merged, "email") is False


# -- CSV import --------------------------------------------------------------------------------


def test_the_import_types_the_columns_and_rejects_a_row_with_a_bad_value(
    admin, fields, factory, tmp_path: Path
):
    good = tmp_path / "good.csv"
    good.write_text(
        "name,email,vip,store_number,customer_since,consent_sms\n"
        "Anne,anne@example.fr,oui,42,2020-05-01,non\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,email,loyalty_tier\nBen,ben@example.fr,gold\nCléo,cleo@example.fr,bronze\n",
        encoding="utf-8",
    )
    options = ImportOptions(region="FR", locale="fr", actor=Actor.system())
    workspace_id = admin.user.workspace_id
    assert import_customers(factory, workspace_id, good, options).rejected == 0
    report = import_customers(factory, workspace_id, bad, options)
    assert (report.created, report.rejected) == (1, 1)  # Cléo's tier is not a choice
    assert report.rejected_path is not None
    rejected = report.rejected_path.read_text(encoding="utf-8")
    assert "Cléo" in rejected
    assert "loyalty_tier" in rejected
    with transaction(factory) as session:
        names = {c.name: c.attributes for c in session.scalars(select(Customer))}
    assert names == {
        "Anne": {
            "vip": True,
            "store_number": 42,
            "customer_since": "2020-05-01",
            "consent_sms": False,
        },
        "Ben": {"loyalty_tier": "gold"},
    }


# -- the panel ---------------------------------------------------------------------------------


@pytest.fixture
def panel(admin: Any, channel: Any, fields: Any) -> dict[str, Any]:
    email = channel("email")
    received = receive(admin, email["id"], "ines@example.fr", name="Inès")
    return {"conversation": received["conversation_id"], "customer": received["customer_id"]}


def test_the_panel_shows_the_typed_fields_vip_age_and_consents(admin, make_browser, panel):
    patch(
        admin,
        panel["customer"],
        vip=True,
        language="fr",
        birth_date="1990-06-01",
        consent_email=True,
        loyalty_tier="gold",
    )
    page = make_browser("agent").get(f"/conversations/{panel['conversation']}").text
    assert 'class="badge vip"' in page
    assert "Tranche d&#39;âge" in page
    assert "35-44" in page
    assert "Fidélité" in page
    assert "gold" in page
    assert "Consentement e-mail" in page
    assert 'action="/conversations/' in page
    assert "/customer/attributes" in page


def test_an_agent_changes_the_attributes_on_the_panel(admin, make_browser, panel, factory):
    browser = make_browser("agent")
    url = f"/conversations/{panel['conversation']}/customer/attributes"
    saved = browser.post(url, {"f_store_number": "7", "f_consent_sms": "true", "f_vip": ""})
    assert saved.status_code == 303
    with transaction(factory) as session:
        customer = session.get_one(Customer, panel["customer"])
        assert customer.attributes == {"store_number": 7, "consent_sms": True}
        source = session.scalars(
            select(Event.after).where(Event.action == "customer.consent_changed")
        ).one()
    assert source == {"consent_sms": True, "source": "panel"}
    page = browser.get(f"/conversations/{panel['conversation']}").text
    assert "par le panneau client" in page


def test_the_panel_shows_a_refusal_in_french_and_keeps_what_was_typed(make_browser, panel):
    browser = make_browser("agent")
    url = f"/conversations/{panel['conversation']}/customer/attributes"
    refused = browser.post(url, {"f_customer_since": "hier"})
    assert refused.status_code == 422
    assert "customer_since doit être une date écrite AAAA-MM-JJ." in refused.text
    assert 'value="hier"' in refused.text


def test_a_contributor_cannot_change_attributes_and_a_form_needs_its_csrf_token(
    make_browser, panel
):
    url = f"/conversations/{panel['conversation']}/customer/attributes"
    contributor = make_browser("contributor")
    assert contributor.post(url, {"f_vip": "true"}).status_code == 403
    agent = make_browser("agent", email="agent2@example.test")
    forged = agent.client.post(url, data={"f_vip": "true"})
    assert forged.status_code == 403


def test_a_value_written_before_a_type_change_does_not_block_the_other_fields(
    admin, make_browser, panel, fields, factory
):
    patch(admin, panel["customer"], loyalty_tier="gold")
    admin.patch(f"/api/v1/custom-fields/{fields['loyalty_tier']}", json={"options": ["silver"]})
    browser = make_browser("agent")
    url = f"/conversations/{panel['conversation']}/customer/attributes"
    saved = browser.post(url, {"f_loyalty_tier": "gold", "f_store_number": "3"})
    assert saved.status_code == 303
    with transaction(factory) as session:
        attributes = session.get_one(Customer, panel["customer"]).attributes
    assert attributes == {"loyalty_tier": "gold", "store_number": 3}


# -- reach -------------------------------------------------------------------------------------


def test_followers_from_a_real_x_payload_become_the_customers_reach(channel, admin, settings):
    folder = shared_data("webhooks", "x_twitter_account_activity")
    payload = json.loads(
        (folder / "COMPOSED_tweet_create_events_with_real_status.json").read_bytes()
    )
    payload["for_user_id"] = "716351352"  # delivered to the account the tweet mentions
    x = channel("x", user_id="716351352")
    batch = read_activity(x["id"], {"user_id": "716351352"}, payload)
    [message] = batch.messages
    assert message.sender.attributes["followers"] == 5332
    factory = make_session_factory(admin.client.app.state.engine)
    result = receive_message(factory, dataclasses.replace(message, attachments=()), settings)
    customer = admin.get(f"/api/v1/customers/{result.customer_id}").json()
    assert customer["reach"] == 5332
    assert customer["identities"][0]["attributes"]["followers"] == 5332


def test_instagram_and_facebook_commenters_keep_their_followers_when_the_payload_has_them():
    from filrouge.channels.facebook_comments.inbound import _sender as facebook_sender
    from filrouge.channels.instagram.inbound import commenter

    folder = shared_data("webhooks", "meta_instagram")
    [delivery] = json.loads((folder / "docs_template_comment.json").read_bytes())
    author = delivery["entry"][0]["changes"][0]["value"]["from"]
    assert "followers" not in commenter(author).attributes  # absent: nothing invented
    assert commenter({**author, "followers_count": 812}).attributes["followers"] == 812
    fan = facebook_sender({"id": "42", "name": "Léa", "followers_count": 1500})
    assert fan.attributes == {"followers": 1500}


# -- the migration -----------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own, to be migrated step by step."""
    with database_of_its_own(request.param, tmp_path, "attributes_migration") as engine:
        yield engine


def test_vip_and_consents_imported_as_text_become_booleans(unmigrated: Engine):
    config = alembic_config(unmigrated.url.render_as_string(hide_password=False))
    with unmigrated.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0014")
    old = {
        1: {"vip": "oui", "consent_sms": "non", "city": "Lyon"},
        2: {"vip": "TRUE", "consent_email": "peut-être"},
        3: {"vip": False, "note": "vip"},
    }
    with unmigrated.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspaces (id, name, settings, created_at) "
                "VALUES (1, 'Old', '{}', CURRENT_TIMESTAMP)"
            )
        )
        for customer_id, attributes in old.items():
            connection.execute(
                text(
                    "INSERT INTO customers (id, workspace_id, attributes, created_at, updated_at) "
                    "VALUES (:id, 1, :attributes, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": customer_id, "attributes": json.dumps(attributes)},
            )

    migrate(unmigrated)

    with make_session_factory(unmigrated)() as session:
        typed = {c.id: c.attributes for c in session.scalars(select(Customer))}
    assert typed == {
        1: {"vip": True, "consent_sms": False, "city": "Lyon"},
        2: {"vip": True, "consent_email": "peut-être"},  # not a clear yes or no: kept
        3: {"vip": False, "note": "vip"},
    }


def test_an_admin_defines_fields_on_the_administration_page(make_browser, admin):
    browser = make_browser("admin", email="admin.page@example.test")
    added = browser.post(
        "/admin/fields",
        {"key": "loyalty_tier", "label": "Fidélité", "type": "choice", "options": "or\nargent"},
    )
    assert added.status_code == 303
    page = browser.get("/admin/fields").text
    assert "Fidélité" in page
    assert "les clients gardent leurs valeurs" in page
    [field] = [f for f in admin.get("/api/v1/custom-fields").json() if not f["builtin"]]
    assert field["options"] == ["or", "argent"]
    refused = browser.post("/admin/fields", {"key": "Tier!", "type": "text"})
    assert refused.status_code == 422
    assert "La clé ne contient que des minuscules" in refused.text
    removed = browser.post(f"/admin/fields/{field['id']}/delete", {})
    assert removed.status_code == 303
    agent = make_browser("agent")
    assert agent.get("/admin/fields").status_code == 403
