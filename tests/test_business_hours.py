"""Business hours: open time between two moments and due dates counted in open time, across
nights, weekends, public holidays (by region), a day's own hours and changes of daylight saving
time; calendars that cannot be used are refused when they are saved, with the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from filrouge.core.hours import WEEKDAYS, BadHours, check_holidays, check_hours, read_hours

PARIS = ZoneInfo("Europe/Paris")
OFFICE = {day: [["09:00", "12:30"], ["14:00", "18:00"]] for day in ("mon", "tue", "wed", "thu")}
OFFICE["fri"] = [["09:00", "17:00"]]
HOUR = 3600


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_open_time_skips_lunch_nights_and_the_weekend():
    hours = read_hours(OFFICE, "Europe/Paris", "FR")
    # Friday 16:00 → Monday 10:00: one hour on Friday, one on Monday.
    assert hours.open_seconds(paris(2026, 11, 27, 16), paris(2026, 11, 30, 10)) == 2 * HOUR
    # Tuesday 12:00 → 15:00: half an hour before lunch, one after.
    assert hours.open_seconds(paris(2026, 12, 1, 12), paris(2026, 12, 1, 15)) == 1.5 * HOUR
    assert hours.open_seconds(paris(2026, 12, 1, 15), paris(2026, 12, 1, 12)) == 0


def test_a_due_date_in_business_hours_waits_for_the_team_to_open():
    hours = read_hours(OFFICE, "Europe/Paris", "FR")
    # A message on Friday at 22:00 with 2 business hours to answer: due Monday at 11:00.
    due = hours.after_open_time(paris(2026, 11, 27, 22), 2 * HOUR)
    assert due == paris(2026, 11, 30, 11)
    # 24 business hours from Monday 9:00, 7.5 h a day: 22.5 h by Wednesday night, so Thursday
    # at 10:30.
    due = hours.after_open_time(paris(2026, 11, 30, 9), 24 * HOUR)
    assert due == paris(2026, 12, 3, 10, 30)
    assert hours.open_seconds(paris(2026, 11, 30, 9), due) == 24 * HOUR


def test_public_holidays_are_closed_and_a_region_has_its_own():
    national = read_hours(OFFICE, "Europe/Paris", "FR")
    moselle = read_hours(OFFICE, "Europe/Paris", "FR", holidays_subdiv="57")
    # Christmas Day 2026 is a Friday: closed everywhere in France.
    assert national.open_seconds(paris(2026, 12, 25, 0), paris(2026, 12, 26, 0)) == 0
    # Good Friday (3 April 2026) is a holiday in Moselle, not in Paris.
    good_friday = (paris(2026, 4, 3, 0), paris(2026, 4, 4, 0))
    assert national.open_seconds(*good_friday) == 8 * HOUR
    assert moselle.open_seconds(*good_friday) == 0
    # A message on Christmas Eve after closing waits for Monday 28 December.
    assert national.after_open_time(paris(2026, 12, 24, 19), HOUR) == paris(2026, 12, 28, 10)


def test_a_day_with_its_own_hours_overrides_the_week_and_the_holiday():
    hours = read_hours(
        OFFICE,
        "Europe/Paris",
        "FR",
        exceptions={"2026-12-24": [["09:00", "12:00"]], "2026-12-25": [["10:00", "12:00"]]},
    )
    assert hours.open_seconds(paris(2026, 12, 24, 0), paris(2026, 12, 25, 0)) == 3 * HOUR
    assert hours.open_seconds(paris(2026, 12, 25, 0), paris(2026, 12, 26, 0)) == 2 * HOUR
    closed = read_hours(OFFICE, "Europe/Paris", "", exceptions={"2026-12-01": []})
    assert closed.open_seconds(paris(2026, 12, 1, 0), paris(2026, 12, 2, 0)) == 0


def test_daylight_saving_changes_are_counted_as_they_happened():
    always = read_hours({day: [["00:00", "24:00"]] for day in WEEKDAYS}, "Europe/Paris", "")
    # The night the clocks go forward (29 March 2026) is 23 hours long, going back 25.
    assert always.open_seconds(paris(2026, 3, 29, 0), paris(2026, 3, 30, 0)) == 23 * HOUR
    assert always.open_seconds(paris(2026, 10, 25, 0), paris(2026, 10, 26, 0)) == 25 * HOUR
    # 09:00 opening stays 09:00 local time on both sides of the change.
    hours = read_hours(OFFICE, "Europe/Paris", "")
    assert hours.after_open_time(paris(2026, 3, 27, 16, 30), HOUR) == paris(2026, 3, 30, 9, 30)
    assert hours.after_open_time(paris(2026, 3, 30, 8), 0).astimezone(UTC).hour == 7  # UTC+2


def test_a_team_open_around_the_clock_counts_calendar_time():
    hours = read_hours("24/7", "Europe/Paris", "FR")
    start = datetime(2026, 12, 24, 22, tzinfo=UTC)
    assert hours.is_open(start)
    assert hours.after_open_time(start, 30 * 60) == start + timedelta(minutes=30)
    assert hours.open_seconds(start, start + timedelta(days=2)) == 48 * HOUR


def test_a_calendar_with_no_time_within_reach_has_no_due_date():
    never = read_hours({}, "Europe/Paris", "")
    assert never.after_open_time(paris(2026, 12, 1, 9), HOUR) is None


@pytest.mark.parametrize(
    ("hours", "country", "subdiv", "reason"),
    [
        ({"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}, "FR", None, "overlap"),
        ({}, "FR", None, "no opening hour"),
        ({"mon": []}, "FR", None, "no opening hour"),
        ({"mon": [["18:00", "09:00"]]}, "FR", None, "closes before it opens"),
        ({"mon": [["9h", "18:00"]]}, "FR", None, "not a time of day"),
        ({"monday": [["09:00", "18:00"]]}, "FR", None, "weekdays"),
        ({"mon": [["09:00", "18:00"]]}, "XX", None, "not a country"),
        ({"mon": [["09:00", "18:00"]]}, "FR", "99", "not a region of FR"),
        ({"mon": [["09:00", "18:00"]]}, "", "57", "needs its country"),
    ],
)
def test_a_calendar_that_cannot_be_used_is_refused_with_the_reason(hours, country, subdiv, reason):
    with pytest.raises(BadHours) as refused:
        check_hours(hours, "Europe/Paris", country, holidays_subdiv=subdiv)
    assert reason in str(refused.value)
    assert refused.value.code == "invalid_hours"
    assert refused.value.message_in("fr") != str(refused.value)  # said in French too


def test_a_bad_time_zone_or_exception_date_is_refused():
    with pytest.raises(BadHours, match="not a time zone"):
        check_hours(OFFICE, "Europe/Lutece", "FR")
    with pytest.raises(BadHours, match="not a date"):
        check_hours(OFFICE, "Europe/Paris", "FR", exceptions={"24/12": []})
    check_holidays("fr", "zone a")  # case aside, French school zones are regions too


def test_an_admin_saving_overlapping_hours_on_a_chat_channel_is_told_why_in_french(admin):
    response = admin.post(
        "/api/v1/channels",
        json={
            "kind": "chat",
            "name": "Chat",
            "settings": {"hours": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}},
        },
        headers={"Accept-Language": "fr"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_hours"
    assert "se chevauchent" in error["message"]
    nowhere = admin.post(
        "/api/v1/channels",
        json={"kind": "chat", "name": "Chat", "settings": {"holidays_country": "XX"}},
    )
    assert nowhere.status_code == 422
    assert "XX" in nowhere.json()["error"]["message"]
