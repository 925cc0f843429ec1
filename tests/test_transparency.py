"""The public transparency page (issue 8, part 4): off by default and then indistinguishable
from an address that never existed; once an admin publishes it, per month and per channel the
conversations handled and the share answered within the promise, in French and English, as a
page, an embeddable page (the only one that may be framed) and JSON; no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from babel.dates import format_date

from filrouge.core.actions.sla import refresh_sla
from filrouge.core.models import SlaPolicy
from filrouge.db import transaction
from filrouge.lib.timeutil import utcnow
from helpers import inbound
from test_reports import Book

PERSONAL = ("Jeanne Dupont", "jeanne.dupont@example.test", "Marc Lefèvre", "colis 12345")
UNKNOWN = "A" * 24


def plain(text: str) -> str:
    """Babel's narrow and no-break spaces (« 75 % ») as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def last_month() -> datetime:
    """The 10th of last month, 09:00 UTC: a closed month, whatever today is."""
    first = utcnow().replace(day=1)
    return (first - timedelta(days=1)).replace(day=10, hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def published(admin: Any, channel: Any, factory: Any) -> dict[str, Any]:
    """Last month, Messenger (promise: 30 min, counted round the clock here): answered in 10,
    20 and 25 min (kept) and in 2 h (not): 3 of 4. E-mail (24 business hours): one message
    from Jeanne Dupont, never answered: 0 of 1."""
    messenger = channel("messenger", "Support Marseille interne")["id"]
    email = channel("email", "Boîte de Marc Lefèvre")["id"]
    start = last_month()
    book = Book(factory, admin.user.workspace_id, admin.user.id)
    ids = [
        book.conversation(
            messenger, "Marc Lefèvre", start, replies=[(minutes / 60, messenger, False, True)]
        )
        for minutes in (10, 20, 25, 120)
    ]
    sent = admin.post(
        "/api/v1/inbound",
        json=inbound(
            email,
            "jeanne.dupont@example.test",
            "Mon colis 12345 n'est pas arrivé",
            name="Jeanne Dupont",
            occurred_at=start.isoformat(),
        ),
    )
    assert sent.status_code == 201, sent.text
    ids.append(sent.json()["conversation_id"])
    with transaction(factory) as session:
        session.query(SlaPolicy).filter(SlaPolicy.name == "X and Messenger").update(
            {"business_hours": False}
        )
    with transaction(factory) as session:
        refresh_sla(session, ids, utcnow())
    turned_on = admin.request("PUT", "/api/v1/transparency", json={"enabled": True})
    assert turned_on.status_code == 200, turned_on.text
    return {"start": start, **turned_on.json()}


def test_it_is_off_by_default_and_then_looks_like_nothing_is_there(admin, client):
    assert admin.get("/api/v1/transparency").json() == {
        "enabled": False,
        "page_path": None,
        "json_path": None,
    }
    on = admin.request("PUT", "/api/v1/transparency", json={"enabled": True}).json()
    assert client.get(on["page_path"]).status_code == 200
    off = admin.request("PUT", "/api/v1/transparency", json={"enabled": False}).json()
    assert off["page_path"] == on["page_path"]  # the address is kept for the next time
    for known, unknown in (
        (on["page_path"], f"/transparency/{UNKNOWN}"),
        (on["json_path"], f"/api/v1/public/transparency/{UNKNOWN}"),
    ):
        hidden, missing = client.get(known), client.get(unknown)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text == missing.text
    assert client.get("/transparency/short").status_code == 404


def test_it_says_which_promise_was_kept_how_often_in_french_and_english(client, published):
    month = published["start"].date()
    in_french, in_english = (format_date(month, "LLLL yyyy", locale=x) for x in ("fr", "en"))
    french = plain(client.get(published["page_path"], params={"lang": "fr"}).text)
    assert (
        "Nous promettons une réponse sur Messenger en 30 minutes (comptées 24 h sur 24) : "
        f"promesse tenue pour 75 % des conversations en {in_french}."
    ) in french
    assert "en 24 heures (comptées en heures ouvrées) : promesse tenue pour 0 %" in french
    assert "Aucune donnée" in french  # this month, nothing yet
    english = plain(client.get(published["page_path"], params={"lang": "en"}).text)
    assert (
        "We promise an answer on Messenger within 30 minutes (counted round the clock): "
        f"promise kept for 75% of conversations in {in_english}."
    ) in english
    assert "No data" in english


def test_its_json_gives_the_same_figures(client, published):
    body = client.get(published["json_path"], params={"lang": "en"}).json()
    channels = {channel["kind"]: channel for channel in body["channels"]}
    assert channels["messenger"]["promise"] == {
        "first_response_seconds": 1800,
        "business_hours": False,
    }
    assert channels["email"]["promise"]["business_hours"] is True
    months = {m["month"]: m for m in channels["messenger"]["months"]}
    assert len(months) == 12
    last = months[published["start"].strftime("%Y-%m")]
    assert (last["closed"], last["conversations"], last["answered_within_promise"]) == (True, 4, 3)
    assert last["share"] == 0.75
    this_month = channels["messenger"]["months"][0]
    assert (this_month["closed"], this_month["conversations"], this_month["share"]) == (
        False,
        0,
        None,
    )
    assert channels["email"]["months"][1]["share"] == 0.0
    assert "75%" in plain(channels["messenger"]["sentence"])


def test_it_shows_no_personal_data_and_no_channel_name(client, published):
    for text in (
        client.get(published["page_path"]).text,
        client.get(published["page_path"], params={"embed": 1}).text,
        client.get(published["json_path"]).text,
    ):
        for personal in (*PERSONAL, "Support Marseille interne", "Boîte de"):
            assert personal not in text


def test_only_the_embeddable_variant_may_be_framed(client, published):
    page = client.get(published["page_path"])
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    embed = client.get(published["page_path"], params={"embed": 1})
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "script-src 'self'" in embed.headers["Content-Security-Policy"]  # strict otherwise
    assert "<nav" not in embed.text  # minimal chrome
    assert "<table" not in embed.text
    assert client.get("/login").headers["X-Frame-Options"] == "DENY"  # every other page


def test_it_can_be_cached_and_revalidated(client, published):
    first = client.get(published["json_path"])
    assert first.headers["Cache-Control"].startswith("public")
    again = client.get(published["json_path"], headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(published["page_path"]).headers["ETag"]


def test_bad_input_gets_clear_answers(client, published):
    assert client.get(published["page_path"], params={"lang": "de"}).status_code == 422
    assert client.get(published["json_path"], params={"embed": "yes please"}).status_code == 200
    assert client.get("/transparency/" + "é" * 20).status_code == 404


def test_admins_publish_it_from_the_admin_page_with_the_csrf_token(make_browser, client):
    admin = make_browser("admin", email="admin.page@example.test")
    page = admin.client.get("/admin/transparency")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text
    assert "transparency-link" not in page.text  # off by default
    forged = admin.client.post("/admin/transparency", data={"csrf_token": "x", "enabled": "true"})
    assert forged.status_code == 403
    saved = admin.client.post(
        "/admin/transparency", data={"csrf_token": admin.csrf_token, "enabled": "true"}
    )
    assert saved.status_code == 303
    shown = admin.client.get("/admin/transparency").text
    assert 'id="transparency-link"' in shown
    path = shown.split('id="transparency-link" href="')[1].split('"')[0]
    assert client.get(path).status_code == 200
    assert "?embed=1" in shown


def test_it_reads_settled_months_once(published, factory):
    from filrouge.core.models import Workspace
    from filrouge.core.transparency import ClosedMonths, transparency_report

    cache = ClosedMonths()
    now = datetime.now(UTC) + timedelta(days=40)  # last month is settled by then
    with transaction(factory) as session:
        workspace = session.query(Workspace).one()
        first = transparency_report(session, workspace, now, cache)
        assert len(cache.months) >= 1
        second = transparency_report(session, workspace, now, cache)
    assert first == second
