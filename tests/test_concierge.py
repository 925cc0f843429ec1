"""The concierge: a customer's owner gets their new conversations first while online; the team
gets them otherwise and the owner is told; supervisors give owners one by one or in bulk."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from filrouge.core.actions.users import UserChanges, update_user
from filrouge.core.models import ApiToken, Conversation, Customer, Event, User
from filrouge.lib.timeutil import utcnow
from helpers import inbound, receive


def new_customer(admin: Any, email: str, name: str, **attributes: Any) -> int:
    response = admin.post(
        "/api/v1/customers",
        json={
            "name": name,
            "identities": [{"kind": "email", "value": email}],
            "attributes": attributes,
        },
    )
    assert response.status_code == 201, response.text
    customer_id: int = response.json()["id"]
    return customer_id


def give_owner(caller: Any, customer_id: int, owner_id: int | None) -> Any:
    return caller.patch(f"/api/v1/customers/{customer_id}", json={"owner_id": owner_id})


def set_presence(caller: Any, presence: str) -> Any:
    response = caller.request("PUT", "/api/v1/me/presence", json={"presence": presence})
    assert response.status_code == 200, response.text
    return response.json()


def assignee_of(factory: Any, conversation_id: int) -> int | None:
    with factory() as session:
        return session.get_one(Conversation, conversation_id).assignee_id


def notifications(caller: Any) -> list[dict[str, Any]]:
    response = caller.get("/api/v1/notifications")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.fixture
def marie(make_caller):
    return make_caller("agent", email="marie@example.test", name="Marie Dupont")


@pytest.fixture
def jeanne(admin) -> int:
    return new_customer(admin, "jeanne@example.fr", "Jeanne Martin", vip=True)


def test_a_new_conversation_goes_to_the_concierge_when_online(
    admin, channel, factory, marie, jeanne
):
    ch = channel("email")
    assert give_owner(admin, jeanne, marie.user.id).status_code == 200
    assert set_presence(marie, "online") == {"presence": "online", "availability": "online"}

    received = receive(admin, ch["id"], "jeanne@example.fr", text="Ma commande ?")

    assert received["customer_id"] == jeanne
    assert assignee_of(factory, received["conversation_id"]) == marie.user.id
    with factory() as session:
        event = session.scalars(
            select(Event).where(
                Event.subject_id == received["conversation_id"],
                Event.action == "conversation.assignee_changed",
            )
        ).one()
    assert event.after == {"assignee_id": marie.user.id, "reason": "concierge"}
    texts = [n["text"] for n in notifications(marie)]
    assert texts[0] == (
        "Nouvelle conversation de Jeanne Martin, dont vous êtes la conciergerie : elle vous"
        " est confiée."
    )


def test_a_follow_up_keeps_its_assignee_and_tells_nobody(
    admin, channel, factory, marie, jeanne, make_caller
):
    ch = channel("email")
    give_owner(admin, jeanne, marie.user.id)
    set_presence(marie, "online")
    first = receive(admin, ch["id"], "jeanne@example.fr")
    paul = make_caller("agent", email="paul@example.test", name="Paul Durand")
    admin.patch(
        f"/api/v1/conversations/{first['conversation_id']}", json={"assignee_id": paul.user.id}
    )
    before = len(notifications(marie))

    again = receive(admin, ch["id"], "jeanne@example.fr", hours=1, text="Et alors ?")

    assert again["conversation_id"] == first["conversation_id"]
    assert assignee_of(factory, first["conversation_id"]) == paul.user.id
    assert len(notifications(marie)) == before


@pytest.mark.parametrize(
    ("absence", "word"),
    [
        ("away", "absent"),
        ("offline", "hors ligne"),
        ("idle", "absent"),
        ("deactivated", "désactivé"),
    ],
)
def test_an_unavailable_concierge_is_told_and_the_team_keeps_the_conversation(
    admin, channel, factory, marie, jeanne, absence, word
):
    ch = channel("email")
    give_owner(admin, jeanne, marie.user.id)
    set_presence(marie, "away" if absence == "away" else "online")
    if absence == "offline":
        set_presence(marie, "offline")
    if absence == "idle":  # said online, but nothing done for an hour
        an_hour_ago = utcnow() - timedelta(hours=1)
        with factory() as session, session.begin():
            session.execute(
                update(User).where(User.id == marie.user.id).values(presence_at=an_hour_ago)
            )
            session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == marie.user.id)
                .values(last_used_at=an_hour_ago)
            )
    if absence == "deactivated":  # as an administrator does it on the people page
        with factory() as session, session.begin():
            changes = UserChanges(active=False)
            update_user(session, session.get_one(User, admin.user.id), marie.user.id, changes)

    received = receive(admin, ch["id"], "jeanne@example.fr")

    assert assignee_of(factory, received["conversation_id"]) is None
    with factory() as session:
        owner_id = session.get_one(Customer, jeanne).owner_id
        texts = list(
            session.scalars(
                select(Event.action).where(Event.subject_id == received["conversation_id"])
            )
        )
    assert owner_id == marie.user.id  # a deactivated owner stays the owner, unavailable
    assert "conversation.assignee_changed" not in texts
    from filrouge.core.notifications import recent_notifications

    with factory() as session:
        owner = session.get_one(User, marie.user.id)
        views = recent_notifications(session, owner, "fr")
    assert views[0].text == (
        "Nouvelle conversation de Jeanne Martin, dont vous êtes la conciergerie, confiée à"
        f" l'équipe car vous étiez {word}."
    )
    assert views[0].href == f"/conversations/{received['conversation_id']}"


def test_a_batch_routes_only_the_conversations_of_customers_with_a_concierge(
    admin, channel, factory, marie, jeanne
):
    ch = channel("email")
    give_owner(admin, jeanne, marie.user.id)
    set_presence(marie, "online")
    items = [
        inbound(ch["id"], "jeanne@example.fr", provider_message_id="m1"),
        inbound(ch["id"], "paul@example.fr", provider_message_id="m2"),
        inbound(ch["id"], "jeanne@example.fr", provider_message_id="m3", text="Encore"),
    ]
    results = admin.post("/api/v1/inbound:batch", json={"items": items}).json()["items"]

    assert results[0]["conversation_id"] == results[2]["conversation_id"]
    assert assignee_of(factory, results[0]["conversation_id"]) == marie.user.id
    assert assignee_of(factory, results[1]["conversation_id"]) is None
    assert [n["kind"] for n in notifications(marie)].count("concierge.assigned") == 1


def test_a_supervisor_gives_one_concierge_to_many_customers_by_number(
    admin, make_caller, factory, marie
):
    supervisor = make_caller("supervisor")
    ids = [new_customer(admin, f"c{i}@example.fr", f"Client {i}") for i in range(3)]

    response = supervisor.post(
        "/api/v1/customers:assign-owner", json={"owner_id": marie.user.id, "customer_ids": ids}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"assigned": 3}
    again = supervisor.post(
        "/api/v1/customers:assign-owner", json={"owner_id": marie.user.id, "customer_ids": ids}
    )
    assert again.json() == {"assigned": 0}  # nothing changed: nothing recorded
    with factory() as session:
        events = list(
            session.scalars(
                select(Event).where(Event.action == "owner_assigned").order_by(Event.id)
            )
        )
    assert [e.subject_id for e in events] == ids
    assert events[0].before == {"owner_id": None}
    assert events[0].after == {"owner_id": marie.user.id, "bulk": True}
    assert [n["text"] for n in notifications(marie)] == [
        "Vous êtes désormais la conciergerie de 3 clients de plus."
    ]
    cleared = supervisor.post(
        "/api/v1/customers:assign-owner", json={"owner_id": None, "customer_ids": ids[:2]}
    )
    assert cleared.json() == {"assigned": 2}
    owners = {c["id"]: c["owner"] for c in admin.get("/api/v1/customers").json()["items"]}
    assert owners == {
        ids[0]: None,
        ids[1]: None,
        ids[2]: {"id": marie.user.id, "name": "Marie Dupont"},
    }


def test_a_supervisor_gives_a_concierge_to_every_vip_by_filter(admin, make_caller, marie):
    supervisor = make_caller("supervisor")
    vips = [new_customer(admin, f"v{i}@example.fr", f"Vip {i}", vip=True) for i in range(2)]
    not_vip = new_customer(admin, "n@example.fr", "Pas vip", vip=False)

    response = supervisor.post(
        "/api/v1/customers:assign-owner",
        json={"owner_id": marie.user.id, "filter": {"attribute": "vip", "value": True}},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"assigned": 2}
    by_text = supervisor.post(
        "/api/v1/customers:assign-owner",
        json={"owner_id": marie.user.id, "filter": {"q": "PAS VIP"}},
    )
    assert by_text.json() == {"assigned": 1}
    owned = {
        c["id"] for c in admin.get("/api/v1/customers").json()["items"] if c["owner"] is not None
    }
    assert owned == {*vips, not_vip}
    empty = supervisor.post(
        "/api/v1/customers:assign-owner", json={"owner_id": marie.user.id, "filter": {}}
    )
    assert empty.status_code == 422  # every customer by mistake: refused
    assert empty.json()["error"]["code"] == "empty_filter"


def test_only_supervisors_and_admins_choose_a_concierge(admin, make_caller, marie, jeanne):
    agent = make_caller("agent", email="agent2@example.test")
    contributor = make_caller("contributor")

    assert give_owner(agent, jeanne, agent.user.id).status_code == 403
    assert give_owner(marie, jeanne, None).status_code == 403
    body = {"owner_id": marie.user.id, "customer_ids": [jeanne]}
    assert agent.post("/api/v1/customers:assign-owner", json=body).status_code == 403
    assert contributor.post("/api/v1/customers:assign-owner", json=body).status_code == 403
    renamed = agent.patch(f"/api/v1/customers/{jeanne}", json={"name": "Jeanne M."})
    assert renamed.status_code == 200  # agents still edit the rest
    assert renamed.json()["owner"] is None


def test_only_active_agents_supervisors_and_admins_can_be_concierges(
    admin, make_caller, factory, jeanne
):
    contributor = make_caller("contributor", name="Expert Literie")

    unknown = give_owner(admin, jeanne, 999_999)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_owner"
    refused = give_owner(admin, jeanne, contributor.user.id)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "owner_not_eligible"
    with factory() as session, session.begin():
        session.execute(update(User).where(User.id == contributor.user.id).values(role="agent"))
        session.execute(update(User).where(User.id == contributor.user.id).values(active=False))
    assert give_owner(admin, jeanne, contributor.user.id).status_code == 422
    assert admin.get(f"/api/v1/customers/{jeanne}").json()["owner"] is None


def test_a_merge_keeps_either_concierge_and_an_unmerge_gives_it_back(
    admin, factory, marie, make_caller, jeanne
):
    paul = make_caller("agent", email="paul@example.test", name="Paul Durand")
    other = new_customer(admin, "jm@example.fr", "J. Martin")
    give_owner(admin, other, marie.user.id)

    merged = admin.post(f"/api/v1/customers/{jeanne}/merge", json={"other_id": other})
    assert merged.json()["owner"] == {"id": marie.user.id, "name": "Marie Dupont"}

    admin.post(f"/api/v1/customers/{jeanne}/unmerge", json={"other_id": other})
    assert admin.get(f"/api/v1/customers/{jeanne}").json()["owner"] is None
    assert admin.get(f"/api/v1/customers/{other}").json()["owner"]["id"] == marie.user.id

    give_owner(admin, jeanne, paul.user.id)  # the survivor's own concierge stays
    merged = admin.post(f"/api/v1/customers/{jeanne}/merge", json={"other_id": other})
    assert merged.json()["owner"]["id"] == paul.user.id
    admin.post(f"/api/v1/customers/{jeanne}/unmerge", json={"other_id": other})
    assert admin.get(f"/api/v1/customers/{jeanne}").json()["owner"]["id"] == paul.user.id


def test_an_erased_customer_loses_their_concierge_and_their_name_in_notifications(
    admin, channel, factory, marie, jeanne
):
    ch = channel("email")
    give_owner(admin, jeanne, marie.user.id)
    set_presence(marie, "online")
    receive(admin, ch["id"], "jeanne@example.fr")
    assert "Jeanne Martin" in notifications(marie)[0]["text"]

    erased = admin.post(f"/api/v1/customers/{jeanne}/erase", json={"reason": "Demande RGPD"})

    assert erased.status_code == 200, erased.text
    with factory() as session:
        assert session.get_one(Customer, jeanne).owner_id is None
    again = give_owner(admin, jeanne, marie.user.id)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "customer_erased"
    items = notifications(marie)
    assert all("Jeanne" not in n["text"] for n in items)
    assert "Jeanne" not in json.dumps(items)
    assert items[0]["text"].startswith(f"Nouvelle conversation de client n° {jeanne},")


def test_a_notification_is_pushed_live_to_open_pages_with_ids_only(
    app, admin, channel, marie, jeanne
):
    published: list[dict[str, Any]] = []
    app.state.broker.dispatch = lambda data: published.append(json.loads(data))
    ch = channel("email")
    give_owner(admin, jeanne, marie.user.id)
    set_presence(marie, "online")

    receive(admin, ch["id"], "jeanne@example.fr")

    created = [m for m in published if m["type"] == "notification.created"]
    ids = [n["id"] for n in notifications(marie)]
    assert [m["notification_id"] for m in created] == sorted(ids)
    assert all(set(m) == {"type", "notification_id", "user_id"} for m in created)
    assert created[-1]["user_id"] == marie.user.id
    read = marie.post(f"/api/v1/notifications/{ids[0]}/read")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert marie.get("/api/v1/notifications").json()["unread"] == len(ids) - 1
    assert published[-1] == {"type": "notification.read", "user_id": marie.user.id}
    others = admin.post(f"/api/v1/notifications/{ids[1]}/read")
    assert others.status_code == 404  # one's own only


def test_the_inbox_row_and_the_panel_show_the_concierge(
    admin, channel, make_browser, marie, jeanne
):
    ch = channel("email")
    give_owner(admin, jeanne, marie.user.id)
    set_presence(marie, "away")
    received = receive(admin, ch["id"], "jeanne@example.fr")
    receive(admin, ch["id"], "paul@example.fr")
    supervisor = make_browser("supervisor")

    inbox = supervisor.get("/inbox").text
    assert inbox.count("conciergerie : Marie Dupont") == 1
    page = supervisor.get(f"/conversations/{received['conversation_id']}").text
    assert "Marie Dupont" in page
    assert 'class="presence presence-away">Absent' in page
    assert f'action="/conversations/{received["conversation_id"]}/customer/owner"' in page

    agent_page = make_browser("agent", email="a2@example.test").get(
        f"/conversations/{received['conversation_id']}"
    )
    assert "/customer/owner" not in agent_page.text
    refused = make_browser("agent", email="a3@example.test").post(
        f"/conversations/{received['conversation_id']}/customer/owner", {"owner_id": ""}
    )
    assert refused.status_code == 403

    changed = supervisor.post(
        f"/conversations/{received['conversation_id']}/customer/owner", {"owner_id": ""}
    )
    assert changed.status_code == 303
    assert admin.get(f"/api/v1/customers/{jeanne}").json()["owner"] is None


def test_a_concierge_has_a_view_of_their_customers_conversations(
    admin, channel, make_browser, jeanne
):
    ch = channel("email")
    browser = make_browser("agent", email="marie.b@example.test", name="Marie Browser")
    give_owner(admin, jeanne, browser.user.id)
    mine = receive(admin, ch["id"], "jeanne@example.fr")
    other = receive(admin, ch["id"], "paul@example.fr")

    page = browser.get("/inbox?view=concierge").text

    assert f'data-id="{mine["conversation_id"]}"' in page
    assert f'data-id="{other["conversation_id"]}"' not in page


def test_an_agent_sets_presence_in_the_header_and_signing_out_sets_offline(make_browser, factory):
    browser = make_browser("agent", email="p@example.test")
    page = browser.get("/inbox").text
    assert 'action="/presence"' in page

    saved = browser.post("/presence", {"presence": "online", "next": "/inbox?view=mine"})

    assert saved.status_code == 303
    assert saved.headers["location"] == "/inbox?view=mine"
    with factory() as session:
        assert session.get_one(User, browser.user.id).presence == "online"
    elsewhere = browser.post("/presence", {"presence": "away", "next": "//evil.example"})
    assert elsewhere.headers["location"] == "/inbox"
    assert browser.post("/presence", {"presence": "busy"}).status_code == 422
    browser.post("/logout")
    with factory() as session:
        assert session.get_one(User, browser.user.id).presence == "offline"


def test_the_bell_counts_unread_notifications_and_the_page_lists_them(
    admin, channel, make_browser, jeanne
):
    ch = channel("email")
    browser = make_browser("agent", email="bell@example.test", name="Marie Cloche")
    give_owner(admin, jeanne, browser.user.id)
    received = receive(admin, ch["id"], "jeanne@example.fr")

    header = browser.get("/inbox").text
    assert '<span class="count">2</span>' in header  # made concierge, then a conversation
    page = browser.get("/notifications").text
    assert "Vous êtes désormais la conciergerie de Jeanne Martin." in page
    assert "Nouvelle conversation de Jeanne Martin" in page
    assert "car vous étiez hors ligne" in page

    ids = [n.id for n in _notifications_of(browser.user.id, admin)]
    opened = browser.post(f"/notifications/{ids[0]}/read")
    assert opened.headers["location"] == f"/conversations/{received['conversation_id']}"
    browser.post("/notifications/read-all")
    assert '<span class="count none"></span>' in browser.get("/inbox").text


def _notifications_of(user_id: int, admin: Any) -> list[Any]:
    from filrouge.core.models import Notification

    session_factory = admin.client.app.state.session_factory
    with session_factory() as session:
        return list(
            session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id.desc())
            )
        )


def test_a_supervisor_assigns_many_from_the_concierge_page(admin, make_browser, marie):
    supervisor = make_browser("supervisor")
    vips = [new_customer(admin, f"v{i}@example.fr", f"Vip {i}", vip=True) for i in range(2)]

    page = supervisor.get("/concierge")
    assert page.status_code == 200
    assert "Marie Dupont" in page.text
    done = supervisor.post(
        "/concierge", {"owner_id": str(marie.user.id), "attribute": "vip", "value": "true"}
    )
    assert done.status_code == 200
    assert "2 clients ont changé de conciergerie." in done.text
    by_number = supervisor.post(
        "/concierge", {"owner_id": "", "customer_ids": f"{vips[0]}, #{vips[1]}"}
    )
    assert "2 clients ont changé de conciergerie." in by_number.text
    assert make_browser("agent", email="x@example.test").get("/concierge").status_code == 403
