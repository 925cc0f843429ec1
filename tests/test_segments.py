"""Saved segments: a definition checked, compiled to one SQL condition on both databases,
used by the customer list, the inbox and the API; shared or private."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from filrouge.core.errors import Invalid
from filrouge.core.models import Customer
from filrouge.core.segments import parse_definition, segment_clause
from filrouge.db import transaction
from helpers import receive

TODAY = date(2026, 12, 4)


def customer(admin: Any, name: str, attributes: dict[str, Any], **identity: Any) -> int:
    identities = [identity] if identity else []
    body = {"name": name, "attributes": attributes, "identities": identities}
    response = admin.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def give_followers(factory: Any, customer_id: int, followers: int) -> None:
    with transaction(factory) as session:
        row = session.get_one(Customer, customer_id)
        row.identities[0].attributes = {"followers": followers}


def members(factory: Any, definition: dict[str, Any]) -> set[str]:
    clause = segment_clause(parse_definition(definition), TODAY)
    with transaction(factory) as session:
        return set(session.scalars(select(Customer.name).where(clause)))


@pytest.fixture
def people(admin: Any, factory: Any) -> None:
    admin.post(
        "/api/v1/custom-fields",
        json={"key": "loyalty_tier", "type": "choice", "options": ["gold", "silver"]},
    )
    customer(
        admin,
        "Alice",
        {"vip": True, "age_band": "25-34", "loyalty_tier": "gold"},
        kind="x",
        value="1001",
    )
    customer(
        admin,
        "Bruno",
        {"vip": True, "birth_date": "1985-06-01", "loyalty_tier": "gold"},
        kind="x",
        value="1002",
    )
    customer(
        admin,
        "Chloé",
        {"vip": True, "age_band": "25-34", "loyalty_tier": "silver"},
        kind="x",
        value="1003",
    )
    customer(
        admin,
        "David",
        {"vip": False, "age_band": "25-34", "loyalty_tier": "gold"},
        kind="x",
        value="1004",
    )
    customer(
        admin,
        "Emma",
        {"vip": True, "birth_date": "1960-01-01", "loyalty_tier": "gold"},
        kind="x",
        value="1005",
    )
    customer(
        admin,
        "Farid",
        {"vip": True, "age_band": "35-44", "loyalty_tier": "gold"},
        kind="x",
        value="1006",
    )
    for name, followers in {
        "Alice": 12000,
        "Bruno": 50000,
        "Chloé": 90000,
        "David": 20000,
        "Emma": 30000,
        "Farid": 900,
    }.items():
        with transaction(factory) as session:
            found = session.scalars(select(Customer.id).where(Customer.name == name)).one()
        give_followers(factory, found, followers)


VIP_YOUNG_GOLD_REACH = {
    "all": [
        {"field": "vip", "op": "is", "value": True},
        {"field": "age_band", "op": "in", "value": ["25-34", "35-44"]},
        {"field": "reach", "op": ">=", "value": 10000},
        {"field": "attributes.loyalty_tier", "op": "=", "value": "gold"},
    ]
}


def test_it_finds_exactly_the_customers_of_a_segment_over_vip_age_reach_and_a_field(
    people, factory
):
    # Alice: all four. Bruno: 41 years old by his date of birth. Chloé: silver. David: not
    # VIP. Emma: 66. Farid: 900 followers.
    assert members(factory, VIP_YOUNG_GOLD_REACH) == {"Alice", "Bruno"}


def test_it_computes_the_age_band_from_the_date_of_birth_before_the_band_told(people, factory):
    definition = {"all": [{"field": "age_band", "op": "=", "value": "65+"}]}
    assert members(factory, definition) == {"Emma"}


def test_it_matches_any_of_several_conditions(people, factory):
    definition = {
        "any": [
            {"field": "reach", "op": "<", "value": 1000},
            {"field": "attributes.loyalty_tier", "op": "=", "value": "silver"},
        ]
    }
    assert members(factory, definition) == {"Chloé", "Farid"}


def test_a_value_of_another_type_never_matches_and_never_breaks_the_query(people, factory):
    with transaction(factory) as session:
        alice = session.scalars(select(Customer).where(Customer.name == "Alice")).one()
        alice.attributes = {**alice.attributes, "store": "Lyon", "vip": "peut-être"}
    number = {"all": [{"field": "attributes.store", "op": ">", "value": 3}]}
    assert members(factory, number) == set()
    vip = {"all": [{"field": "vip", "op": "is", "value": True}]}
    assert "Alice" not in members(factory, vip)


def test_it_finds_the_customers_who_used_a_channel(admin, channel, factory):
    whatsapp, email = channel("whatsapp"), channel("email")
    receive(admin, whatsapp["id"], "+33612345678", kind="whatsapp", name="Wanda")
    receive(admin, email["id"], "eve@example.fr", name="Eve")
    used = {"all": [{"field": "channel", "op": "used", "value": "whatsapp"}]}
    assert members(factory, used) == {"Wanda"}


@pytest.mark.parametrize(
    "definition",
    [
        {},
        {"all": []},
        {"all": [{"field": "shoe_size", "op": "=", "value": 42}]},
        {"all": [{"field": "vip", "op": ">", "value": 3}]},
        {"all": [{"field": "age_band", "op": "in", "value": ["20-30"]}]},
        {"all": [{"field": "reach", "op": ">=", "value": "many"}]},
        {"all": [{"field": "channel", "op": "used", "value": "pigeon"}]},
        {"all": [{"field": "attributes.Bad Key", "op": "=", "value": "x"}]},
        {"all": [{"field": "attributes.tier", "op": "in", "value": "gold"}]},
        {"all": [{"field": "vip", "op": "is", "value": True, "extra": 1}]},
    ],
)
def test_it_refuses_a_definition_it_cannot_compile(definition):
    with pytest.raises(Invalid) as refused:
        parse_definition(definition)
    assert refused.value.code == "invalid_segment"


# -- over HTTP ---------------------------------------------------------------------------------

VIP = {"all": [{"field": "vip", "op": "is", "value": True}]}


def save(caller: Any, name: str, definition: dict[str, Any], shared: bool = True) -> Any:
    body = {"name": name, "definition": definition, "shared": shared}
    return caller.post("/api/v1/segments", json=body)


def test_it_lists_a_segments_members_with_their_count(people, admin):
    segment = save(admin, "VIP jeunes et suivis", VIP_YOUNG_GOLD_REACH)
    assert segment.status_code == 201, segment.text
    listed = admin.get(f"/api/v1/customers?segment={segment.json()['id']}&limit=1").json()
    assert listed["count"] == 2
    assert len(listed["items"]) == 1
    assert listed["next_cursor"]
    rest = admin.get(
        f"/api/v1/customers?segment={segment.json()['id']}&cursor={listed['next_cursor']}"
    ).json()
    names = {listed["items"][0]["name"], *(c["name"] for c in rest["items"])}
    assert names == {"Alice", "Bruno"}
    assert {c["reach"] for c in [listed["items"][0], *rest["items"]]} == {12000, 50000}
    assert admin.get("/api/v1/customers").json()["count"] is None


def test_it_filters_conversations_by_segment(admin, channel):
    email = channel("email")
    vip = receive(admin, email["id"], "vip@example.fr", name="Valérie")
    receive(admin, email["id"], "other@example.fr", name="Oscar", hours=1)
    admin.patch(f"/api/v1/customers/{vip['customer_id']}", json={"attributes": {"vip": True}})
    segment = save(admin, "VIP", VIP).json()
    found = admin.get(f"/api/v1/conversations?segment={segment['id']}").json()["items"]
    assert [c["id"] for c in found] == [vip["conversation_id"]]


def test_the_inbox_shows_segments_as_views_and_filters_by_one(admin, channel, make_browser):
    email = channel("email")
    vip = receive(admin, email["id"], "vip@example.fr", name="Valérie VIP")
    receive(admin, email["id"], "other@example.fr", name="Oscar Ordinaire", hours=1)
    admin.patch(f"/api/v1/customers/{vip['customer_id']}", json={"attributes": {"vip": True}})
    segment = save(admin, "Clients VIP", VIP).json()
    browser = make_browser("agent")
    inbox = browser.get("/inbox").text
    assert f'href="/inbox?view=all&segment={segment["id"]}"' in inbox
    assert "Clients VIP" in inbox
    filtered = browser.get(f"/inbox?segment={segment['id']}").text
    assert "Valérie VIP" in filtered
    assert "Oscar Ordinaire" not in filtered


def test_a_private_segment_is_its_authors_alone(make_caller):
    agent, other, supervisor = (
        make_caller("agent"),
        make_caller("agent", email="a2@example.test"),
        make_caller("supervisor"),
    )
    private = save(agent, "Mes VIP", VIP, shared=False)
    assert private.status_code == 201
    segment_id = private.json()["id"]
    assert [s["name"] for s in agent.get("/api/v1/segments").json()] == ["Mes VIP"]
    assert other.get("/api/v1/segments").json() == []
    assert other.get(f"/api/v1/segments/{segment_id}").status_code == 404
    assert other.get(f"/api/v1/conversations?segment={segment_id}").status_code == 404
    assert supervisor.get(f"/api/v1/customers?segment={segment_id}").status_code == 404


def test_only_supervisors_share_and_only_authors_or_supervisors_change(make_caller):
    agent, supervisor = make_caller("agent"), make_caller("supervisor")
    refused = save(agent, "Pour tous", VIP, shared=True)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "cannot_share"
    shared = save(supervisor, "VIP", VIP).json()
    renamed = agent.patch(f"/api/v1/segments/{shared['id']}", json={"name": "Autre"})
    assert renamed.status_code == 403
    assert (
        supervisor.patch(f"/api/v1/segments/{shared['id']}", json={"name": "Clients VIP"}).json()[
            "name"
        ]
        == "Clients VIP"
    )
    assert agent.request("DELETE", f"/api/v1/segments/{shared['id']}").status_code == 403
    assert supervisor.request("DELETE", f"/api/v1/segments/{shared['id']}").status_code == 204


def test_contributors_have_no_segments_and_a_bad_definition_is_a_422(make_caller, admin):
    contributor = make_caller("contributor")
    assert contributor.get("/api/v1/segments").status_code == 403
    bad = save(admin, "Pointure", {"all": [{"field": "shoe_size", "op": "=", "value": 42}]})
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "invalid_segment"
    assert error["field"] == "definition"
    assert "shoe_size" in error["message"]


def test_a_supervisor_saves_a_segment_from_the_page_and_sees_its_count(people, make_browser):
    browser = make_browser("supervisor")
    saved = browser.post(
        "/segments",
        {
            "name": "Fidélité or",
            "match": "all",
            "field_0": "attributes.loyalty_tier",
            "op_0": "=",
            "value_0": "gold",
            "field_1": "reach",
            "op_1": ">=",
            "value_1": "10 000",
            "shared": "yes",
        },
    )
    assert saved.status_code == 303
    page = browser.get("/segments").text
    assert "Fidélité or" in page
    assert "<td>4</td>" in page  # Alice, Bruno, David, Emma
    refused = browser.post("/segments", {"name": "Rien", "field_0": "vip", "op_0": ">"})
    assert refused.status_code == 422
    assert "Le segment est inutilisable" in refused.text


def test_it_tells_a_value_set_from_one_missing_and_excludes_with_not_equal(people, factory):
    assert members(factory, {"all": [{"field": "birth_date", "op": "set"}]}) == {"Bruno", "Emma"}
    unset = {"all": [{"field": "attributes.loyalty_tier", "op": "not set"}]}
    assert members(factory, unset) == set()
    silver = {"all": [{"field": "attributes.loyalty_tier", "op": "!=", "value": "gold"}]}
    assert members(factory, silver) == {"Chloé"}
    not_vip = {"all": [{"field": "vip", "op": "is", "value": False}]}
    assert members(factory, not_vip) == {"David"}
