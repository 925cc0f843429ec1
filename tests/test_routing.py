"""Routing: a new conversation goes to the team whose skills fit, then to an available agent
under capacity by the team's strategy; it waits in the queue when nobody can take it, and is
routed again when its agent goes offline. Contributors are offered what matches their expertise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.base import NormalisedInbound, Sender
from filrouge.core.actions.inbound import receive_message, receive_messages
from filrouge.core.actions.teams import create_team, update_team
from filrouge.core.actions.users import UserChanges, update_user
from filrouge.core.audit import Actor
from filrouge.core.models import Conversation, Event, Team, User
from filrouge.core.presence import set_presence
from filrouge.db import make_session_factory, transaction
from filrouge.jobs.routing import route_now
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings
from helpers import receive

Factory = sessionmaker[Session]


def make_team(admin: Any, factory: Factory, name: str, members: list[Any], **routing: Any) -> int:
    with transaction(factory) as session:
        workspace_id = admin.user.workspace_id
        team = create_team(session, workspace_id, name, Actor.system())
        ids = [m.user.id for m in members]
        update_team(session, workspace_id, team.id, name, ids, Actor.system())
        team_id = team.id
    response = admin.request("PUT", f"/api/v1/teams/{team_id}/routing", json=routing)
    assert response.status_code == 200, response.text
    return team_id


def online(*agents: Any, presence: str = "online") -> None:
    for agent in agents:
        response = agent.request("PUT", "/api/v1/me/presence", json={"presence": presence})
        assert response.status_code == 200, response.text


def routed(factory: Factory, conversation_id: int) -> tuple[int | None, int | None]:
    with factory() as session:
        conversation = session.get_one(Conversation, conversation_id)
        return conversation.team_id, conversation.assignee_id


def events(factory: Factory, conversation_id: int, action: str) -> list[Event]:
    with factory() as session:
        return list(
            session.scalars(
                select(Event)
                .where(Event.subject_id == conversation_id, Event.action == action)
                .order_by(Event.id)
            )
        )


def texts_of(caller: Any) -> list[str]:
    return [n["text"] for n in caller.get("/api/v1/notifications").json()["items"]]


@pytest.fixture
def agents(make_caller: Callable[..., Any]) -> list[Any]:
    return [
        make_caller("agent", email=f"{name.lower()}@example.test", name=f"{name} Agent")
        for name in ("Marie", "Paul", "Lea")
    ]


def test_skills_choose_the_team(admin, channel, factory, agents):
    email, chat = channel("email"), channel("chat")
    french = make_team(admin, factory, "France", [], strategy="manual", languages=["fr"])
    english = make_team(admin, factory, "English", [], strategy="manual", languages=["en"])
    live = make_team(admin, factory, "Chat", [], strategy="manual", channel_kinds=["chat"])
    deliveries = make_team(
        admin, factory, "Livraisons", [], strategy="manual", languages=["fr"], topics=["livraison"]
    )
    hidden = make_team(admin, factory, "Hors routage", [], strategy="off")

    fr = receive(
        admin, email["id"], "a@example.fr", text="Bonjour, je voudrais changer mon mot de passe svp"
    )
    en = receive(
        admin, email["id"], "b@example.com", text="Hi, I would like to change my password please"
    )
    live_one = receive(admin, chat["id"], "c@example.com", text="?")
    late = receive(
        admin, email["id"], "d@example.fr", text="Ma livraison est en retard, je suis déçue"
    )

    assert routed(factory, fr["conversation_id"]) == (french, None)
    assert routed(factory, en["conversation_id"]) == (english, None)
    assert routed(factory, live_one["conversation_id"]) == (live, None)
    assert routed(factory, late["conversation_id"]) == (deliveries, None)  # the most specific
    (event,) = events(factory, late["conversation_id"], "conversation.routed")
    assert event.after["matched"] == {"language": "fr", "topic": "livraison"}
    assert event.after["why"] == "manual"
    assert hidden not in {routed(factory, c["conversation_id"])[0] for c in (fr, en, late)}


def test_the_type_triage_reads_in_the_first_message_is_a_topic(admin, channel, factory):
    email = channel("email")
    complaints = make_team(
        admin, factory, "Réclamations", [], strategy="manual", topics=["complaint"]
    )
    questions = make_team(admin, factory, "Questions", [], strategy="manual", topics=["question"])

    angry = receive(
        admin,
        email["id"],
        "a@example.fr",
        text="Colis jamais arrivé, c'est inadmissible, je veux être remboursée tout de suite !",
    )
    asking = receive(
        admin,
        email["id"],
        "b@example.fr",
        text="Bonjour, à quelle heure ouvre le magasin de Lyon ?",
    )

    assert routed(factory, angry["conversation_id"]) == (complaints, None)
    assert routed(factory, asking["conversation_id"]) == (questions, None)
    (event,) = events(factory, angry["conversation_id"], "conversation.routed")
    assert event.after["matched"]["topic"] == "complaint"


def test_round_robin_rotates_fairly_and_survives_a_new_session(
    admin, channel, factory, engine: Engine, settings: Settings, agents
):
    ch = channel("email")
    online(*agents)
    team = make_team(admin, factory, "Support", agents, strategy="round_robin")

    given = [
        routed(factory, receive(admin, ch["id"], f"c{n}@example.fr")["conversation_id"])[1]
        for n in range(6)
    ]

    ids = [a.user.id for a in agents]
    assert given == ids + ids
    with factory() as session:
        assert session.get_one(Team, team).round_robin_last_id == ids[2]
    other_process = make_session_factory(engine)  # a new session, as another worker would
    inbound = NormalisedInbound(
        channel_id=ch["id"],
        provider_message_id=None,
        sender=Sender(kind="email", value="z@example.fr"),
        text="Bonjour",
    )
    (result,) = receive_messages(other_process, [inbound], settings)
    assert routed(factory, result.conversation_id)[1] == ids[0]  # the turn goes on


def test_least_loaded_respects_the_capacity_of_each_kind_of_channel(
    admin, channel, factory, agents
):
    email, chat = channel("email"), channel("chat")
    marie = agents[0]
    online(marie)
    make_team(admin, factory, "Support", [marie], strategy="least_loaded")

    chats = [receive(admin, chat["id"], f"v{n}@example.fr")["conversation_id"] for n in range(4)]
    mail = receive(admin, email["id"], "m@example.fr")["conversation_id"]

    assert [routed(factory, c)[1] for c in chats] == [marie.user.id] * 3 + [None]
    assert routed(factory, mail)[1] == marie.user.id  # 3/3 chats, but room for emails
    last = events(factory, chats[2], "conversation.routed")[0].after
    assert (last["why"], last["load"], last["capacity"], last["kind_class"]) == (
        "assigned",
        3,
        3,
        "chat",
    )
    assert events(factory, chats[3], "conversation.routed")[0].after["why"] == "nobody_available"


def test_least_loaded_balances_and_an_agents_own_capacity_counts(admin, channel, factory, agents):
    chat = channel("chat")
    marie, paul = agents[0], agents[1]
    online(marie, paul)
    make_team(admin, factory, "Support", [marie, paul], strategy="least_loaded")
    response = admin.request(
        "PUT", f"/api/v1/users/{paul.user.id}/capacity", json={"capacity": {"chat": 1}}
    )
    assert response.json() == {
        "user_id": paul.user.id,
        "own": {"chat": 1},
        "capacity": {"chat": 1, "email": 10, "social": 5, "other": 5},
    }

    given = [
        routed(factory, receive(admin, chat["id"], f"v{n}@example.fr")["conversation_id"])[1]
        for n in range(5)
    ]

    assert Counter(given) == {marie.user.id: 3, paul.user.id: 1, None: 1}


def test_away_and_offline_agents_are_skipped(admin, channel, factory, agents):
    ch = channel("email")
    marie, paul, lea = agents
    online(marie, presence="away")
    online(paul, presence="offline")
    online(lea)
    make_team(admin, factory, "Support", agents, strategy="round_robin")

    given = {
        routed(factory, receive(admin, ch["id"], f"c{n}@example.fr")["conversation_id"])[1]
        for n in range(3)
    }

    assert given == {lea.user.id}


def test_the_concierge_comes_first_and_the_team_is_set(admin, channel, factory, agents):
    ch = channel("email")
    marie, paul, _ = agents
    online(marie, paul)
    team = make_team(admin, factory, "Support", [paul], strategy="round_robin")
    created = admin.post(
        "/api/v1/customers",
        json={"name": "Jeanne", "identities": [{"kind": "email", "value": "jeanne@example.fr"}]},
    ).json()
    admin.patch(f"/api/v1/customers/{created['id']}", json={"owner_id": marie.user.id})

    first = receive(admin, ch["id"], "jeanne@example.fr")

    assert routed(factory, first["conversation_id"]) == (team, marie.user.id)
    (owner_event,) = events(factory, first["conversation_id"], "conversation.assignee_changed")
    assert owner_event.after == {"assignee_id": marie.user.id, "reason": "concierge"}


def test_nobody_available_waits_in_the_queue_until_an_agent_comes_online(
    admin, channel, factory, agents
):
    ch = channel("email")
    marie = agents[0]
    team = make_team(admin, factory, "Support", [marie], strategy="least_loaded")
    waiting = receive(admin, ch["id"], "c@example.fr", name="Chloé")["conversation_id"]
    assert routed(factory, waiting) == (team, None)

    online(marie)  # the presence change runs the routing job (at once in tests)

    assert routed(factory, waiting) == (team, marie.user.id)
    assert [e.after["why"] for e in events(factory, waiting, "conversation.routed")] == [
        "nobody_available",
        "assigned",
    ]
    assert texts_of(marie)[0] == "Nouvelle conversation de Chloé : elle vous est confiée."


def test_a_resolved_conversation_frees_room_for_the_queue(admin, channel, factory, agents):
    chat = channel("chat")
    marie = agents[0]
    online(marie)
    make_team(admin, factory, "Support", [marie], strategy="least_loaded")
    admin.request("PUT", f"/api/v1/users/{marie.user.id}/capacity", json={"capacity": {"chat": 1}})
    first = receive(admin, chat["id"], "a@example.fr")["conversation_id"]
    second = receive(admin, chat["id"], "b@example.fr")["conversation_id"]
    assert routed(factory, second)[1] is None

    marie.patch(f"/api/v1/conversations/{first}", json={"status": "resolved"})

    assert routed(factory, second)[1] == marie.user.id


def test_going_offline_reroutes_unanswered_conversations_with_an_event(
    admin, channel, factory, agents
):
    ch = channel("email")
    marie, paul, _ = agents
    online(marie, paul)
    team = make_team(admin, factory, "Support", [marie, paul], strategy="round_robin")
    unanswered = receive(admin, ch["id"], "a@example.fr", name="Alice")["conversation_id"]
    receive(admin, ch["id"], "b@example.fr")  # Paul's turn
    answered = receive(admin, ch["id"], "c@example.fr")["conversation_id"]
    assert routed(factory, unanswered)[1] == routed(factory, answered)[1] == marie.user.id
    with factory() as session, session.begin():  # as her reply did
        session.execute(
            update(Conversation)
            .where(Conversation.id == answered)
            .values(first_response_at=utcnow())
        )

    online(marie, presence="offline")

    assert routed(factory, unanswered) == (team, paul.user.id)
    assert routed(factory, answered) == (team, marie.user.id)
    (moved,) = events(factory, unanswered, "conversation.rerouted")
    assert moved.before == {"assignee_id": marie.user.id}
    assert moved.after["assignee_id"] == paul.user.id
    assert texts_of(marie)[0] == (
        "La conversation avec Alice a été confiée à nouveau : vous n’êtes plus disponible."
    )
    assert texts_of(paul)[0] == "Nouvelle conversation de Alice : elle vous est confiée."


def test_an_idle_agent_counts_as_gone_offline(admin, channel, factory, agents, monkeypatch):
    ch = channel("email")
    marie, paul, _ = agents
    online(marie)
    team = make_team(admin, factory, "Support", [marie, paul], strategy="least_loaded")
    conversation = receive(admin, ch["id"], "a@example.fr")["conversation_id"]
    online(paul)
    assert routed(factory, conversation)[1] == marie.user.id
    later = utcnow() + timedelta(hours=1)  # Marie said online, then did nothing for an hour
    monkeypatch.setattr("filrouge.core.presence.utcnow", lambda: later)
    with factory() as session, session.begin():  # while Paul was just active
        session.execute(update(User).where(User.id == paul.user.id).values(presence_at=later))

    assert route_now() == 1  # the minute sweeper

    assert routed(factory, conversation) == (team, paul.user.id)


def test_contributors_are_offered_what_matches_their_expertise(
    admin, channel, factory, agents, make_caller
):
    ch = channel("email")
    marie = agents[0]
    online(marie)
    make_team(admin, factory, "Support", [marie], strategy="round_robin")
    expert = make_caller("contributor", email="expert@example.test", name="Hugo Literie")
    other = make_caller("contributor", email="other@example.test", name="Zoé Cuisine")
    with transaction(factory) as session:  # as an administrator does on the people page
        for contributor, tags in ((expert, ["matelas"]), (other, ["cuisine"])):
            update_user(session, admin.user, contributor.user.id, UserChanges(expertise=tags))

    mattress = receive(
        admin, ch["id"], "a@example.fr", text="Mon matelas s'affaisse déjà", name="Alice"
    )

    conversation = mattress["conversation_id"]
    assert routed(factory, conversation)[1] == marie.user.id  # the team keeps it
    listed = [c["id"] for c in expert.get("/api/v1/conversations").json()["items"]]
    assert listed == [conversation]
    assert other.get("/api/v1/conversations").json()["items"] == []
    assert texts_of(expert)[0] == (
        "La conversation avec Alice correspond à votre expertise (matelas) : votre aide est la"
        " bienvenue."
    )
    reply = expert.post(
        f"/api/v1/conversations/{conversation}/replies", json={"text": "Je regarde"}
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "awaiting_approval"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strategy": "random"}, "strategy"),
        ({"strategy": "manual", "languages": ["french"]}, "languages"),
        ({"strategy": "manual", "channel_kinds": ["fax"]}, "channel_kinds"),
    ],
)
def test_bad_routing_settings_are_refused(admin, factory, body, field):
    team = make_team(admin, factory, "Support", [], strategy="manual")
    response = admin.request("PUT", f"/api/v1/teams/{team}/routing", json=body)
    assert response.status_code == 422, response.text
    assert "error" in response.json()


def test_a_capacity_out_of_bounds_is_refused(admin, agents):
    for capacity in ({"chat": -1}, {"fax": 2}, {"chat": "3"}):
        response = admin.request(
            "PUT", f"/api/v1/users/{agents[0].user.id}/capacity", json={"capacity": capacity}
        )
        assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("role", "status"), [("supervisor", 200), ("agent", 403), ("contributor", 403)]
)
def test_only_supervisors_and_admins_change_routing(admin, factory, make_caller, role, status):
    team = make_team(admin, factory, "Support", [], strategy="manual")
    caller = make_caller(role)
    changed = caller.request(
        "PUT", f"/api/v1/teams/{team}/routing", json={"strategy": "round_robin"}
    )
    capacity = caller.request(
        "PUT", f"/api/v1/users/{caller.user.id}/capacity", json={"capacity": {"chat": 9}}
    )
    assert (changed.status_code, capacity.status_code) == (status, status)
    assert caller.get("/api/v1/teams").status_code == status


def test_the_conversation_page_says_who_it_was_routed_to_and_why(
    admin, channel, factory, make_browser
):
    chat = channel("chat")
    browser = make_browser("agent", email="marie@example.test", name="Marie Dupont")
    with transaction(factory) as session:  # she says she is online (the header's menu)
        set_presence(session, session.get_one(User, browser.user.id), "online")
    make_team(admin, factory, "Support", [browser], strategy="least_loaded")
    first = receive(admin, chat["id"], "a@example.fr")["conversation_id"]
    second = receive(admin, chat["id"], "b@example.fr")["conversation_id"]

    page = browser.get(f"/conversations/{second}")

    assert page.status_code == 200
    assert "Routage" in page.text
    assert "Confiée à Marie Dupont (Support) : le moins chargé, 2/3 chats." in page.text
    assert "1/3 chats" in browser.get(f"/conversations/{first}").text


def test_the_admin_pages_show_and_change_routing_with_csrf(admin, factory, make_browser, agents):
    team = make_team(admin, factory, "Support", [], strategy="manual", languages=["fr"])
    browser = make_browser("admin", email="root@example.test")

    page = browser.get("/admin/teams")
    assert "Manuelle : la file de l’équipe" in page.text
    assert 'name="languages" value="fr"' in page.text

    refused = browser.client.post(f"/admin/teams/{team}/routing", data={"strategy": "least_loaded"})
    assert refused.status_code == 403
    saved = browser.post(
        f"/admin/teams/{team}/routing",
        {"strategy": "least_loaded", "languages": "fr, en", "channel_kinds": ["chat", "email"]},
    )
    assert saved.status_code == 303
    wrong = browser.post(
        f"/admin/teams/{team}/routing", {"strategy": "least_loaded", "languages": "français"}
    )
    assert wrong.status_code == 422
    assert "n’est pas un code de langue" in wrong.text
    capacity = browser.post(
        f"/admin/people/{agents[0].user.id}/capacity", {"chat": "2", "email": ""}
    )
    assert capacity.status_code == 303

    listed = {t["id"]: t for t in admin.get("/api/v1/teams").json()}
    assert (listed[team]["strategy"], listed[team]["languages"], listed[team]["channel_kinds"]) == (
        "least_loaded",
        ["en", "fr"],
        ["chat", "email"],
    )
    with factory() as session:
        assert session.get_one(User, agents[0].user.id).capacity == {"chat": 2}
    assert 'name="chat" min="0" max="1000" value="2"' in browser.get("/admin/people").text


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_turns_and_capacity_hold_when_deliveries_race(
    admin, channel, factory, settings: Settings, agents, strategy
):
    ch = channel("email")
    marie, paul, _ = agents
    online(marie, paul)
    make_team(admin, factory, "Support", [marie, paul], strategy=strategy)
    messages = [
        NormalisedInbound(
            channel_id=ch["id"],
            provider_message_id=f"race-{n}",
            sender=Sender(kind="email", value=f"c{n}@example.fr"),
            text="Bonjour",
        )
        for n in range(20)  # as many as their capacity: 10 emails each
    ]

    with ThreadPoolExecutor(max_workers=8) as pool:  # separate sessions, at once
        results = list(pool.map(lambda m: receive_message(factory, m, settings), messages))

    given = [routed(factory, r.conversation_id)[1] for r in results]
    assert Counter(given) == {marie.user.id: 10, paul.user.id: 10}


def test_a_manual_team_gets_back_the_conversation_of_an_agent_gone_offline(
    admin, channel, factory, agents
):
    ch = channel("email")
    marie, paul, _ = agents
    online(marie, paul)
    team = make_team(admin, factory, "Support", [marie, paul], strategy="manual")
    conversation = receive(admin, ch["id"], "a@example.fr", name="Alice")["conversation_id"]
    assert routed(factory, conversation) == (team, None)  # manual: in the team's queue
    admin.patch(f"/api/v1/conversations/{conversation}", json={"assignee_id": marie.user.id})

    online(marie, presence="offline")

    assert routed(factory, conversation) == (team, None)
    (moved,) = events(factory, conversation, "conversation.rerouted")
    assert (moved.before, moved.after["why"]) == ({"assignee_id": marie.user.id}, "manual")
    assert texts_of(paul)[0] == (
        "La conversation avec Alice a été confiée à nouveau : son agent n’est plus disponible."
    )
