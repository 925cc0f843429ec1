"""The public transparency page's figures (opt-in per workspace): per month and per channel
kind, the conversations handled and the share answered within the promised time — the
first-response target of the service-level policy for that kind at normal priority.

Only counts and channel kinds go out: never a name, an address, a message or a channel's own
name. A month that ended more than ``SETTLED`` ago no longer changes (its targets are
decided): ``ClosedMonths`` keeps its figures, so a page view counts only the recent months.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.sla_policies import list_policies, match_policy
from filrouge.core.hours import BadHours, read_zone
from filrouge.core.indicators.period import ReportFilters, buckets, local_midnight
from filrouge.core.indicators.service_levels import kept_promises_by_month_and_kind
from filrouge.core.indicators.sqlfn import ratio
from filrouge.core.models import ChannelAccount, Workspace
from filrouge.core.models.enums import ChannelKind, Priority

MONTHS_SHOWN = 12
SETTLED = timedelta(days=7)
TOKEN_BYTES = 18  # 24 URL-safe characters


class TransparencySettings(BaseModel):
    """``workspaces.settings["transparency"]``: off by default; the page's address is a
    random token, kept when the page is turned off and on again."""

    enabled: bool = False
    token: str | None = None


def transparency_of(workspace_settings: dict[str, Any] | None) -> TransparencySettings:
    raw = (workspace_settings or {}).get("transparency") or {}
    try:
        return TransparencySettings.model_validate(raw)
    except ValueError:
        return TransparencySettings()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def published_workspace(session: Session, token: str) -> Workspace | None:
    """The workspace whose published page has this address; None when there is none or it
    is turned off (the caller answers both the same way)."""
    for workspace in session.scalars(select(Workspace).order_by(Workspace.id)):
        wanted = transparency_of(workspace.settings)
        if wanted.enabled and wanted.token and hmac.compare_digest(wanted.token, token):
            return workspace
    return None


@dataclass(frozen=True)
class Promise:
    seconds: int
    business_hours: bool


@dataclass(frozen=True)
class MonthFigures:
    month: date  # its first day
    closed: bool  # over (not the month in progress)
    conversations: int
    kept: int

    @property
    def share(self) -> float | None:
        return ratio(self.kept, self.conversations)


@dataclass(frozen=True)
class ChannelFigures:
    kind: str
    promise: Promise | None
    months: list[MonthFigures]  # most recent first

    @property
    def latest(self) -> MonthFigures | None:
        """The most recent month with conversations, a closed one first."""
        with_data = [m for m in self.months if m.conversations]
        closed = [m for m in with_data if m.closed]
        return next(iter(closed or with_data), None)


@dataclass(frozen=True)
class TransparencyReport:
    workspace_name: str
    timezone: str
    channels: list[ChannelFigures]


Counts = dict[str, tuple[int, int]]  # channel kind → (conversations, kept)


class ClosedMonths:
    """Figures of settled months, per workspace and month, in this process (bounded)."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.months: OrderedDict[tuple[int, date], Counts] = OrderedDict()

    def get(self, workspace_id: int, month: date) -> Counts | None:
        return self.months.get((workspace_id, month))

    def keep(self, workspace_id: int, month: date, counts: Counts) -> None:
        self.months[(workspace_id, month)] = counts
        while len(self.months) > self.size:
            self.months.popitem(last=False)


def transparency_report(
    session: Session, workspace: Workspace, now: datetime, cache: ClosedMonths | None = None
) -> TransparencyReport:
    zone = _zone(workspace)
    cut = _months(now, zone)
    counts = _monthly_counts(session, workspace.id, zone, cut, now, cache or ClosedMonths())
    kinds = _kinds(session, workspace.id, counts)
    policies = list_policies(session, workspace.id, active_only=True)
    channels = []
    for kind in kinds:
        policy = match_policy(policies, kind, Priority.NORMAL)
        promise = (
            Promise(policy.first_response_seconds, policy.business_hours)
            if policy is not None and policy.first_response_seconds
            else None
        )
        months = [
            MonthFigures(month, end <= now, *counts[index].get(kind, (0, 0)))
            for index, (month, _, end) in enumerate(cut)
        ]
        channels.append(ChannelFigures(kind, promise, months[::-1]))
    return TransparencyReport(workspace.name, zone.key, channels)


def _zone(workspace: Workspace) -> ZoneInfo:
    try:
        return read_zone((workspace.settings or {}).get("timezone"))
    except BadHours:
        return read_zone(None)


def _months(now: datetime, zone: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    today = now.astimezone(zone).date()
    first = today.replace(day=1)
    for _ in range(MONTHS_SHOWN - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return buckets(
        local_midnight(first, zone), local_midnight(today, zone) + timedelta(days=1), "month", zone
    )


def _settled(end: datetime, now: datetime) -> bool:
    return end + SETTLED <= now


def _monthly_counts(
    session: Session,
    workspace_id: int,
    zone: ZoneInfo,
    cut: list[tuple[date, datetime, datetime]],
    now: datetime,
    cache: ClosedMonths,
) -> list[Counts]:
    """Each month's counts: settled ones from the cache, the others in one query."""
    known = [
        cache.get(workspace_id, month) if _settled(end, now) else None for month, _, end in cut
    ]
    missing = [index for index, counts in enumerate(known) if counts is None]
    if missing:
        asked = cut[missing[0] :]
        filters = ReportFilters(asked[0][1], asked[-1][2], zone)
        found = kept_promises_by_month_and_kind(session, workspace_id, filters, asked)
        for offset, (month, _, end) in enumerate(asked):
            index = missing[0] + offset
            counts = {kind: value for (i, kind), value in found.items() if i == offset}
            known[index] = counts
            if _settled(end, now):
                cache.keep(workspace_id, month, counts)
    return [counts or {} for counts in known]


def _kinds(session: Session, workspace_id: int, counts: list[Counts]) -> list[str]:
    """Kinds of the active channels, and of any that had conversations in the months shown,
    in the order of ``ChannelKind``."""
    active = set(
        session.scalars(
            select(ChannelAccount.kind).where(
                ChannelAccount.workspace_id == workspace_id, ChannelAccount.active.is_(True)
            )
        )
    )
    seen = active | {kind for month in counts for kind in month}
    order = [kind.value for kind in ChannelKind]
    return sorted(seen, key=lambda kind: (order.index(kind) if kind in order else len(order), kind))
