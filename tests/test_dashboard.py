"""The supervisors' dashboard (/reports): the figures of a small set counted by hand (the one
of test_reports.py), their trend, the filters, the conversations behind a figure, and the
same figures as CSV, XLSX and PDF."""

from __future__ import annotations

import csv
import io
import json
import re
import zlib
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from filrouge.core.indicators.dashboard import conversations_behind, previous_period
from filrouge.core.indicators.period import ReportFilters, report_period
from filrouge.core.indicators.printed import latin_1
from filrouge.core.models import Conversation, User
from filrouge.core.queries import ConversationFilters, list_conversations
from filrouge.db import transaction
from test_reports import NOVEMBER, Book, at

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"


@pytest.fixture
def data(admin: Any, channel: Any, factory: Any) -> dict[str, Any]:
    """November: e-mail C1 (A, answered in 1 h, resolved), C2 (A, answered twice, resolved),
    C3 (B, not answered), a spam; Messenger C (answered in 30 min, resolved, reopened) and D
    (answered by e-mail). October: one e-mail conversation answered in an hour."""
    email, messenger = channel("email", "E-mail"), channel("messenger", "Messenger")
    e, m = email["id"], messenger["id"]
    b = Book(factory, admin.user.workspace_id, admin.user.id)
    c1 = b.conversation(e, "A", at(2), replies=[(1, e, False, True)], resolved_after=2)
    c2 = b.conversation(
        e, "A", at(3), replies=[(3, e, False, True), (5, e, False, True)], resolved_after=24
    )
    c3 = b.conversation(e, "B", at(4))
    b.conversation(e, "Spam", at(5), tags=("spam",))
    october = b.conversation(e, "Octobre", at(20, month=10), replies=[(1, e, False, True)])
    c = b.conversation(
        m, "C", at(10), replies=[(0.5, m, True, True)], resolved_after=1, reopened=True
    )
    d = b.conversation(m, "D", at(11), replies=[(2, e, False, True)], switched_to=e)
    b.survey(c1, e, at(2, 15), csat=5, nps=10, solved=True)
    b.survey(c2, e, at(4, 15), csat=2, nps=3, solved=False)
    found = {"email": e, "messenger": m, "c1": c1, "c2": c2, "c3": c3, "c": c, "d": d}
    return {**found, "october": october}


@pytest.fixture
def supervisor(make_browser: Any) -> Any:
    return make_browser("supervisor", name="Sacha Superviseur")


def headline(page: str, metric: str) -> str:
    found = re.search(
        rf'data-metric="{metric}">\s*<span class="label">[^<]*</span>\s*'
        r"<(?:a|span) class=\"value[^\"]*\"[^>]*>([^<]*)</(?:a|span)>\s*"
        r'<span class="trend[^"]*">([^<]*)</span>',
        page,
    )
    assert found, page
    return f"{found.group(1)} | {found.group(2)}"


def channel_row(page: str, channel_id: int) -> list[str]:
    row = re.search(rf'<tr data-channel="{channel_id}">(.*?)</tr>', page, re.S)
    assert row, page
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    ]


def test_it_shows_a_supervisor_the_figures_their_trend_and_each_channel(supervisor, data):
    page = supervisor.get("/reports", params=NOVEMBER)
    assert page.status_code == 200, page.text
    text = page.text
    # 5 conversations against 1 in the 30 days before; 4 answered of 5, against 1 of 1
    assert headline(text, "conversations") == "5 | +400" + NBSP + "%"
    assert headline(text, "response_rate") == f"80,0{NBSP}% | -20,0 pts"
    assert headline(text, "first_response_median_s") == "1 h 00 min | +0" + NBSP + "%"
    # resolved: C1 in one reply, C2 in two, C reopened → 1 of 3; none resolved before
    assert headline(text, "fcr_rate") == f"33,3{NBSP}% | pas de comparaison"
    assert headline(text, "csat") == f"50,0{NBSP}% | pas de comparaison"
    assert headline(text, "sla_compliance") == "Aucune donnée | pas de comparaison"
    # volume, response rate, median first response, FCR, CSAT, SLA, public replies, signed
    assert channel_row(text, data["email"]) == [
        "3",
        f"66,7{NBSP}%",
        "1 h 00 min",
        f"50,0{NBSP}%",
        f"50,0{NBSP}%",
        "Aucune donnée",
        "0",
        f"100,0{NBSP}%",
    ]
    assert channel_row(text, data["messenger"])[:4] == [
        "2",
        f"100,0{NBSP}%",
        "30 min",
        f"0,0{NBSP}%",
    ]
    assert channel_row(text, data["messenger"])[4] == "Aucune donnée"  # no survey: not 0 %
    assert '<a href="/reports">Tableau de bord</a>' in text  # in the navigation
    # waiting now, whatever the period: C3, D and October's (the spam is not counted)
    assert headline(text, "backlog_now") == "3 | le plus ancien depuis le 20 octobre 2026"


def test_it_draws_its_charts_from_data_embedded_as_json_not_as_code(supervisor, data):
    page = supervisor.get("/reports", params={**NOVEMBER, "interval": "week"}).text
    assert '<script src="/static/vendor/chart-4.6.1.umd.min.js" defer></script>' in page
    embedded = re.search(
        r'<script type="application/json" id="dashboard-data">(.*?)</script>', page
    )
    assert embedded
    chart = json.loads(embedded.group(1))
    assert chart["locale"] == "fr"
    assert chart["labels"][0] == "semaine du 26 oct."  # Monday before 1 November
    volume = {s["metric"]: s["values"] for s in chart["series"]}["conversations"]
    # 1 November 2026 is a Sunday: C1 C2 C3 the week after, then C and D
    assert volume == [0, 3, 2, 0, 0, 0]
    assert supervisor.get("/static/vendor/chart-4.6.1.umd.min.js").status_code == 200
    assert "script-src 'self'" in supervisor.get("/reports").headers["content-security-policy"]


def test_it_names_a_hostile_channel_as_text(supervisor, channel, admin, factory):
    hostile = channel("api", "</script><script>alert(1)</script>")
    Book(factory, admin.user.workspace_id, admin.user.id).conversation(hostile["id"], "X", at(2))
    page = supervisor.get("/reports", params=NOVEMBER).text
    assert "<script>alert(1)" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in page


@pytest.mark.parametrize("role", ["agent", "contributor"])
def test_it_keeps_agents_and_contributors_out(make_browser, role):
    browser = make_browser(role)
    for path in (
        "/reports",
        "/reports/conversations",
        "/reports/channels.csv",
        "/reports/dashboard.xlsx",
        "/reports/dashboard.pdf",
    ):
        assert browser.get(path).status_code == 403, path
    assert 'href="/reports"' not in browser.get("/inbox").text


def test_it_applies_the_filters(supervisor, data, factory, admin):
    messenger = supervisor.get("/reports", params={**NOVEMBER, "channel_id": data["messenger"]})
    assert headline(messenger.text, "conversations").startswith("2 |")
    assert f'data-channel="{data["email"]}"' not in messenger.text
    with transaction(factory) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id.in_([data["c1"], data["c"]]))
            .values(priority="urgent", assignee_id=admin.user.id)
        )
    urgent = supervisor.get("/reports", params={**NOVEMBER, "priority": "urgent"}).text
    assert headline(urgent, "conversations").startswith("2 |")
    mine = supervisor.get("/reports", params={**NOVEMBER, "agent_id": admin.user.id}).text
    assert headline(mine, "response_rate").startswith(f"100,0{NBSP}% |")
    # empty choices in the form are no filter, not an error
    blank = {
        **NOVEMBER,
        "channel_id": "",
        "team_id": "",
        "agent_id": "",
        "priority": "",
        "segment": "",
    }
    assert headline(supervisor.get("/reports", params=blank).text, "conversations").startswith(
        "5 |"
    )


def test_a_filter_that_matches_nothing_or_an_empty_period_says_no_data(supervisor, data):
    for params in ({**NOVEMBER, "team_id": 999}, {"since": "2020-01-01", "until": "2020-01-31"}):
        page = supervisor.get("/reports", params=params)
        assert page.status_code == 200
        assert headline(page.text, "conversations") == "0 | pas de comparaison"
        assert headline(page.text, "response_rate") == "Aucune donnée | pas de comparaison"
        assert "Aucune donnée pour cette période." in page.text
        for path in ("/reports/channels.csv", "/reports/dashboard.xlsx", "/reports/dashboard.pdf"):
            assert supervisor.get(path, params=params).status_code == 200


def test_a_reversed_or_unreadable_period_is_said_not_crashed_on(supervisor):
    reversed_ = supervisor.get("/reports", params={"since": "2026-11-30", "until": "2026-11-01"})
    assert reversed_.status_code == 422
    assert "La période finit avant de commencer." in reversed_.text
    assert supervisor.get("/reports", params={"since": "demain"}).status_code == 422
    assert supervisor.get("/reports", params={"interval": "year"}).status_code == 422


def test_it_speaks_english_to_an_english_reader(make_browser, data, factory):
    reader = make_browser("supervisor", email="en@example.test")
    with transaction(factory) as session:
        session.execute(update(User).where(User.id == reader.user.id).values(locale="en"))
    page = reader.get("/reports", params=NOVEMBER).text
    assert headline(page, "response_rate") == "80.0% | -20.0 pts"
    assert headline(page, "sla_compliance") == "No data | no comparison"
    assert "Channels compared" in page


def test_it_lists_the_conversations_behind_a_figure(supervisor, data):
    page = supervisor.get("/reports", params=NOVEMBER).text
    link = re.search(r'data-metric="response_rate">.*?<a class="value" href="([^"]+)"', page, re.S)
    assert link
    unanswered = supervisor.get(link.group(1).replace("&amp;", "&"))
    assert unanswered.status_code == 200
    assert listed(unanswered.text) == [data["c3"]]  # B's; the spam is not counted
    messenger = supervisor.get(
        "/reports/conversations", params={**NOVEMBER, "channel_id": data["messenger"]}
    )
    assert sorted(listed(messenger.text)) == sorted([data["c"], data["d"]])
    resolved = supervisor.get("/reports/conversations", params={**NOVEMBER, "figure": "resolved"})
    assert sorted(listed(resolved.text)) == sorted([data["c1"], data["c2"], data["c"]])
    waiting = supervisor.get("/reports/conversations", params={**NOVEMBER, "figure": "backlog"})
    assert sorted(listed(waiting.text)) == sorted([data["c3"], data["d"], data["october"]])


def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="row[^"]*" data-id="(\d+)"', page)]


def test_the_list_filter_takes_a_report_cohort(admin, data, factory):
    """core/queries: ConversationFilters.cohort narrows the list to a figure's conversations."""
    zone = PARIS
    since, until = report_period(date(2026, 11, 1), date(2026, 11, 30), zone, date(2026, 12, 1))
    filters = ReportFilters(since, until, zone, channel_id=data["email"])
    with transaction(factory) as session:
        user = session.get_one(User, admin.user.id)
        answered = conversations_behind(admin.user.workspace_id, filters, "answered")
        page = list_conversations(session, user, ConversationFilters(cohort=answered), 50)
        assert sorted(c.id for c in page.items) == sorted([data["c1"], data["c2"]])


def test_the_previous_period_has_as_many_local_days_across_a_change_of_clocks():
    # 26 Oct – 1 Nov 2026 (7 days, after the change of 25 Oct) against 19–25 Oct (the change)
    since, until = report_period(date(2026, 10, 26), date(2026, 11, 1), PARIS, date(2026, 12, 1))
    before = previous_period(ReportFilters(since, until, PARIS))
    assert before.since == datetime(2026, 10, 18, 22, tzinfo=UTC)  # local midnight, summer
    assert before.until == since == datetime(2026, 10, 25, 23, tzinfo=UTC)


def test_it_exports_the_channel_table_and_the_series_as_csv(
    supervisor, data, channel, admin, factory
):
    formula = channel("api", '=HYPERLINK("http://127.0.0.1/","clic")')
    Book(factory, admin.user.workspace_id, admin.user.id).conversation(formula["id"], "Z", at(6))
    response = supervisor.get("/reports/channels.csv", params=NOVEMBER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="channels-2026-11-01-2026-11-30.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:4] == ["Canal", "Type", "Conversations", "Taux de réponse"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["E-mail"][2:5] == ["3", "0.6667", "3600.0"]
    assert by_name["Messenger"][6] == ""  # CSAT: no data is an empty cell, not 0
    assert by_name['\'=HYPERLINK("http://127.0.0.1/","clic")'][2] == "1"  # not a formula
    assert rows[-1][:3] == ["Tous les canaux", "", "6"]
    series = supervisor.get("/reports/timeseries.csv", params={**NOVEMBER, "interval": "week"})
    lines = list(csv.reader(io.StringIO(series.text)))
    assert [line[:2] for line in lines[1:3]] == [["2026-10-26", "0"], ["2026-11-02", "4"]]
    assert len(lines) == 1 + 6


def test_it_exports_a_workbook_whose_cells_hold_the_figures(
    supervisor, data, channel, admin, factory
):
    formula = channel("api", "=1+1")
    Book(factory, admin.user.workspace_id, admin.user.id).conversation(formula["id"], "Z", at(6))
    response = supervisor.get("/reports/dashboard.xlsx", params={**NOVEMBER, "interval": "week"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Canaux", "Dans le temps"]
    channels = book["Canaux"]
    assert channels["A1"].value == "Canal"
    assert [channels.cell(2, col).value for col in (1, 3, 4, 5)] == ["E-mail", 3, 0.6667, 3600.0]
    assert channels["D2"].number_format == "0.0%"
    assert channels["G3"].value is None  # Messenger's CSAT: no data
    assert channels["A4"].value == "=1+1"
    assert channels["A4"].data_type == "s"
    over_time = book["Dans le temps"]
    assert over_time["A2"].value.date() == date(2026, 10, 26)
    assert [over_time.cell(row, 2).value for row in range(2, 8)] == [0, 4, 2, 0, 0, 0]


def test_it_prints_a_pdf_report_with_the_figures(supervisor, data):
    response = supervisor.get("/reports/dashboard.pdf", params=NOVEMBER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    text = pdf_text(response.content)
    for expected in (
        "Rapport du service client",
        "E-mail",
        "Messenger",
        "Tous les canaux",
        "Taux de réponse",
        "80,0",
        "66,7",
        "1 h 00 min",
        "Aucune donnée",
    ):
        assert expected in text, expected


def test_the_pdf_brings_text_to_its_fonts_latin_1():
    assert latin_1("Boutique œuvre d’art : 12 345 € ✓") == ("Boutique oeuvre d'art : 12 345 EUR ?")


def pdf_text(pdf: bytes) -> str:
    """The text the pages draw: each content stream inflated, the strings of Tj operators."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    shown = []
    for stream in streams:
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue
        shown += re.findall(rb"\((.*?)\)\s*Tj", content, re.S)
    return " ".join(s.decode("latin-1").replace("\\(", "(").replace("\\)", ")") for s in shown)
