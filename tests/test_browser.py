"""The workspace in a real browser: Debian's Chromium driven by Playwright, against a real
`filrouge serve` on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from live_server import PASSWORD, environment, install, running

CHROMIUM = os.environ.get("FILROUGE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("FILROUGE_SCREENSHOTS")  # a folder: save the README's pictures
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("browser")
    env = environment(tmp)
    token = install(
        env,
        ("--email", "lea@example.fr", "--role", "agent", "--name", "Léa Martin"),
        (
            "--email",
            "hugo@example.fr",
            "--role",
            "contributor",
            "--name",
            "Hugo Vendeur",
            "--expertise",
            "livraison",
        ),
    )
    with running(env, tmp, ["serve"]) as bases:
        yield {"base": bases[0], "token": token, **_seed(bases[0], token)}


def _seed(base: str, token: str) -> dict[str, Any]:
    """A customer who moved from a public post on X to WhatsApp, and a hostile visitor."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:
        x = api.post("/api/v1/channels", json={"kind": "x", "name": "X @maison"}).json()
        whatsapp = api.post("/api/v1/channels", json={"kind": "whatsapp", "name": "WhatsApp"})
        phone = api.post("/api/v1/channels", json={"kind": "phone", "name": "Téléphone"}).json()
        sender = {
            "kind": "whatsapp",
            "value": "+33612345678",
            "name": "Jeanne Martin",
            "verified": True,
        }
        api.post(
            "/api/v1/inbound",
            json={
                "channel_id": x["id"],
                "sender": sender,
                "visibility": "public",
                "text": "@maison mon colis n'est jamais arrivé",
            },
        )
        jeanne = api.post(
            "/api/v1/inbound",
            json={
                "channel_id": whatsapp.json()["id"],
                "sender": sender,
                "text": "Je vous écris ici, commande ML-2026-104233",
            },
        ).json()
        hostile = api.post(
            "/api/v1/inbound",
            json={
                "channel_id": x["id"],
                "visibility": "public",
                "sender": {"kind": "x", "value": "@troll", "name": "<img src=x onerror=alert(1)>"},
                "text": "<script>alert('pwned')</script> public post",
            },
        ).json()
        reviews = api.post("/api/v1/channels", json={"kind": "api", "name": "Avis en ligne"})
        review = api.post(
            "/api/v1/inbound",
            json={
                "channel_id": reviews.json()["id"],
                "visibility": "public",
                "sender": {"kind": "external", "value": "review-77", "name": "Avis 77"},
                "text": "Article abîmé à la réception, une étoile.",
            },
        ).json()
        api.patch(
            f"/api/v1/conversations/{jeanne['conversation_id']}", json={"tags": ["livraison"]}
        )
    return {
        "jeanne": jeanne["conversation_id"],
        "hostile": hostile["conversation_id"],
        "review": review["conversation_id"],
        "phone": phone["id"],
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def signed_in(browser: Browser, server: dict[str, Any], email: str, **context: Any) -> Page:
    page = browser.new_context(base_url=server["base"], locale="fr-FR", **context).new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto("/inbox")
    expect(page).to_have_url(f"{server['base']}/login?next=%2Finbox")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{server['base']}/inbox")
    return page


def test_it_signs_in_and_keeps_an_agent_out_of_the_admin_pages(browser, server):
    page = signed_in(browser, server, "lea@example.fr")
    expect(page.get_by_role("link", name="Jeanne Martin")).to_be_visible()
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    response = page.goto("/admin")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("ne permet pas")


def test_it_follows_the_customer_across_channels_and_replies_on_another(browser, server):
    page = signed_in(browser, server, "lea@example.fr")
    page.get_by_role("link", name="Jeanne Martin").click()
    expect(page.locator(".switch")).to_contain_text("Passé de X @maison à WhatsApp")
    messages = page.locator(".message .text")
    expect(messages.first).to_contain_text("mon colis n'est jamais arrivé")
    expect(messages.nth(1)).to_contain_text("ML-2026-104233")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "conversation.png"), full_page=True)
    page.get_by_label("Répondre sur").select_option(str(server["phone"]))
    page.locator("#reply-text").fill("Appel passé : le colis repart demain.")
    page.get_by_role("button", name="Envoyer").click()
    last = page.locator(".message.outbound").last
    expect(last).to_contain_text("Appel passé : le colis repart demain.")
    expect(last).to_contain_text("Téléphone")
    expect(last.locator(".delivery")).to_have_text("envoyé")


def test_it_shows_hostile_markup_as_text_without_running_it(browser, server):
    page = signed_in(browser, server, "lea@example.fr")
    expect(page.get_by_text("<img src=x onerror=alert(1)>")).to_be_visible()
    page.goto(f"/conversations/{server['hostile']}")
    expect(page.locator(".message .text").first).to_have_text(
        "<script>alert('pwned')</script> public post"
    )
    assert page.evaluate("document.querySelectorAll('main script, main img').length") == 0


def test_it_warns_before_personal_data_goes_out_in_public(browser, server):
    page = signed_in(browser, server, "lea@example.fr")
    page.goto(f"/conversations/{server['review']}")
    warning = page.locator("#public-warning")
    page.locator("#reply-text").fill("Écrivez-nous à service@maison.example")
    expect(warning).to_be_visible()
    page.locator("#reply-text").fill("Nous vous écrivons en privé.")
    expect(warning).to_be_hidden()


def test_it_moves_through_the_inbox_with_the_keyboard(browser, server):
    page = signed_in(browser, server, "lea@example.fr")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "inbox.png"), full_page=True)
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    selected = page.locator("tr.row.selected")
    expect(selected).to_have_count(1)
    expect(selected).to_have_attribute(
        "data-id", page.locator("tr.row").nth(1).get_attribute("data-id") or ""
    )
    target = selected.get_attribute("data-href")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server['base']}{target}")
    page.keyboard.press("r")
    expect(page.locator("#reply-text")).to_be_focused()


def test_it_stays_usable_on_a_phone(browser, server):
    page = signed_in(browser, server, "lea@example.fr", viewport={"width": 390, "height": 844})
    expect(page.get_by_role("link", name="Jeanne Martin")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("link", name="Jeanne Martin").click()
    expect(page.locator("#reply-text")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_it_shows_a_new_message_without_a_reload(browser, server):
    page = signed_in(browser, server, "lea@example.fr")
    page.goto(f"/conversations/{server['jeanne']}")
    expect(page.locator(".message")).not_to_have_count(0)
    page.evaluate("window.filrougeMarker = 'same page'")
    headers = {"Authorization": f"Bearer {server['token']}"}
    with httpx.Client(base_url=server["base"], headers=headers) as api:
        channel = api.get("/api/v1/channels").json()["items"][1]  # WhatsApp
        api.post(
            "/api/v1/inbound",
            json={
                "channel_id": channel["id"],
                "text": "Toujours rien reçu ce matin",
                "sender": {"kind": "whatsapp", "value": "+33612345678", "verified": True},
            },
        )
    expect(page.locator(".message .text").last).to_have_text("Toujours rien reçu ce matin")
    assert page.evaluate("window.filrougeMarker") == "same page"  # no reload happened


def test_it_holds_a_contributors_reply_for_approval(browser, server):
    page = signed_in(browser, server, "hugo@example.fr")
    expect(page.get_by_role("link", name="Jeanne Martin")).to_be_visible()
    expect(page.get_by_role("link", name="Avis 77")).to_have_count(0)  # not about "livraison"
    page.get_by_role("link", name="Jeanne Martin").click()
    page.get_by_label("Répondre sur").select_option(str(server["phone"]))
    page.locator("#reply-text").fill("Le transporteur passe demain matin.")
    page.get_by_role("button", name="Envoyer").click()
    last = page.locator(".message.outbound").last
    expect(last.locator(".delivery")).to_have_text("en attente de validation")
    boss = signed_in(browser, server, "admin@example.fr")
    boss.get_by_role("link", name="Validations").click()
    expect(boss.locator(".approval")).to_contain_text("Le transporteur passe demain matin.")
    boss.get_by_role("button", name="Valider et envoyer").click()
    expect(boss.get_by_text("Rien n'attend.")).to_be_visible()
    page.reload()
    expect(page.locator(".message.outbound").last.locator(".delivery")).to_have_text("envoyé")


def test_it_shows_who_else_is_on_the_conversation(browser, server):
    lea = signed_in(browser, server, "lea@example.fr")
    boss = signed_in(browser, server, "admin@example.fr")
    lea.goto(f"/conversations/{server['review']}")
    boss.goto(f"/conversations/{server['review']}")
    expect(lea.locator("#collision")).to_have_text(
        "Camille Admin a aussi cette conversation ouverte"
    )
    boss.locator("#reply-text").fill("Bonjour")
    expect(lea.locator("#collision")).to_have_text("Camille Admin est en train de répondre")
    expect(boss.locator("#collision")).to_have_text("Léa Martin a aussi cette conversation ouverte")


def test_it_inserts_a_canned_response_filled_for_the_customer(browser, server):
    boss = signed_in(browser, server, "admin@example.fr")
    boss.get_by_role("link", name="Réponses types").click()
    boss.get_by_label("Titre").fill("Excuses livraison")
    boss.locator("textarea[name=body]").fill(
        "Bonjour {{ customer.first_name }}, toutes nos excuses pour ce retard."
    )
    boss.get_by_role("button", name="Ajouter").click()
    expect(boss.get_by_text("Excuses livraison")).to_be_visible()
    page = signed_in(browser, server, "lea@example.fr")
    page.goto(f"/conversations/{server['jeanne']}")
    page.keyboard.press("c")
    expect(page.locator("#canned")).to_be_focused()
    page.locator("#canned").select_option(label="Excuses livraison")
    expect(page.locator("#reply-text")).to_have_value(
        "Bonjour Jeanne, toutes nos excuses pour ce retard."
    )


def test_it_sends_a_photo_from_the_composer_and_shows_it_in_the_thread(browser, server):
    import base64

    pixel = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    page = signed_in(browser, server, "lea@example.fr")
    page.goto(f"/conversations/{server['jeanne']}")
    page.get_by_label("Répondre sur").select_option(str(server["phone"]))
    page.locator("#reply-text").fill("Voici la photo du colis.")
    page.locator("#reply-files").set_input_files(
        files=[{"name": "colis.png", "mimeType": "image/png", "buffer": pixel}]
    )
    page.get_by_role("button", name="Envoyer").click()
    last = page.locator(".message.outbound").last
    expect(last).to_contain_text("Voici la photo du colis.")
    photo = last.locator("img.attachment")
    expect(photo).to_have_attribute("alt", "colis.png")
    loaded = "img => img.complete && img.naturalWidth === 1"  # loaded, not broken
    page.wait_for_function(loaded, arg=photo.element_handle(), timeout=15_000)


def test_it_lets_an_admin_invite_a_colleague_who_then_signs_in(browser, server):
    admin = signed_in(browser, server, "admin@example.fr")
    admin.get_by_role("link", name="Administration").click()
    admin.get_by_role("link", name="Personnes").click()
    invitation = admin.locator("form[action='/admin/people']")
    invitation.get_by_label("E-mail").fill("nora@example.fr")
    invitation.get_by_label("Nom").fill("Nora Petit")
    invitation.get_by_role("button", name="Inviter").click()
    link = admin.locator(".secret input.copy").input_value()
    assert "/invite/" in link
    newcomer = browser.new_context(base_url=server["base"], locale="fr-FR").new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_text("nora@example.fr")).to_be_visible()
    newcomer.get_by_label("Nouveau mot de passe").fill("un mot de passe assez long")
    newcomer.get_by_role("button", name="Enregistrer et se connecter").click()
    newcomer.get_by_label("Mot de passe").fill("un mot de passe assez long")
    newcomer.get_by_role("button", name="Se connecter").click()
    expect(newcomer).to_have_url(f"{server['base']}/inbox")
    expect(newcomer.locator(".who")).to_contain_text("Nora Petit")


def _png(width: int = 40, height: int = 30) -> bytes:
    """A real (red) PNG, so that a browser can draw it."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xd0\x20\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", header), chunk(b"IDAT", zlib.compress(rows)))
    ) + chunk(b"IEND", b"")


def test_it_lets_a_visitor_chat_live_with_an_agent_and_send_a_photo(browser, server):
    headers = {"Authorization": f"Bearer {server['token']}"}
    chat = httpx.post(
        f"{server['base']}/api/v1/channels",
        json={"kind": "chat", "name": "Chat du site"},
        headers=headers,
    ).json()
    agent = signed_in(browser, server, "lea@example.fr")  # an agent is there: the chat is live
    visitor = browser.new_context(base_url=server["base"], locale="fr-FR").new_page()
    visitor.goto(f"/widget/{chat['id']}/demo")
    visitor.locator(".launcher").click()
    visitor.locator(".composer textarea").fill("Bonjour, mon colis est arrivé abîmé")
    visitor.locator(".composer textarea").press("Enter")
    expect(visitor.locator(".log li.visitor")).to_have_count(1)
    expect(visitor.locator(".log li.pending")).to_have_count(0)  # the server has it

    listed = httpx.get(
        f"{server['base']}/api/v1/conversations", params={"channel_id": chat["id"]}, headers=headers
    ).json()["items"]
    agent.goto(f"/conversations/{listed[0]['id']}")
    expect(agent.locator(".message .text").last).to_have_text("Bonjour, mon colis est arrivé abîmé")
    agent.locator("#reply-text").fill("Désolée ! Pouvez-vous m'envoyer une photo ?")
    expect(visitor.locator(".typing")).to_contain_text("Léa")  # the agent is typing
    agent.get_by_role("button", name="Envoyer").click()
    expect(visitor.locator(".log li.agent")).to_contain_text("Pouvez-vous m'envoyer une photo ?")
    expect(visitor.locator(".log li.agent .author")).to_have_text("Léa")
    expect(agent.locator(".message.outbound").last).to_contain_text("envoyer une photo")
    # The visitor types (the widget says so every few seconds while they type).
    visitor.locator(".composer textarea").press_sequentially("Voici la photo", delay=400)
    expect(agent.locator("#collision")).to_be_visible()

    visitor.locator(".attach input[type=file]").set_input_files(
        {"name": "colis.png", "mimeType": "image/png", "buffer": _png()}
    )
    expect(visitor.locator(".log li.visitor img")).to_have_count(1)
    photo = agent.locator(".message.inbound img.attachment")
    expect(photo).to_be_visible()
    agent.wait_for_function(
        "() => { const i = document.querySelector('.message.inbound img.attachment');"
        " return i && i.complete && i.naturalWidth === 40; }"
    )

    visitor.locator(".close").click()  # a reply to a closed widget shows as a badge
    agent.locator("#reply-text").fill("Merci, nous vous renvoyons un colis.")
    agent.get_by_role("button", name="Envoyer").click()
    expect(visitor.locator(".launcher .badge")).to_have_text("1")
    visitor.locator(".launcher").click()
    expect(visitor.locator(".log li.agent").last).to_contain_text("nous vous renvoyons")
    expect(visitor.locator(".launcher .badge")).to_be_hidden()
