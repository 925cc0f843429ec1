"""Opening hours: when a team is there, in its own time zone, with public holidays closed, and
how much of that open time lies between two moments (service levels counted in business hours).

One reading for every channel that keeps hours (live chat, callbacks) and for service levels.
Settings, as administrators write them::

    "hours": {"mon": [["09:00", "12:30"], ["14:00", "18:00"]], "sat": [["10:00", "13:00"]]},
    "timezone": "Europe/Paris",
    "holidays_country": "FR",       # public holidays (the ``holidays`` package); "" for none
    "holidays_subdiv": "57",        # a region with its own holidays (Moselle), optional
    "exceptions": {"2026-12-24": [["09:00", "16:00"]], "2026-08-14": []}   # [] = closed

A weekday that is not listed is closed all day; ``"24:00"`` ends a day; ``"hours": "24/7"``
is always open. Ranges are local wall-clock times: 09:00 stays 09:00 across a change of
daylight saving time, and durations are measured in real (UTC) seconds, so a night when the
clocks go back is an hour longer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from filrouge.core.errors import Invalid
from filrouge.i18n import N_

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_ZONE = "Europe/Paris"
Ranges = tuple[tuple[int, int], ...]  # (opens, closes) in minutes after local midnight


class BadHours(Invalid):
    """Hours (or a time zone, a holiday country) that cannot be used; the message says why, in
    the catalogue's words."""

    def __init__(self, message_id: str, **params: Any) -> None:
        super().__init__("invalid_hours", message_id, field="settings.hours", **params)


ALWAYS = "24/7"
FULL_DAY: Ranges = ((0, 24 * 60),)


@dataclass(frozen=True)
class OpeningHours:
    zone: ZoneInfo
    days: dict[int, Ranges]  # weekday (Monday = 0) -> opening ranges, local time
    holidays_country: str = ""
    holidays_subdiv: str = ""
    exceptions: dict[date, Ranges] = field(default_factory=dict)  # a date's own hours
    always_open: bool = False  # 24/7: no night, no weekend, no holiday

    def is_holiday(self, day: date) -> bool:
        country = self.holidays_country
        return bool(country) and day in _public_holidays(country, self.holidays_subdiv, day.year)

    def ranges_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening ranges as aware local datetimes (none on a public holiday, unless
        the day has hours of its own)."""
        if self.always_open:
            ranges = FULL_DAY
        elif day in self.exceptions:
            ranges = self.exceptions[day]
        elif self.is_holiday(day):
            return []
        else:
            ranges = self.days.get(day.weekday(), ())
        midnight = datetime.combine(day, time(0), self.zone)
        return [
            (midnight + timedelta(minutes=opens), _local(day, closes, self.zone))
            for opens, closes in ranges
        ]

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
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

    def open_seconds(self, start: datetime, end: datetime) -> float:
        """How many seconds the team is open between ``start`` and ``end`` (0 if end ≤ start):
        the clock of a service level counted in business hours."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        total = 0.0
        day, last = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self.ranges_on(day):
                total += max(0.0, _seconds(max(opens, start), min(closes, end)))
            day += timedelta(days=1)
        return total

    def after_open_time(
        self, start: datetime, seconds: float, look_ahead_days: int = 400
    ) -> datetime | None:
        """The moment when ``seconds`` of open time have passed since ``start`` (a due date
        in business hours); None when the calendar has no such time within the look-ahead."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        left = max(0.0, seconds)
        day = start.astimezone(self.zone).date()
        for offset in range(look_ahead_days + 1):
            for opens, closes in self.ranges_on(day + timedelta(days=offset)):
                begin = max(opens, start)
                room = _seconds(begin, closes)
                if room <= 0:
                    continue
                if left <= room:
                    return (begin.astimezone(UTC) + timedelta(seconds=left)).astimezone(self.zone)
                left -= room
        return None


def read_hours(
    raw: Any,
    zone: str | None,
    holidays_country: str | None,
    *,
    holidays_subdiv: str | None = None,
    exceptions: Any = None,
) -> OpeningHours:
    """Read hours as settings hold them. Raises ``BadHours``. Overlapping ranges are read as
    their union (``check_hours`` refuses them when they are configured)."""
    if raw == ALWAYS:
        return OpeningHours(zone=read_zone(zone), days={}, always_open=True)
    if not isinstance(raw, dict) or set(raw) - set(WEEKDAYS):
        raise BadHours(
            N_("Opening hours map weekdays (mon … sun) to ranges such as 09:00–18:00, or are 24/7.")
        )
    return OpeningHours(
        zone=read_zone(zone),
        days={WEEKDAYS.index(day): _union(_ranges(value)) for day, value in raw.items()},
        holidays_country=str(holidays_country or "").upper(),
        holidays_subdiv=str(holidays_subdiv or "").upper(),
        exceptions=_exceptions(exceptions),
    )


def check_hours(
    raw: Any,
    zone: str | None,
    holidays_country: str | None,
    *,
    holidays_subdiv: str | None = None,
    exceptions: Any = None,
    closed_week_allowed: bool = False,
) -> OpeningHours:
    """Read hours that an administrator is saving, more strictly than ``read_hours``: ranges
    that overlap, a week without a single open hour (unless ``closed_week_allowed``: a callback
    line may be closed for a while), a holiday country or region that does not exist are
    refused with the reason (``BadHours``)."""
    hours = read_hours(
        raw, zone, holidays_country, holidays_subdiv=holidays_subdiv, exceptions=exceptions
    )
    if hours.always_open:
        return hours
    for weekday, value in raw.items():
        ranges = _ranges(value)
        for (_, closes), (opens, _) in pairwise(ranges):
            if opens < closes:
                raise BadHours(
                    N_("{day}: the ranges overlap ({opens} is before {closes})."),
                    day=weekday,
                    opens=_hhmm(opens),
                    closes=_hhmm(closes),
                )
    if not closed_week_allowed and not any(hours.days.values()):
        raise BadHours(N_("The week has no opening hour at all: give some, or choose 24/7."))
    check_holidays(hours.holidays_country, hours.holidays_subdiv)
    return hours


def check_holidays(country: str | None, subdiv: str | None = None) -> None:
    """A country (ISO code) the ``holidays`` package knows, and one of its regions if given."""
    country, subdiv = (country or "").upper(), (subdiv or "").upper()
    if not country:
        if subdiv:
            raise BadHours(N_("A holiday region needs its country."))
        return
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise BadHours(
            N_("{country} is not a country whose public holidays are known."), country=country
        )
    if subdiv and subdiv not in {s.upper() for s in supported[country]}:
        raise BadHours(
            N_("{region} is not a region of {country} with its own public holidays."),
            region=subdiv,
            country=country,
        )


def hours_in_settings(
    settings: dict[str, Any], zone: str | None = None, country: str | None = None
) -> OpeningHours:
    """Read the hours a channel's (or a team's) settings hold; ``zone`` and ``country`` are the
    defaults when the settings give none. Raises ``BadHours``."""
    return read_hours(
        settings.get("hours"),
        settings.get("timezone") or zone,
        settings.get("holidays_country", country),
        holidays_subdiv=settings.get("holidays_subdiv"),
        exceptions=settings.get("exceptions"),
    )


def read_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadHours(N_("{name} is not a time zone."), name=name) from exc


def _exceptions(raw: Any) -> dict[date, Ranges]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise BadHours(N_("Exceptions map dates (YYYY-MM-DD) to ranges such as 09:00–18:00."))
    read: dict[date, Ranges] = {}
    for day, value in raw.items():
        try:
            read[date.fromisoformat(str(day))] = _union(_ranges(value))
        except ValueError as exc:
            raise BadHours(N_("{day} is not a date (YYYY-MM-DD)."), day=day) from exc
    return read


def _union(ranges: Ranges) -> Ranges:
    merged: list[tuple[int, int]] = []
    for opens, closes in ranges:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """``minutes`` after local midnight of ``day``; 24:00 is the next midnight."""
    return datetime.combine(day, time(0), zone) + timedelta(minutes=minutes)


def _seconds(start: datetime, end: datetime) -> float:
    """Real seconds between two aware moments (in UTC: a DST change counts as it happened)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _ranges(value: Any) -> Ranges:
    if not isinstance(value, list | tuple):
        raise BadHours(N_("Each weekday lists ranges such as 09:00–18:00."))
    ranges = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise BadHours(N_("A range is two times, such as 09:00–18:00."))
        opens, closes = _minutes(pair[0]), _minutes(pair[1])
        if closes <= opens:
            raise BadHours(
                N_("{opens}–{closes} closes before it opens."), opens=pair[0], closes=pair[1]
            )
        ranges.append((opens, closes))
    return tuple(sorted(ranges))


def _minutes(value: Any) -> int:
    """``"09:30"`` -> 570; ``"24:00"`` is the end of the day."""
    if str(value) == "24:00":
        return 24 * 60
    try:
        moment = time.fromisoformat(str(value))
    except ValueError as exc:
        raise BadHours(N_("{value} is not a time of day."), value=value) from exc
    return moment.hour * 60 + moment.minute


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdiv: str, year: int) -> Any:
    try:
        return holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    except NotImplementedError:  # a country or region the package does not know: no holidays
        return {}
