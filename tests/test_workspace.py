"""The agent workspace, as a browser sees it (server side): sign-in, CSRF, inbox, thread."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from fake_provider import fake_provider
from filrouge.core.models import Message, WebSession
from filrouge.lib.timeutil import utcnow
from helpers import receive


def test_it_sends_a_visitor_without_a_session_to_the_sign_in_page(app):
    client = TestClient(app, follow_redirects=False)
    response = client.get("/conversations/3?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fconversations%2F3%3Fx%3D1"


def test_it_signs_in_with_a_secure_http_only_cookie_and_returns_where_asked(app, make_caller):
    agent = make_caller("agent")
    client = TestClient(app, follow_redirects=False)
    response = client.post(
        "/login",
        data={"email": agent.user.email, "password": "correct horse battery", "next": "/admin"},
    )
    assert (response.status_code, response.headers["location"]) == (303, "/admin")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    evil = client.post(
        "/login",
        data={
            "email": agent.user.email,
            "password": "correct horse battery",
            "next": "//evil.test",
        },
    )
    assert evil.headers["location"] == "/inbox"


def test_it_refuses_a_wrong_password_then_slows_down_guessing(app, make_caller):
    agent = make_caller("agent")
    client = TestClient(app, follow_redirects=False)
    for _ in range(5):
        wrong = client.post("/login", data={"email": agent.user.email, "password": "nope"})
        assert wrong.status_code == 401
        assert "Adresse e-mail inconnue ou mot de passe faux." in wrong.text
    right = client.post(
        "/login", data={"email": agent.user.email, "password": "correct horse battery"}
    )
    assert right.status_code == 429
    assert "Trop de connexions échouées. Réessayez dans 15 minutes." in right.text


def test_it_refuses_a_change_without_the_sessions_csrf_token(make_browser, admin, channel, factory):
    browser = make_browser("agent")
    ch = channel("phone")
    c = receive(admin, ch["id"], "+33612345678", kind="phone")["conversation_id"]
    forged = browser.client.post(
        f"/conversations/{c}/note", data={"csrf_token": "forged", "text": "hello"}
    )
    missing = browser.client.post(f"/conversations/{c}/note", data={"text": "hello"})
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert "Ce formulaire a expiré" in forged.text
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_it_ends_an_expired_session(make_browser, factory):
    browser = make_browser("agent")
    with factory() as session, session.begin():
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert browser.get("/inbox").status_code == 303


def test_it_signs_out_and_a_password_change_ends_the_other_sessions(make_browser, app):
    browser = make_browser("agent")
    other = TestClient(app, follow_redirects=False)
    other.post("/login", data={"email": browser.user.email, "password": "correct horse battery"})
    changed = browser.post(
        "/password", {"current": "correct horse battery", "new": "a brand new passphrase"}
    )
    assert "Votre mot de passe a été changé" in changed.text
    assert other.get("/inbox").status_code == 303
    assert browser.get("/inbox").status_code == 200
    assert browser.post("/logout").status_code == 303
    assert browser.get("/inbox").status_code == 303


def test_it_keeps_agents_out_of_the_admin_pages(make_browser):
    assert make_browser("agent").get("/admin").status_code == 403
    assert make_browser("admin", email="boss@example.test").get("/admin").status_code == 200


def test_it_lists_conversations_with_their_channels_and_badges(make_browser, admin, channel):
    x, whatsapp = channel("x", "X @maison"), channel("whatsapp", "WhatsApp")
    receive(
        admin,
        x["id"],
        "+33612345678",
        kind="whatsapp",
        verified=True,
        name="Jeanne",
        visibility="public",
        text="Colis jamais arrivé !",
    )
    receive(
        admin,
        whatsapp["id"],
        "+33612345678",
        kind="whatsapp",
        verified=True,
        hours=1,
        text="Je vous écris ici",
    )
    receive(
        admin,
        x["id"],
        "@paul",
        kind="x",
        name="Paul",
        visibility="public",
        hours=2,
        text="Bravo pour la livraison",
    )
    browser = make_browser("agent")
    page = browser.get("/inbox").text
    assert "Jeanne" in page
    assert "Paul" in page
    assert "Je vous écris ici" in page
    marks = (
        '<span class="ch ch-x">X</span></span><span title="WhatsApp"><span class="ch ch-whatsapp">'
    )
    assert marks in page  # both channels Jeanne's thread went through
    public = browser.get("/inbox?view=public").text
    assert "Paul" in public
    assert "Jeanne" not in public
    found = browser.get("/inbox?q=livraison").text
    assert "Paul" in found
    assert "Jeanne" not in found


def test_it_shows_the_whole_thread_and_the_channel_switch(make_browser, admin, channel):
    x, whatsapp = channel("x", "X @maison"), channel("whatsapp", "WhatsApp")
    first = receive(
        admin,
        x["id"],
        "+33612345678",
        kind="whatsapp",
        verified=True,
        name="Jeanne",
        visibility="public",
        text="Colis jamais arrivé !",
    )
    receive(
        admin,
        whatsapp["id"],
        "+33612345678",
        kind="whatsapp",
        verified=True,
        hours=1,
        text="Je vous écris ici",
    )
    page = make_browser("agent").get(f"/conversations/{first['conversation_id']}").text
    assert page.index("Colis jamais arrivé") < page.index("Passé de X @maison à WhatsApp")
    assert page.index("Passé de X @maison à WhatsApp") < page.index("Je vous écris ici")
    assert "+33612345678" in page  # the identity in the 360 panel


def test_it_shows_script_tags_as_text(make_browser, admin, channel):
    ch = channel("chat")
    c = receive(
        admin,
        ch["id"],
        "v-1",
        kind="chat_visitor",
        name="<script>alert('name')</script>",
        subject="<img src=x onerror=alert(1)>",
        text="<script>alert('text')</script>",
    )
    browser = make_browser("agent")
    for url in ("/inbox", f"/conversations/{c['conversation_id']}"):
        page = browser.get(url)
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_it_replies_on_the_channel_the_agent_picks(make_browser, admin, channel, factory):
    sms, phone = channel("sms", "SMS"), channel("phone", "Téléphone")
    c = receive(admin, sms["id"], "+33612345678", kind="phone", name="Jeanne")["conversation_id"]
    browser = make_browser("agent", name="Léa Martin")
    page = browser.get(f"/conversations/{c}").text
    assert f'<option value="{phone["id"]}" data-kind="phone"' in page
    assert f'<option value="{sms["id"]}" data-kind="sms"' in page
    response = browser.post(
        f"/conversations/{c}/reply",
        {"text": "Rappel fait, c'est réglé.", "channel_id": phone["id"]},
    )
    assert response.status_code == 303
    with factory() as session:
        reply = session.scalars(select(Message).where(Message.direction == "outbound")).one()
    assert (reply.channel_id, reply.status, reply.author_id) == (
        phone["id"],
        "sent",
        browser.user.id,
    )


def test_it_changes_status_and_assigns_from_the_page(make_browser, admin, channel):
    ch = channel("phone")
    c = receive(admin, ch["id"], "+33612345678", kind="phone")["conversation_id"]
    browser = make_browser("agent")
    browser.post(f"/conversations/{c}/update", {"assignee": "me"})
    browser.post(f"/conversations/{c}/update", {"status": "resolved", "tags": "rappel, vip"})
    detail = admin.get(f"/api/v1/conversations/{c}").json()
    assert (detail["assignee_id"], detail["status"], detail["tags"]) == (
        browser.user.id,
        "resolved",
        ["rappel", "vip"],
    )
    assert "Jeanne" not in browser.get("/inbox?view=unassigned").text


def test_it_answers_in_the_agents_language(make_browser, factory):
    browser = make_browser("agent")
    from filrouge.core.models import User

    with factory() as session, session.begin():
        session.execute(update(User).where(User.id == browser.user.id).values(locale="en"))
    page = browser.get("/inbox").text
    assert "Keyboard shortcuts" in page
    assert "Raccourcis clavier" not in page


def test_it_speaks_the_language_and_time_zone_the_agent_chose(make_browser):
    browser = make_browser("agent")
    saved = browser.post("/preferences", {"locale": "en", "timezone": "America/Montreal"})
    assert saved.status_code == 303
    page = browser.get("/password").text
    assert "Change your password" in page
    assert '<option value="America/Montreal" selected>' in page
    assert page.count('action="/preferences"') == 1
    assert "<title>Password · Filrouge</title>" in page
    refused = browser.post("/preferences", {"locale": "de", "timezone": "Mars/Olympus"})
    assert refused.status_code == 422


def contributor_on(make_browser, factory, expertise: list[str], trusted: bool = False):
    from filrouge.core.models import User

    browser = make_browser("contributor", email="vendeur@example.test", name="Hugo Vendeur")
    with factory() as session, session.begin():
        session.execute(
            update(User)
            .where(User.id == browser.user.id)
            .values(expertise=expertise, trusted=trusted)
        )
    return browser


def test_it_holds_a_contributors_reply_until_a_supervisor_approves_it(
    make_browser, admin, channel, factory
):
    with fake_provider() as provider:
        ch = channel("api", "Boutique en ligne", outbound_url=provider.url)
        c = receive(admin, ch["id"], "a@example.fr", text="Quel sommier ?")
        cid = c["conversation_id"]
        admin.patch(f"/api/v1/conversations/{cid}", json={"tags": ["literie"]})
        contributor = contributor_on(make_browser, factory, ["literie"])
        reply = contributor.post(f"/conversations/{cid}/reply", {"text": "Le sommier 160."})
        assert reply.status_code == 303
        assert "en attente de validation" in contributor.get(f"/conversations/{cid}").text
        assert provider.received == []
        assert admin.get(f"/api/v1/conversations/{cid}").json()["first_response_at"] is None
        assert contributor.get("/approvals").status_code == 403
        supervisor = make_browser("supervisor", email="chef@example.test")
        queue = supervisor.get("/approvals").text
        assert "Le sommier 160." in queue
        assert "Hugo Vendeur" in queue
        with factory() as session:
            waiting = session.scalars(select(Message).where(Message.direction == "outbound")).one()
        assert supervisor.post(f"/approvals/{waiting.id}/approve").status_code == 303
        assert provider.received[0].json()["text"] == "Le sommier 160.\nHugo"
    detail = admin.get(f"/api/v1/conversations/{cid}").json()
    sent = detail["messages"][-1]
    assert (sent["status"], sent["signed_by_id"]) == ("sent", contributor.user.id)
    assert detail["first_response_at"] is not None
    assert supervisor.post(f"/approvals/{waiting.id}/approve").status_code == 409


def test_it_never_sends_a_rejected_reply(make_browser, admin, channel, factory):
    ch = channel("phone")
    cid = receive(admin, ch["id"], "+33612345678", kind="phone")["conversation_id"]
    admin.patch(f"/api/v1/conversations/{cid}", json={"tags": ["literie"]})
    contributor = contributor_on(make_browser, factory, ["literie"])
    contributor.post(f"/conversations/{cid}/reply", {"text": "Promo -50 % !"})
    with factory() as session:
        reply = session.scalars(select(Message).where(Message.direction == "outbound")).one()
    make_browser("supervisor", email="chef@example.test").post(f"/approvals/{reply.id}/reject")
    assert admin.get(f"/api/v1/conversations/{cid}").json()["messages"][-1]["status"] == (
        "rejected"
    )


def test_it_lets_a_trusted_contributor_answer_directly(make_browser, admin, channel, factory):
    ch = channel("phone")
    cid = receive(admin, ch["id"], "+33612345678", kind="phone")["conversation_id"]
    admin.patch(f"/api/v1/conversations/{cid}", json={"tags": ["literie"]})
    contributor = contributor_on(make_browser, factory, ["literie"], trusted=True)
    contributor.post(f"/conversations/{cid}/reply", {"text": "Oui, en stock."})
    assert admin.get(f"/api/v1/conversations/{cid}").json()["messages"][-1]["status"] == "sent"


def test_it_fills_canned_responses_for_the_customer_and_the_agent(make_browser, admin, channel):
    ch = channel("phone")
    cid = receive(admin, ch["id"], "+33612345678", kind="phone", name="Jeanne Martin")[
        "conversation_id"
    ]
    supervisor = make_browser("supervisor", email="chef@example.test")
    body = "Bonjour {{ customer.first_name }}, c'est {{ agent.first_name }}."
    assert supervisor.post("/canned", {"title": "Accueil", "body": body}).status_code == 303
    sneaky = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    supervisor.post("/canned", {"title": "Piège", "body": sneaky})
    broken = supervisor.post("/canned", {"title": "Cassée", "body": "{{ customer.first_name "})
    assert broken.status_code == 422
    agent = make_browser("agent", name="Léa Martin")
    page = agent.get(f"/conversations/{cid}").text
    assert 'data-text="Bonjour Jeanne, c&#39;est Léa.">Accueil</option>' in page
    assert "subclasses" in page  # the unsafe one is offered as written, never run
    assert "&lt;class" not in page
    assert agent.get("/canned").status_code == 403
    assert agent.post("/canned", {"title": "x", "body": "y"}).status_code == 403
