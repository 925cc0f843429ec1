"""A callback channel's settings, and the time slots its opening hours offer.

Settings (all optional)::

    timezone            "Europe/Paris"
    hours               {"mon": [["09:00", "12:30"], ["14:00", "18:00"]], ...}
                        (default: Monday to Friday, 09:00-18:00; a day not listed is
                        closed; {} never opens)
    holidays_country    "FR" (public holidays are closed; "" for none)
    slot_minutes        30
    capacity_per_slot   1   callbacks per slot per available agent
    agents              how many agents take callbacks (default: the workspace's active staff)
    days_ahead          7
    retry_minutes       [15, 60]   delay before each new attempt after no answer
    max_attempts        3
    min_fill_seconds    3   a form posted faster than this was not filled in by a person
    max_requests_per_ip_per_hour  5
    sms_confirmation    false
    telephony           "manual" (the agent dials) or "twilio" (see telephony.py)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from filrouge.core.hours import WEEKDAYS, BadHours, OpeningHours, hours_in_settings

DEFAULT_HOURS = {day: [["09:00", "18:00"]] for day in WEEKDAYS[:5]}
TELEPHONY_MODES = ("manual", "twilio")
__all__ = ["WEEKDAYS", "CallbackConfig", "read_config", "slot_starts"]


class BadCallbackSettings(ValueError):
    """The channel's settings cannot be read (an administrator must fix them)."""


@dataclass(frozen=True)
class CallbackConfig:
    opening: OpeningHours
    slot: timedelta
    capacity_per_slot: int
    agents: int | None
    days_ahead: int
    retry_minutes: tuple[int, ...]
    max_attempts: int
    min_fill_seconds: int
    max_requests_per_ip_per_hour: int
    sms_confirmation: bool
    telephony: str

    @property
    def zone(self) -> ZoneInfo:
        return self.opening.zone


def read_config(settings: dict[str, Any]) -> CallbackConfig:
    try:
        hours = DEFAULT_HOURS if settings.get("hours") is None else settings["hours"]
        return CallbackConfig(
            opening=hours_in_settings({**settings, "hours": hours}, None, "FR"),
            slot=timedelta(minutes=_positive(settings, "slot_minutes", 30)),
            capacity_per_slot=_positive(settings, "capacity_per_slot", 1),
            agents=None if settings.get("agents") is None else _positive(settings, "agents", 1),
            days_ahead=_positive(settings, "days_ahead", 7),
            retry_minutes=tuple(int(m) for m in settings.get("retry_minutes", [15, 60])),
            max_attempts=_positive(settings, "max_attempts", 3),
            min_fill_seconds=int(settings.get("min_fill_seconds", 3)),
            max_requests_per_ip_per_hour=_positive(settings, "max_requests_per_ip_per_hour", 5),
            sms_confirmation=bool(settings.get("sms_confirmation", False)),
            telephony=_telephony(settings),
        )
    except (TypeError, ValueError, BadHours) as exc:
        raise BadCallbackSettings(str(exc)) from exc


def _positive(settings: dict[str, Any], key: str, default: int) -> int:
    value = int(settings.get(key, default))
    if value < 1:
        raise ValueError(f"{key} must be at least 1")
    return value


def _telephony(settings: dict[str, Any]) -> str:
    mode = str(settings.get("telephony") or "manual")
    if mode not in TELEPHONY_MODES:
        raise ValueError(f"telephony must be one of {TELEPHONY_MODES}")
    return mode


def is_holiday(config: CallbackConfig, day: date) -> bool:
    return config.opening.is_holiday(day)


def opening_ranges(config: CallbackConfig, day: date) -> list[tuple[datetime, datetime]]:
    """The day's opening ranges as aware local datetimes (none on a public holiday)."""
    return config.opening.ranges_on(day)


def slot_starts(config: CallbackConfig, now: datetime) -> Iterator[datetime]:
    """Every slot that starts after ``now`` within ``days_ahead`` days, in UTC, in order."""
    today = now.astimezone(config.zone).date()
    for offset in range(config.days_ahead + 1):
        for opens, closes in opening_ranges(config, today + timedelta(days=offset)):
            start = opens
            while start + config.slot <= closes:
                if start > now:
                    yield start.astimezone(UTC)
                start += config.slot


def current_slot(config: CallbackConfig, now: datetime) -> datetime | None:
    """The start (UTC) of the slot ``now`` falls in, or None when the line is closed now."""
    local = now.astimezone(config.zone)
    for opens, closes in opening_ranges(config, local.date()):
        if opens <= local < closes:
            elapsed = (local - opens) // config.slot
            return (opens + elapsed * config.slot).astimezone(UTC)
    return None


def next_open_moment(config: CallbackConfig, at: datetime) -> datetime:
    """``at`` if the line is open then, else the next opening (``at`` if none is found)."""
    if current_slot(config, at) is not None:
        return at
    day = at.astimezone(config.zone).date()
    for offset in range(config.days_ahead + 8):
        for opens, _closes in opening_ranges(config, day + timedelta(days=offset)):
            if opens > at:
                return opens.astimezone(UTC)
    return at


def retry_delay(config: CallbackConfig, attempts: int) -> timedelta | None:
    """How long to wait before the next attempt, or None when no attempt is left."""
    if attempts >= config.max_attempts or not config.retry_minutes:
        return None
    index = min(attempts - 1, len(config.retry_minutes) - 1)
    return timedelta(minutes=config.retry_minutes[max(index, 0)])
