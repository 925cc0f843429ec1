"""Opening hours: when a team is there, in its own time zone, with public holidays closed.

One reading for every channel that keeps hours (live chat, callbacks) and, later, for service
levels counted in business hours. Settings, as administrators write them::

    "hours": {"mon": [["09:00", "12:30"], ["14:00", "18:00"]], "sat": [["10:00", "13:00"]]},
    "timezone": "Europe/Paris",
    "holidays_country": "FR"        # public holidays (the ``holidays`` package); "" for none

A weekday that is not listed is closed all day; ``"24:00"`` ends a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_ZONE = "Europe/Paris"
Ranges = tuple[tuple[int, int], ...]  # (opens, closes) in minutes after local midnight


class BadHours(ValueError):
    """Hours (or a time zone) that cannot be read; the message says which."""


@dataclass(frozen=True)
class OpeningHours:
    zone: ZoneInfo
    days: dict[int, Ranges]  # weekday (Monday = 0) -> opening ranges, local time
    holidays_country: str = ""

    def is_holiday(self, day: date) -> bool:
        country = self.holidays_country
        return bool(country) and day in _public_holidays(country, day.year)

    def ranges_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening ranges as aware local datetimes (none on a public holiday)."""
        if self.is_holiday(day):
            return []
        midnight = datetime.combine(day, time(0), self.zone)
        return [
            (midnight + timedelta(minutes=opens), midnight + timedelta(minutes=closes))
            for opens, closes in self.days.get(day.weekday(), ())
        ]

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        return any(opens <= local < closes for opens, closes in self.ranges_on(local.date()))

    def next_opening(self, at: datetime, look_ahead_days: int = 14) -> datetime | None:
        """The first opening after ``at`` (None: none within ``look_ahead_days``)."""
        day = at.astimezone(self.zone).date()
        for offset in range(look_ahead_days + 1):
            for opens, _closes in self.ranges_on(day + timedelta(days=offset)):
                if opens > at:
                    return opens
        return None


def read_hours(raw: Any, zone: str | None, holidays_country: str | None) -> OpeningHours:
    """Read hours as settings hold them. Raises ``BadHours``."""
    if not isinstance(raw, dict) or set(raw) - set(WEEKDAYS):
        raise BadHours(f"hours must map weekdays ({', '.join(WEEKDAYS)}) to ranges")
    return OpeningHours(
        zone=read_zone(zone),
        days={WEEKDAYS.index(day): _ranges(value) for day, value in raw.items()},
        holidays_country=str(holidays_country or "").upper(),
    )


def read_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadHours(f"{name} is not a time zone") from exc


def _ranges(value: Any) -> Ranges:
    if not isinstance(value, list | tuple):
        raise BadHours('each weekday lists ranges such as ["09:00", "18:00"]')
    ranges = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise BadHours('a range is two times, such as ["09:00", "18:00"]')
        opens, closes = _minutes(pair[0]), _minutes(pair[1])
        if closes <= opens:
            raise BadHours(f"{pair[0]}-{pair[1]} closes before it opens")
        ranges.append((opens, closes))
    return tuple(sorted(ranges))


def _minutes(value: Any) -> int:
    """``"09:30"`` -> 570; ``"24:00"`` is the end of the day."""
    if str(value) == "24:00":
        return 24 * 60
    try:
        moment = time.fromisoformat(str(value))
    except ValueError as exc:
        raise BadHours(f"{value} is not a time of day") from exc
    return moment.hour * 60 + moment.minute


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> Any:
    try:
        return holidays.country_holidays(country, years=year)
    except NotImplementedError:  # a country the package does not know: no holidays
        return {}
