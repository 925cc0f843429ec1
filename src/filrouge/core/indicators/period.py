"""Report periods: a start and an end in the workspace's time zone, cut into days, weeks or
months at local midnight (a day when the clocks change is 23 or 25 hours long, as it was)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from filrouge.core.errors import Invalid

Interval = Literal["day", "week", "month"]
MAX_DAYS = 731  # two years: a longer report is an export, not a page
MAX_BUCKETS = 400


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers: [since, until) and the cuts that narrow it."""

    since: datetime
    until: datetime
    zone: ZoneInfo
    channel_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None
    priority: str | None = None
    segment: Any = None  # core/segments.segment_clause: the customers a report is about
    type: str | None = None  # the first customer message's type (triage: triage_cut.py)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def days(self) -> float:
        return (self.until - self.since).total_seconds() / 86400

    def asking_for(self, metrics: tuple[str, ...] | None) -> ReportFilters:
        """The same report, running only the queries of ``metrics`` (every one when None)."""
        if metrics is None:
            return self
        return replace(self, extra={**self.extra, "metrics": metrics})

    @property
    def cut_beyond_channel(self) -> bool:
        """Whether a cut other than the channel narrows the report."""
        cuts = (self.team_id, self.agent_id, self.priority, self.segment, self.type)
        return any(value is not None for value in cuts)


def report_period(
    since: date | None, until: date | None, zone: ZoneInfo, today: date
) -> tuple[datetime, datetime]:
    """From local midnight of ``since`` to local midnight after ``until`` (both days included);
    the last 30 days by default. Refuses an empty, reversed or over-long period."""
    last = until or today
    first = since or (last - timedelta(days=29))
    if first > last:
        raise Invalid("period_reversed", "The period ends before it starts.", field="since")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid(
            "period_too_long", "A report covers at most {days} days.", field="since", days=MAX_DAYS
        )
    return local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def buckets(
    since: datetime, until: datetime, interval: Interval, zone: ZoneInfo
) -> list[tuple[date, datetime, datetime]]:
    """The periods' starts (local dates) with their [start, end) in UTC."""
    first = since.astimezone(zone).date()
    last = until.astimezone(zone).date()
    start = _bucket_start(first, interval)
    found: list[tuple[date, datetime, datetime]] = []
    while start < last or (start == last and not found):
        end = _next(start, interval)
        window = (max(local_midnight(start, zone), since), min(local_midnight(end, zone), until))
        found.append((start, *window))
        start = end
        if len(found) > MAX_BUCKETS:
            raise Invalid(
                "too_many_periods",
                "Choose a longer interval: this one cuts the period into more than {count} parts.",
                field="interval",
                count=MAX_BUCKETS,
            )
    return found


def _bucket_start(day: date, interval: Interval) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def _next(day: date, interval: Interval) -> date:
    if interval == "week":
        return day + timedelta(days=7)
    if interval == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)
