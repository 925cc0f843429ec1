"""The admin pages: channels, people (invitations, roles, deactivation), teams, signatures."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from filrouge.core.models import ChannelAccount, Conversation, Event, Invitation, Team, User
from filrouge.lib.secrets import token_digest
from helpers import receive

SECRET = re.compile(r'class="copy" value="([^"]+)"')


def shown_secret(response: Any) -> str:
    match = SECRET.search(response.text)
    assert match, response.text
    return match.group(1)


def count(factory: Any, model: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_it_creates_a_channel_and_shows_its_inbound_token_once(make_browser, factory):
    admin = make_browser("admin", email="web.admin@example.test")
    created = admin.post(
        "/admin/channels", {"kind": "chat", "name": "Chat du site", "settings": '{"color": "red"}'}
    )
    assert created.status_code == 200
    token = shown_secret(created)
    with factory() as session:
        channel = session.scalars(select(ChannelAccount)).one()
        assert (channel.kind, channel.name, channel.settings) == (
            "chat",
            "Chat du site",
            {"color": "red"},
        )
        assert channel.inbound_token_digest == token_digest(token)
    assert token not in admin.get("/admin").text  # shown once, never again


def test_it_refuses_settings_that_are_not_json_and_creates_nothing(make_browser, factory):
    admin = make_browser("admin", email="web.admin@example.test")
    refused = admin.post("/admin/channels", {"kind": "chat", "name": "Chat", "settings": "{oops"})
    assert refused.status_code == 422
    assert "JSON" in refused.text
    assert count(factory, ChannelAccount) == 0


def test_it_keeps_masked_secrets_when_channel_settings_are_saved(make_browser, channel, factory):
    admin = make_browser("admin", email="web.admin@example.test")
    made = channel("api", "Partenaire", outbound_url="http://127.0.0.1:9/x", hmac_secret="s3cr3t")
    page = admin.get("/admin").text
    assert "s3cr3t" not in page
    assert "********" in page
    saved = admin.post(
        f"/admin/channels/{made['id']}",
        {
            "name": "Partenaire B",
            "active": "true",
            "settings": '{"outbound_url": "http://127.0.0.1:9/y", "hmac_secret": "********"}',
        },
    )
    assert saved.status_code == 303
    with factory() as session:
        stored = session.get_one(ChannelAccount, made["id"])
        assert stored.name == "Partenaire B"
        assert stored.settings == {"outbound_url": "http://127.0.0.1:9/y", "hmac_secret": "s3cr3t"}
        logged = session.scalars(select(Event).where(Event.action == "channel.updated")).one()
        assert "s3cr3t" not in str(logged.before) + str(logged.after)


def test_it_signs_replies_in_the_style_chosen_for_the_channel(make_browser, channel, admin):
    browser = make_browser("admin", email="signer@example.test", name="Léa Martin")
    chat = channel("api", "Chat")
    receive(admin, chat["id"], "client@example.test", verified=True)
    conversation_id = admin.get("/api/v1/conversations").json()["items"][0]["id"]

    def reply_text(style: str) -> str:
        saved = browser.post(
            f"/admin/channels/{chat['id']}", {"name": "Chat", "active": "true", "style": style}
        )
        assert saved.status_code == 303
        browser.post(f"/conversations/{conversation_id}/reply", {"text": "Merci !"})
        messages = admin.get(f"/api/v1/conversations/{conversation_id}").json()["messages"]
        return str(messages[-1]["text"])

    browser.post(
        "/preferences",
        {"locale": "fr", "timezone": "Europe/Paris", "signature": "Léa Martin\nService client"},
    )
    assert reply_text("full").endswith("-- \nLéa Martin\nService client")
    assert reply_text("first_name").endswith("Merci !\nLéa")
    assert reply_text("none") == "Merci !"
    refused = browser.post(
        f"/admin/channels/{chat['id']}", {"name": "Chat", "active": "true", "style": "haiku"}
    )
    assert refused.status_code == 422


def test_it_invites_someone_who_then_chooses_a_password_and_signs_in(make_browser, app, factory):
    from fastapi.testclient import TestClient

    admin = make_browser("admin", email="web.admin@example.test")
    invited = admin.post(
        "/admin/people", {"email": "Nora@Example.test", "name": "Nora Petit", "role": "agent"}
    )
    assert invited.status_code == 200
    link = shown_secret(invited)
    assert "/invite/" in link
    path = link[link.index("/invite/") :]
    newcomer = TestClient(app, follow_redirects=False)
    assert "nora@example.test" in newcomer.get(path).text
    too_short = newcomer.post(path, data={"password": "short"})
    assert too_short.status_code == 422
    chosen = newcomer.post(path, data={"password": "a long enough secret"})
    assert chosen.status_code == 303
    signed_in = newcomer.post(
        "/login", data={"email": "nora@example.test", "password": "a long enough secret"}
    )
    assert signed_in.status_code == 303
    assert newcomer.get("/inbox").status_code == 200
    reused = newcomer.post(path, data={"password": "another long secret"})
    assert reused.status_code == 404
    assert "expired" in reused.text or "expiré" in reused.text


def test_it_cancels_the_earlier_link_when_a_new_one_is_issued(make_browser, make_caller, app):
    from fastapi.testclient import TestClient

    admin = make_browser("admin", email="web.admin@example.test")
    forgetful = make_caller("agent", email="oubli@example.test")
    first = shown_secret(admin.post(f"/admin/people/{forgetful.user.id}/link"))
    second = shown_secret(admin.post(f"/admin/people/{forgetful.user.id}/link"))
    visitor = TestClient(app, follow_redirects=False)
    assert (
        visitor.post(first[first.index("/invite/") :], data={"password": "x" * 12}).status_code
        == 404
    )
    assert (
        visitor.post(second[second.index("/invite/") :], data={"password": "y" * 12}).status_code
        == 303
    )


def test_it_deactivates_a_colleague_everywhere_and_frees_their_conversations(
    make_browser, make_caller, channel, admin, factory
):
    browser = make_browser("admin", email="boss@example.test")
    leaver = make_browser("agent", email="leaver@example.test", name="Paul Départ")
    api = channel("api", "Chat")
    receive(admin, api["id"], "c@example.test")
    conversation_id = admin.get("/api/v1/conversations").json()["items"][0]["id"]
    admin.patch(f"/api/v1/conversations/{conversation_id}", json={"assignee_id": leaver.user.id})
    saved = browser.post(
        f"/admin/people/{leaver.user.id}", {"name": "Paul Départ", "role": "agent"}
    )  # "active" unchecked
    assert saved.status_code == 303
    assert leaver.get("/inbox").status_code == 303  # signed out
    with factory() as session:
        assert session.get_one(User, leaver.user.id).active is False
        assert session.get_one(Conversation, conversation_id).assignee_id is None
    assert "Paul Départ" in browser.get("/admin/people").text


def test_it_sets_the_expertise_and_trust_of_a_contributor(make_browser, factory):
    admin = make_browser("admin", email="web.admin@example.test")
    expert = make_browser("contributor", email="vendeur@example.test", name="Yann Vendeur")
    saved = admin.post(
        f"/admin/people/{expert.user.id}",
        {
            "name": "Yann Vendeur",
            "role": "contributor",
            "expertise": " Cuisine, LIVRAISON ,cuisine",
            "trusted": "true",
            "active": "true",
        },
    )
    assert saved.status_code == 303
    with factory() as session:
        stored = session.get_one(User, expert.user.id)
        assert (stored.expertise, stored.trusted) == (["cuisine", "livraison"], True)


def test_it_refuses_that_an_admin_removes_their_own_rights(make_browser, factory):
    admin = make_browser("admin", name="Seule Admin")
    refused = admin.post(f"/admin/people/{admin.user.id}", {"name": "Seule Admin", "role": "agent"})
    assert refused.status_code == 403
    assert "administrat" in refused.text
    with factory() as session:
        assert session.get_one(User, admin.user.id).role == "admin"


def test_it_makes_teams_and_sets_their_members(make_browser, make_caller, factory):
    admin = make_browser("admin", email="web.admin@example.test")
    agent = make_caller("agent", email="a1@example.test")
    assert admin.post("/admin/teams", {"name": "Magasins"}).status_code == 303
    assert admin.post("/admin/teams", {"name": " magasins "}).status_code == 409
    with factory() as session:
        team_id = session.scalars(select(Team.id)).one()
    saved = admin.client.post(
        f"/admin/teams/{team_id}",
        data={"csrf_token": admin.csrf_token, "name": "Magasins Paris", "members": [agent.user.id]},
    )
    assert saved.status_code == 303
    with factory() as session:
        team = session.get_one(Team, team_id)
        assert (team.name, [u.id for u in team.members]) == ("Magasins Paris", [agent.user.id])


def test_it_refuses_an_admin_form_without_the_sessions_csrf_token(make_browser, factory):
    admin = make_browser("admin", email="web.admin@example.test")
    forged = admin.client.post("/admin/teams", data={"csrf_token": "forged", "name": "Pirates"})
    assert forged.status_code == 403
    assert count(factory, Team) == 0
    assert count(factory, Invitation) == 0


def test_it_refuses_opening_hours_a_channel_could_not_read(make_browser, channel, factory):
    admin = make_browser("admin", email="web.admin@example.test")
    chat = channel("chat", "Chat", hours={"mon": [["09:00", "18:00"]]})
    refused = admin.post(
        f"/admin/channels/{chat['id']}",
        {"name": "Chat", "active": "true", "settings": '{"hours": {"lundi": [["9h", "18h"]]}}'},
    )
    assert refused.status_code == 422
    assert "09:00" in refused.text
    bad_zone = admin.post(
        "/admin/channels",
        {"kind": "callback", "name": "Rappel", "settings": '{"timezone": "Mars/Olympus"}'},
    )
    assert bad_zone.status_code == 422
    with factory() as session:
        stored = session.get_one(ChannelAccount, chat["id"])
        assert stored.settings["hours"] == {"mon": [["09:00", "18:00"]]}
        assert session.scalar(select(func.count()).select_from(ChannelAccount)) == 1


def test_it_gives_the_snippets_that_put_a_form_and_a_callback_button_on_a_site(
    make_browser, channel
):
    form, callback = channel("web_form", "Contact"), channel("callback", "Rappel")
    page = make_browser("admin", email="root@example.test").get("/admin").text
    assert f'value=\'<iframe src="http://testserver/forms/{form["id"]}"' in page
    assert f'value=\'<a href="http://testserver/callback/{callback["id"]}"' in page
