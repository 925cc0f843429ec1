"""The supervisors' dashboard in a real browser (Debian's Chromium, Playwright) against a real
`filrouge serve`: the charts are drawn under the Content-Security-Policy, the channel table
has its rows, and a figure leads to the conversations behind it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from live_server import PASSWORD, environment, install, running
from test_browser import CHROMIUM, CHROMIUM_ARGS

SCREENSHOTS = os.environ.get("FILROUGE_SCREENSHOTS")
# Pixels of a canvas that are not transparent: a chart that drew something.
PAINTED = """(id) => {
  const canvas = document.getElementById(id);
  const { width, height } = canvas;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
  return { width, height, painted, chart: Chart.getChart(canvas) !== undefined };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("dashboard")
    env = environment(tmp)
    supervisor = ("--email", "sam@example.fr", "--role", "supervisor", "--name", "Sam Chef")
    agent = ("--email", "lea@example.fr", "--role", "agent", "--name", "Léa Martin")
    token = install(env, supervisor, agent)
    with running(env, tmp, ["serve"]) as bases:
        yield {"base": bases[0], **_seed(bases[0], token)}


def _seed(base: str, token: str) -> dict[str, Any]:
    """Three customers on the shop's form (one answered), one on the reviews: this month."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:
        form = api.post("/api/v1/channels", json={"kind": "api", "name": "Formulaire"}).json()
        reviews = api.post("/api/v1/channels", json={"kind": "api", "name": "Avis"}).json()
        ids = {}
        for name, channel in (
            ("Jeanne Martin", form),
            ("Paul Durand", form),
            ("Inès Petit", form),
            ("Marc Leroy", reviews),
        ):
            sender = {"kind": "external", "value": name.lower().replace(" ", "."), "name": name}
            sent = api.post(
                "/api/v1/inbound",
                json={"channel_id": channel["id"], "sender": sender, "text": "Ma commande ?"},
            )
            assert sent.status_code in (200, 201), sent.text
            ids[name] = sent.json()["conversation_id"]
        reply = api.post(
            f"/api/v1/conversations/{ids['Jeanne Martin']}/replies",
            json={"text": "Elle part demain."},
        )
        assert reply.status_code in (200, 201, 202), reply.text
    return {"form": form["id"], "reviews": reviews["id"], "conversations": ids}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def signed_in(browser: Browser, server: dict[str, Any], email: str) -> Page:
    context = browser.new_context(
        base_url=server["base"], locale="fr-FR", viewport={"width": 1280, "height": 1400}
    )
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{server['base']}/inbox")
    return page


def test_it_draws_the_dashboard_and_leads_to_the_conversations_behind_a_figure(browser, server):
    page = signed_in(browser, server, "sam@example.fr")
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.get_by_role("link", name="Tableau de bord").click()
    expect(page).to_have_url(f"{server['base']}/reports")
    figures = page.get_by_role("list", name="Chiffres clés")
    expect(figures.locator('[data-metric="conversations"] .value')).to_have_text("4")
    expect(figures.locator('[data-metric="response_rate"] .value')).to_have_text("25,0\u00a0%")
    expect(figures.locator('[data-metric="csat"] .value')).to_have_text("Aucune donnée")

    rows = page.locator("#channel-table tbody tr[data-channel]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("th")).to_contain_text("Formulaire")
    expect(rows.nth(1).locator("th")).to_contain_text("Avis")
    expect(rows.nth(0).locator("td").first).to_have_text("3")

    for metric in ("conversations", "response_rate", "first_response_median_s"):
        canvas = page.locator(f"#chart-{metric}")
        expect(canvas).to_be_visible()
        drawn = page.evaluate(PAINTED, f"chart-{metric}")
        assert drawn["chart"], metric
        assert drawn["width"] > 0, drawn
        assert drawn["height"] > 0, drawn
        assert drawn["painted"] > 100, (metric, drawn)  # axes, labels and the figures
    assert refused == []
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "dashboard.png"), full_page=True)
    page.emulate_media(media="print")  # the printed page: figures, table, charts; no controls
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("#channel-table")).to_be_visible()
    expect(page.locator("#chart-conversations")).to_be_visible()
    page.emulate_media(media="screen")

    figures.locator('[data-metric="response_rate"] a.value').click()
    expect(page).to_have_url(
        f"{server['base']}/reports/conversations?interval=day&figure=unanswered"
    )
    expect(page.get_by_role("heading", name="Conversations sans réponse")).to_be_visible()
    listed = page.locator("#rows tbody tr.row")
    expect(listed).to_have_count(3)
    for name in ("Paul Durand", "Inès Petit", "Marc Leroy"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("link", name="Jeanne Martin")).to_have_count(0)


def test_it_keeps_an_agent_out_of_the_dashboard(browser, server):
    page = signed_in(browser, server, "lea@example.fr")
    expect(page.get_by_role("link", name="Tableau de bord")).to_have_count(0)
    response = page.goto("/reports")
    assert response is not None
    assert response.status == 403
