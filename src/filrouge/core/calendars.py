"""Calendars as administrators type them: one line of ranges per weekday
(``09:00-12:30, 14:00-18:00``), one line per day with its own hours
(``2026-12-24 09:00-16:00``, ``2026-08-14 closed``), or 24/7; read into the settings that
``core/hours.py`` reads, and written back for the form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from filrouge.core.hours import ALWAYS, WEEKDAYS, BadHours, check_hours
from filrouge.i18n import N_

DAY_NAMES = {
    "mon": N_("Monday"),
    "tue": N_("Tuesday"),
    "wed": N_("Wednesday"),
    "thu": N_("Thursday"),
    "fri": N_("Friday"),
    "sat": N_("Saturday"),
    "sun": N_("Sunday"),
}
CLOSED_WORDS = frozenset({"closed", "fermé", "ferme", "-", ""})
_DASHES = re.compile(r"\s*[-–—à]\s*")
_TIME = re.compile(r"(\d{1,2})(?:[:h](\d{2})?)?")


@dataclass
class CalendarForm:
    always_open: bool = False
    timezone: str = "Europe/Paris"
    holidays_country: str = "FR"
    holidays_subdiv: str = ""
    days: dict[str, str] = field(default_factory=dict)  # weekday -> "09:00-18:00, …"
    exceptions: str = ""  # one "YYYY-MM-DD ranges|closed" a line


def calendar_from_form(form: CalendarForm) -> dict[str, Any]:
    """The calendar settings, checked as ``check_hours`` checks them (``BadHours``)."""
    calendar: dict[str, Any] = {
        "timezone": form.timezone.strip() or "Europe/Paris",
        "holidays_country": form.holidays_country.strip().upper(),
        "holidays_subdiv": form.holidays_subdiv.strip().upper(),
    }
    if form.always_open:
        calendar["hours"] = ALWAYS
    else:
        calendar["hours"] = {
            day: _ranges(text) for day, text in form.days.items() if day in WEEKDAYS and text
        }
        calendar["hours"] = {day: ranges for day, ranges in calendar["hours"].items() if ranges}
        calendar["exceptions"] = _exceptions(form.exceptions)
    check_calendar(calendar)
    return calendar


def check_calendar(calendar: dict[str, Any]) -> None:
    check_hours(
        calendar.get("hours"),
        calendar.get("timezone"),
        calendar.get("holidays_country"),
        holidays_subdiv=calendar.get("holidays_subdiv"),
        exceptions=calendar.get("exceptions"),
    )


def form_from_calendar(calendar: dict[str, Any] | None) -> CalendarForm:
    """What the form shows for a stored calendar."""
    if not calendar:
        return CalendarForm()
    hours = calendar.get("hours")
    days = hours if isinstance(hours, dict) else {}
    exceptions = calendar.get("exceptions") or {}
    return CalendarForm(
        always_open=hours == ALWAYS,
        timezone=str(calendar.get("timezone") or "Europe/Paris"),
        holidays_country=str(calendar.get("holidays_country") or ""),
        holidays_subdiv=str(calendar.get("holidays_subdiv") or ""),
        days={day: _ranges_text(days.get(day)) for day in WEEKDAYS},
        exceptions="\n".join(
            f"{day} {_ranges_text(ranges) or 'closed'}"
            for day, ranges in sorted(exceptions.items())
        ),
    )


def _ranges(text: str) -> list[list[str]]:
    if text.strip().lower() in CLOSED_WORDS:
        return []
    ranges = []
    for part in text.replace(";", ",").split(","):
        pieces = _DASHES.split(part.strip())
        if len(pieces) != 2:
            raise BadHours(N_("A range is two times, such as 09:00–18:00."))
        ranges.append([_time(pieces[0]), _time(pieces[1])])
    return ranges


def _time(text: str) -> str:
    """``9h``, ``9h30``, ``9:30`` → ``09:00``, ``09:30``; anything else is left for
    ``check_hours`` to refuse with its reason."""
    match = _TIME.fullmatch(text.strip().lower())
    if match is None:
        return text.strip()
    return f"{int(match[1]):02d}:{match[2] or '00'}"


def _exceptions(text: str) -> dict[str, list[list[str]]]:
    exceptions: dict[str, list[list[str]]] = {}
    for line in text.splitlines():
        day, _, ranges = line.strip().partition(" ")
        if day:
            exceptions[day] = _ranges(ranges)
    return exceptions


def _ranges_text(ranges: Any) -> str:
    if not isinstance(ranges, list):
        return ""
    return ", ".join(f"{pair[0]}-{pair[1]}" for pair in ranges if len(pair) == 2)
