"""Service levels, worked out without the database: which targets are running, when each is
due (in business or calendar hours, time spent waiting for the customer left out), and the
state an agent sees (on track, due soon, breached, paused, met).

The actions (``core/actions/sla.py``) read the rows and store what this module computes; the
inbox uses the same functions for a conversation not worked out yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from filrouge.core.errors import Invalid
from filrouge.core.hours import BadHours, OpeningHours, hours_in_settings
from filrouge.core.models.enums import AUTOMATIC_FLAGS, DeliveryStatus, Direction
from filrouge.i18n import N_
from filrouge.lib.timeutil import as_utc


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


TARGET_LABELS = {
    Target.FIRST_RESPONSE: N_("First response"),
    Target.NEXT_RESPONSE: N_("Next response"),
    Target.RESOLUTION: N_("Resolution"),
}


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


OFFICE_DAYS = ("mon", "tue", "wed", "thu", "fri")
DEFAULT_CALENDAR: dict[str, Any] = {
    "hours": {day: [["09:00", "18:00"]] for day in OFFICE_DAYS},
    "timezone": "Europe/Paris",
    "holidays_country": "FR",
}
ALWAYS_OPEN_CALENDAR: dict[str, Any] = {"hours": "24/7", "timezone": "Europe/Paris"}
NOT_A_REPLY = (DeliveryStatus.AWAITING_APPROVAL, DeliveryStatus.REJECTED)


def calendar_hours(*calendars: dict[str, Any] | None) -> OpeningHours:
    """The first calendar of ``calendars`` that can be read (a team's, the workspace's), else
    the default office hours: a bad calendar in the database never stops the clock."""
    for calendar in calendars:
        if calendar:
            try:
                return hours_in_settings(calendar)
            except BadHours:
                continue
    return hours_in_settings(DEFAULT_CALENDAR)


@dataclass(frozen=True)
class Clock:
    """Business hours (``hours``) or calendar hours (``hours`` None)."""

    hours: OpeningHours | None = None

    def elapsed(self, start: datetime, end: datetime) -> float:
        if self.hours is None:
            return max(0.0, (end - start).total_seconds())
        return self.hours.open_seconds(start, end)

    def after(self, start: datetime, seconds: float) -> datetime:
        due = None if self.hours is None else self.hours.after_open_time(start, seconds)
        return as_utc(due) if due is not None else start + timedelta(seconds=seconds)


Pause = tuple[datetime, datetime | None]


def read_pauses(raw: Any) -> list[Pause]:
    """``[[start, end|null], …]`` as stored; anything unreadable is left out."""
    pauses: list[Pause] = []
    for pair in raw or []:
        try:
            start = as_utc(datetime.fromisoformat(pair[0]))
            end = None if pair[1] is None else as_utc(datetime.fromisoformat(pair[1]))
        except (TypeError, ValueError, IndexError):
            continue
        pauses.append((start, end))
    return sorted(pauses, key=lambda pause: pause[0])


def write_pauses(pauses: Iterable[Pause]) -> list[list[str | None]]:
    return [[start.isoformat(), None if end is None else end.isoformat()] for start, end in pauses]


def status_pauses(raw: Any, pending: bool, at: datetime) -> list[list[str | None]]:
    """The pauses once the conversation starts (or stops) waiting for the customer at ``at``."""
    pauses = read_pauses(raw)
    holding = bool(pauses) and pauses[-1][1] is None
    if pending and not holding:
        pauses.append((at, None))
    elif holding and not pending:
        pauses[-1] = (pauses[-1][0], max(at, pauses[-1][0]))
    return write_pauses(pauses)


def running_seconds(clock: Clock, start: datetime, end: datetime, pauses: Sequence[Pause]) -> float:
    """Seconds counted between ``start`` and ``end``, the pauses left out."""
    total = clock.elapsed(start, end)
    for pause_start, pause_end in pauses:
        low, high = max(pause_start, start), min(pause_end or end, end)
        if high > low:
            total -= clock.elapsed(low, high)
    return max(0.0, total)


def due_moment(
    clock: Clock, start: datetime, seconds: float, pauses: Sequence[Pause]
) -> datetime | None:
    """When ``seconds`` have been counted since ``start``, the pauses left out; None while a
    pause that has not ended holds the clock before then."""
    left, cursor = float(seconds), start
    for pause_start, pause_end in pauses:
        if pause_end is not None and pause_end <= cursor:
            continue
        if pause_start > cursor:
            run = clock.elapsed(cursor, pause_start)
            if run >= left:
                return clock.after(cursor, left)
            left -= run
        if pause_end is None:
            return None
        cursor = max(cursor, pause_end)
    return clock.after(cursor, left)


@dataclass(frozen=True)
class Step:
    """One message, as far as service levels care."""

    at: datetime
    direction: str
    author_id: int | None
    status: str
    flag: str | None

    @property
    def from_customer(self) -> bool:
        return self.direction == Direction.INBOUND and self.flag not in AUTOMATIC_FLAGS

    @property
    def human_reply(self) -> bool:
        return (
            self.direction == Direction.OUTBOUND
            and self.author_id is not None
            and self.flag is None
            and self.status not in NOT_A_REPLY
        )


@dataclass(frozen=True)
class Run:
    """A target's clock: started when the customer began waiting; ended (met) or not."""

    target: Target
    started_at: datetime
    ended_at: datetime | None = None


def response_runs(steps: Sequence[Step]) -> list[Run]:
    """Every wait for an answer: from the customer's first message after our last reply (or of
    the conversation) to our next reply by a person. Notes and automatic messages (an
    acknowledgement, an out-of-office) neither start nor stop a clock."""
    runs: list[Run] = []
    waiting_from: datetime | None = None
    answered = False
    for step in sorted(steps, key=lambda s: s.at):
        if step.from_customer and waiting_from is None:
            waiting_from = step.at
        elif step.human_reply:
            if waiting_from is not None:
                target = Target.NEXT_RESPONSE if answered else Target.FIRST_RESPONSE
                runs.append(Run(target, waiting_from, step.at))
                waiting_from = None
            answered = True
    if waiting_from is not None:
        target = Target.NEXT_RESPONSE if answered else Target.FIRST_RESPONSE
        runs.append(Run(target, waiting_from))
    return runs


def resolution_run(
    steps: Sequence[Step], since: datetime | None, ended_at: datetime | None
) -> Run | None:
    """From the customer's first message (after ``since``: the previous resolution of a
    conversation reopened) to its resolution (``ended_at``, None while unfinished)."""
    first = next(
        (s.at for s in sorted(steps, key=lambda s: s.at) if s.from_customer and _after(s, since)),
        None,
    )
    if first is None or (ended_at is not None and ended_at < first):
        return None
    return Run(Target.RESOLUTION, first, ended_at)


def _after(step: Step, moment: datetime | None) -> bool:
    return moment is None or step.at > moment


def warn_seconds(target_seconds: float, warn_ratio: float, warn_before: int | None) -> float:
    """How long before the due moment a target is due soon."""
    if warn_before is not None:
        return min(float(warn_before), target_seconds)
    return target_seconds * min(max(warn_ratio, 0.0), 1.0)


def state_at(
    due_at: datetime | None, warn_at: datetime | None, now: datetime, paused: bool
) -> SlaState:
    if paused:
        return SlaState.PAUSED
    if due_at is None:
        return SlaState.MET
    if now >= due_at:
        return SlaState.BREACHED
    if warn_at is not None and now >= warn_at:
        return SlaState.DUE_SOON
    return SlaState.ON_TRACK


@dataclass(frozen=True)
class SlaView:
    """What an agent sees of a conversation's service level: the target due first, its state
    and how long until it is due (or since it was)."""

    target: str
    state: SlaState
    due_at: datetime | None
    seconds: int  # until the due moment; after it when breached


def sla_view(
    target: str | None,
    due_at: datetime | None,
    warn_at: datetime | None,
    status: str,
    now: datetime,
) -> SlaView | None:
    if target is None:
        return None
    state = state_at(due_at, warn_at, now, status == "pending")
    seconds = 0 if due_at is None else abs(int((due_at - now).total_seconds()))
    return SlaView(target, state, due_at, seconds)


def check_after_hours_texts(settings: dict[str, Any]) -> None:
    """A channel's own after-hours words (``after_hours_text_fr``, ``…_en``) may name only
    ``{opens}`` and ``{answer_by}``: refused when saved rather than ignored when sent."""
    for key, value in settings.items():
        if not key.startswith("after_hours_text_"):
            continue
        try:
            str(value).format(opens="", answer_by="")
        except (KeyError, IndexError, ValueError) as exc:
            raise Invalid(
                "invalid_after_hours_text",
                "The after-hours message may only use {{opens}} and {{answer_by}}.",
                field=f"settings.{key}",
            ) from exc
