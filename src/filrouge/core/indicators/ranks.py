"""Percentiles by nearest rank on SQLite without sorting, for the whole channel table (each
channel, and all together): the value at rank k read by walking an index kept in the value's
order (SQLite-only indexes of migration 0027) and stopping there.

SQLite has no percentile aggregate; the window form (``sqlfn.percentiles``) sorts the period's
rows once per figure and group, which cost most of a channel table over a quarter of a million
conversations. Here the group's count is known first (the counts' pass), k = ⌈point × count⌉
is the rank the window form picks (the smallest rank at least point × count, the same double
arithmetic), and ``ORDER BY value LIMIT 1 OFFSET k - 1`` reads the index up to it: both forms
give the same value, which ``tests/test_report_facts.py`` holds them to.

A channel's walks use the per-channel indexes (a report cut by channel too). The walks name
their index (``INDEXED BY``), and the indexes are partial on a condition only
the walks state (``WALKS_ONLY``), so SQLite's planner never takes them for another query (it
did: a scan of the whole index for a report cut by team). A report cut otherwise (team, agent,
segment…), and a time series (one group per day), keep the window form: their rows are
fewer, or one pass beats a walk per day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from filrouge.core.indicators.period import ReportFilters
from filrouge.core.models.base import UTCDateTime

WALKS_ONLY = "reopened >= 0"  # true of every row; stated by the walks alone
# SQLite-only indexes of migration 0027: (value walked, per channel) → index; None: the facts'
# own order (stored by workspace and first message, ``WITHOUT ROWID``)
WALKED = {
    ("first_response_s", False): "ix_report_rank_first_response",
    ("first_response_s", True): "ix_report_rank_first_response_channel",
    ("resolution_s", False): "ix_report_rank_resolution",
    ("resolution_s", True): "ix_report_rank_resolution_channel",
    ("first_inbound_at", False): None,
    ("first_inbound_at", True): "ix_report_rank_open_channel",
}
RANK_INDEXES = frozenset(name for name in WALKED.values() if name)
AGE = "(julianday(:moment) - julianday(first_inbound_at)) * 86400.0"  # as sqlfn.seconds_between


def rank(point: float, count: int) -> int:
    """The nearest rank of ``point`` among ``count`` values (1-based; 0 when there are none)."""
    return math.ceil(point * float(count)) if count else 0


def walks(dialect: str, by: str, filters: ReportFilters) -> bool:
    """Whether percentiles are read by walking indexes: on SQLite, for the channel table (per
    channel or all together), whole or cut by channel."""
    return dialect == "sqlite" and by in ("channel", "total") and not filters.cut_beyond_channel


def durations_at_ranks(
    session: Session,
    workspace_id: int,
    filters: ReportFilters,
    column: str,
    channel_id: int | None,
    count: int,
    points: Sequence[float],
) -> list[Any]:
    """``column`` (a duration of the facts) of the period's conversations, on ``channel_id``
    or all of them, at the nearest rank of each point among their ``count`` values."""
    index = WALKED[(column, channel_id is not None)]
    channel = "AND origin_channel_id = :channel " if channel_id is not None else ""
    query = text(
        f"SELECT {column} FROM report_conversations INDEXED BY {index} "
        f"WHERE workspace_id = :workspace {channel}AND {column} IS NOT NULL "
        "AND +first_inbound_at >= :since AND +first_inbound_at < :until "
        f"AND {WALKS_ONLY} ORDER BY {column} LIMIT 1 OFFSET :skip"
    ).bindparams(bindparam("since", type_=UTCDateTime), bindparam("until", type_=UTCDateTime))
    params = {"workspace": workspace_id, "since": filters.since, "until": filters.until}
    return _at_ranks(session, query, {**params, "channel": channel_id}, count, points)


def backlog_ages_at_ranks(
    session: Session,
    workspace_id: int,
    moment: datetime,
    channel_id: int | None,
    count: int,
    points: Sequence[float],
) -> list[Any]:
    """The ages at ``moment`` of the conversations open then, on ``channel_id`` or all of
    them, at the nearest rank of each point among their ``count``: the youngest first."""
    index = WALKED[("first_inbound_at", channel_id is not None)]
    walked = (
        f"INDEXED BY {index} WHERE origin_channel_id = :channel AND {WALKS_ONLY} AND"
        if index
        else "WHERE"
    )
    query = text(
        f"SELECT {AGE} FROM report_conversations {walked} workspace_id = :workspace "
        "AND first_inbound_at < :moment AND (open_until IS NULL OR open_until >= :moment) "
        "ORDER BY first_inbound_at DESC LIMIT 1 OFFSET :skip"
    ).bindparams(bindparam("moment", type_=UTCDateTime))
    params = {"workspace": workspace_id, "moment": moment, "channel": channel_id}
    return _at_ranks(session, query, params, count, points)


def _at_ranks(
    session: Session, query: Any, params: dict[str, Any], count: int, points: Sequence[float]
) -> list[Any]:
    found: list[Any] = []
    for point in points:
        position = rank(point, count)
        skip = {**params, "skip": position - 1}
        found.append(session.execute(query, skip).scalar() if position else None)
    return found
