"""The service-level indicators (docs/METRICS.md, "Service levels") checked against figures
counted by hand: targets worked out by the SLA job itself (core/actions/sla.py) over a small
fixed set, with a wait that fell over a weekend and one over a night (business hours: the
default calendar, Monday to Friday 09:00–18:00 Paris, French holidays), the backlog at the
end of the period and of each week, and a period with no data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from filrouge.core.actions.sla import refresh_sla
from filrouge.core.models import Conversation, SlaOutcome
from filrouge.db import transaction
from test_reports import NOVEMBER, Book, at

HOUR = 3600.0
WORKED_OUT_AT = datetime(2026, 12, 31, 12, tzinfo=UTC)  # every target is decided by then


@pytest.fixture
def sla_book(admin: Any, channel: Any, factory: Any) -> dict[str, Any]:
    """Times are UTC; Paris is UTC+1 in November, UTC+2 on 20 October. Default policies:
    e-mail 24 business hours to answer, Messenger 30 business minutes; both 45 business hours
    (5 days of 9 h) to resolve."""
    e = channel("email", "E-mail")["id"]
    m = channel("messenger", "Messenger")["id"]
    b = Book(factory, admin.user.workspace_id, admin.user.id)
    ids = {
        # E0, Tue 20 Oct 11:00 Paris: answered in 1 h, never resolved (October: not in the
        # November cohort, but still open at the end of November: in the backlog)
        "E0": b.conversation(e, "Zoé Octobre", at(20, month=10), replies=[(1, e, False, True)]),
        # E1, Mon 2 Nov 10:00 Paris: answered in 1 h (met), resolved in 2 h (met)
        "E1": b.conversation(
            e, "Alice Martin", at(2), replies=[(1, e, False, True)], resolved_after=2
        ),
        # E3, Tue 3 Nov 10:00 Paris: never answered; due Thu 5 Nov 16:00 Paris (8 + 9 + 7
        # business hours): breached; resolution breached too
        "E3": b.conversation(e, "Bruno Petit", at(3)),
        # spam, Thu 5 Nov: never answered, excluded from everything
        "spam": b.conversation(e, "Spam Co", at(5), tags=("spam",)),
        # M1, Wed 4 Nov 11:00 Paris: answered in 20 min (met), resolved in 1 h (met)
        "M1": b.conversation(
            m, "Chloé Durand", at(4, 10), replies=[(20 / 60, m, True, True)], resolved_after=1
        ),
        # M2, Thu 5 Nov 21:00 Paris (a night): answered Fri 09:20 Paris — 12 h 20 min by the
        # clock (44,400 s), 20 business minutes (1,200 s): met; resolved Fri 10:00 Paris (met)
        "M2": b.conversation(
            m, "David Leroy", at(5, 20), replies=[(37 / 3, m, False, True)], resolved_after=13
        ),
        # E2, Fri 6 Nov 17:00 Paris (a weekend): answered Mon 9 Nov 10:00 Paris — 65 h by the
        # clock (234,000 s), 2 business hours (Fri 17–18, Mon 9–10: 7,200 s): met; not
        # resolved, resolution due Mon 16 Nov 17:00 Paris (Wed 11 Nov is a holiday): breached
        "E2": b.conversation(e, "Eve Moreau", at(6, 16), replies=[(65, e, False, True)]),
        # M3, Mon 9 Nov 11:00 Paris: answered in 1 h, due in 30 min: breached; resolved (met)
        "M3": b.conversation(
            m, "Farid Benali", at(9, 10), replies=[(1, m, False, True)], resolved_after=2
        ),
        # M4, Sat 28 Nov 11:00 Paris: never answered, due Mon 30 Nov 09:30 Paris: breached
        "M4": b.conversation(m, "Gina Rossi", at(28, 10)),
    }
    with transaction(factory) as session:
        refresh_sla(session, list(ids.values()), WORKED_OUT_AT)
    with transaction(factory) as session:  # a next response the job recorded on E1, late
        session.add(
            SlaOutcome(
                workspace_id=admin.user.workspace_id,
                conversation_id=ids["E1"],
                target="next_response",
                started_at=at(2, 10) + timedelta(minutes=30),
                met_at=at(2, 18),
                breached=True,
                elapsed_seconds=7.5 * HOUR,
                business_seconds=6.5 * HOUR,
                channel_kind="email",
                priority="normal",
            )
        )
    return {"email": e, "messenger": m, **ids}


def by_channel(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row["channel_id"]: row for row in report["channels"]}


def test_the_job_stores_business_seconds_of_a_wait_over_a_weekend(sla_book, factory):
    with transaction(factory) as session:
        outcome = session.scalars(
            select(SlaOutcome).where(
                SlaOutcome.conversation_id == sla_book["E2"],
                SlaOutcome.target == "first_response",
            )
        ).one()
        assert (outcome.elapsed_seconds, outcome.business_seconds) == (234_000, 7_200)
        assert outcome.breached is False


def test_service_levels_per_channel_and_in_total_match_the_hand_count(admin, sla_book):
    report = admin.get("/api/v1/reports/channels", params=NOVEMBER).json()
    email, messenger = (
        by_channel(report)[sla_book["email"]],
        by_channel(report)[sla_book["messenger"]],
    )

    # e-mail, November: E1 (first response met, resolution met, next response breached), E2
    # (met, breached), E3 (breached, breached): 3 kept of 7
    assert (email["sla_targets"], email["sla_breaches"]) == (7, 4)
    assert email["sla_compliance"] == 0.4286
    assert email["sla_first_response_compliance"] == 0.6667  # E1, E2 of 3
    assert email["sla_next_response_compliance"] == 0.0  # E1's, late
    assert email["sla_resolution_compliance"] == 0.3333  # E1 of 3
    assert (email["responded_within_sla"], email["response_rate_within_sla"]) == (2, 0.6667)
    # by the clock 1 h and 65 h; in business hours 1 h and 2 h (the weekend left out)
    assert (email["first_response_median_s"], email["first_response_p90_s"]) == (HOUR, 234_000)
    assert email["first_response_business_median_s"] == HOUR
    assert email["first_response_business_p90_s"] == 2 * HOUR
    # open at Mon 1 Dec 00:00 Paris (30 Nov 23:00 UTC): E2 (24 d 7 h), E3 (27 d 14 h) and E0
    # from October (41 d 14 h); the spam is not counted
    assert email["backlog"] == 3
    assert email["backlog_age_median_s"] == 27 * 86400 + 14 * HOUR
    assert email["backlog_age_p90_s"] == 41 * 86400 + 14 * HOUR

    # Messenger: first responses M1, M2 met, M3 (late), M4 (none) breached; resolutions M1,
    # M2, M3 met, M4 breached: 5 kept of 8
    assert (messenger["sla_targets"], messenger["sla_breaches"]) == (8, 3)
    assert messenger["sla_compliance"] == 0.625
    assert messenger["sla_first_response_compliance"] == 0.5
    assert messenger["sla_next_response_compliance"] is None  # none: no data, not 0
    assert messenger["sla_resolution_compliance"] == 0.75
    assert messenger["response_rate_within_sla"] == 0.5
    # by the clock 20 min, 12 h 20 min, 1 h → median 1 h; in business hours 20 min, 20 min
    # (the night left out), 1 h → median 20 min
    assert messenger["first_response_median_s"] == HOUR
    assert messenger["first_response_business_median_s"] == 1200
    assert messenger["first_response_business_p90_s"] == HOUR
    assert (messenger["backlog"], messenger["backlog_age_median_s"]) == (1, 2 * 86400 + 13 * HOUR)

    total = report["total"]
    assert (total["sla_targets"], total["sla_breaches"], total["sla_compliance"]) == (15, 7, 0.5333)
    assert total["sla_first_response_compliance"] == 0.5714  # 4 of 7
    assert total["response_rate_within_sla"] == 0.5714
    # 20 min, 20 min, 1 h, 1 h, 2 h: median the 3rd, p90 the 5th
    assert (total["first_response_business_median_s"], total["first_response_business_p90_s"]) == (
        HOUR,
        2 * HOUR,
    )
    assert total["backlog"] == 4  # ages 2 d 13 h, 24 d 7 h, 27 d 14 h, 41 d 14 h
    assert total["backlog_age_median_s"] == 24 * 86400 + 7 * HOUR
    assert total["backlog_age_p90_s"] == 41 * 86400 + 14 * HOUR


def test_service_levels_over_time_and_the_backlog_at_the_end_of_each_week(admin, sla_book):
    def weekly(metric: str, **more: Any) -> list[Any]:
        response = admin.get(
            "/api/v1/reports/timeseries",
            params={**NOVEMBER, "metric": metric, "interval": "week", **more},
        )
        assert response.status_code == 200, response.text
        return [point["value"] for point in response.json()["points"]]

    # weeks from Mon 26 Oct (only 1 Nov in the period), 2, 9, 16, 23, 30 Nov
    # week of 2 Nov: E1 (3 targets, 2 kept), E3 (0 of 2), M1 and M2 (2 of 2 each), E2 (1 of 2)
    assert weekly("sla_compliance") == [None, 0.6364, 0.5, None, 0.0, None]
    assert weekly("response_rate_within_sla") == [None, 0.8, 0.0, None, 0.0, None]
    # open at the end of each week: E0 alone; then E0, E2, E3 (E1, M1, M2, M3 resolved within
    # their week); M4 joins on 28 Nov
    assert weekly("backlog") == [1, 3, 3, 3, 4, 4]
    assert weekly("backlog", channel_id=sla_book["messenger"]) == [0, 0, 0, 0, 1, 1]
    # their median age at the end of each week: E0 alone (12 d 14 h); then E2 (2 d 7 h), E3
    # (5 d 14 h), E0 (19 d 14 h); then E2 (9 d 7 h), E3 (12 d 14 h), E0 (26 d 14 h)
    ages = weekly("backlog_age_median_s")
    assert ages[:3] == [12 * 86400 + 14 * HOUR, 5 * 86400 + 14 * HOUR, 12 * 86400 + 14 * HOUR]


def test_a_period_without_data_says_so_rather_than_zero(admin, sla_book):
    empty = admin.get(
        "/api/v1/reports/channels", params={"since": "2025-01-01", "until": "2025-01-31"}
    ).json()["total"]
    assert empty["sla_compliance"] is None
    assert empty["sla_first_response_compliance"] is None
    assert empty["response_rate_within_sla"] is None
    assert empty["first_response_business_median_s"] is None
    assert (empty["sla_targets"], empty["backlog"]) == (0, 0)  # counts are counts
    assert empty["backlog_age_median_s"] is None


def test_a_conversation_resolved_after_the_end_of_the_period_was_open_at_its_end(
    admin, sla_book, factory
):
    with transaction(factory) as session:  # E2 resolved on 3 December
        row = session.get_one(Conversation, sla_book["E2"])
        row.status, row.resolved_at = "resolved", datetime(2026, 12, 3, 9, tzinfo=UTC)
    total = admin.get("/api/v1/reports/channels", params=NOVEMBER).json()["total"]
    assert total["backlog"] == 4
    december = admin.get(
        "/api/v1/reports/channels", params={"since": "2026-12-01", "until": "2026-12-31"}
    ).json()["total"]
    assert december["backlog"] == 3  # E0, E3, M4
