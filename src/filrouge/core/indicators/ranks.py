"""Percentiles by nearest rank on SQLite, which has no percentile aggregate, read at their rank
instead of by ranking every row with a window function (the definition, ``sqlfn.percentiles``,
which the raw tables' figures use and which cost most of a report over a quarter of a million
conversations). The nearest rank of point p among n values is k = ⌈p × n⌉, the smallest rank
at least p × n, as the window form and PostgreSQL's ``percentile_disc`` pick; both ways below
give the same value, which ``tests/test_report_facts.py`` holds them to. Two ways:

- **Walks**, for the whole channel table (each channel, and all together), whole or cut by
  channel: the group's count is known first (the counts' pass), and ``ORDER BY value LIMIT 1
  OFFSET k - 1`` reads an index kept in the value's order up to rank k (the SQLite-only
  indexes of migration 0027). The walks name their index (``INDEXED BY``), and the indexes
  are partial on a condition only the walks state (``WALKS_ONLY``), so SQLite's planner never
  takes them for another query (it did: a scan of the whole index for a report cut by team).
- **A sorted copy**, for everything else (a report cut by team, agent, segment…, a time
  series, the backlog of a cut, business hours): the rows are written once into a temporary
  table in (group, value) order, where a row's rowid is one more than the last one's, so the
  value at rank k of a group is the row at its first rowid + k − 1. A walk would look each
  row up for the cut's column, and a window costs about three times the copy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, column, insert, select, table, text
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


MAX_BOUND = 900  # SQLite before 3.32 binds at most 999 values in one statement
RANKED = table("report_ranked", column("grp"), column("v"))  # temporary: in (grp, v) order
RANKED_TOTAL = table("report_ranked_total", column("v"))  # the values, all groups together


def sorted_percentiles(
    session: Session, rows: Any, points: Sequence[float], with_total: bool = False
) -> dict[Any, tuple[int, list[Any]]]:
    """Per group of ``rows`` (a subquery with columns ``grp`` and ``v``; null values left out):
    how many values, and the value at the nearest rank of each point (``with_total``: all the
    groups together too, key None; the groups' keys are never None), read from a sorted copy
    of the rows (module docstring). No rows: no groups, and no total."""
    session.flush()  # the copy reads the connection: what the session holds goes first
    connection = session.connection()
    _fresh_table(connection, RANKED.name, "grp, v")
    present = rows.c.v.is_not(None)
    connection.execute(
        insert(RANKED).from_select(
            ["grp", "v"],
            select(rows.c.grp, rows.c.v).where(present).order_by(rows.c.grp, rows.c.v),
        )
    )
    groups = connection.execute(
        text(f"SELECT grp, count(*), min(rowid) FROM {RANKED.name} GROUP BY grp")
    ).all()
    found = _values_at_ranks(connection, RANKED.name, groups, points)
    if with_total and groups:
        _fresh_table(connection, RANKED_TOTAL.name, "v")
        connection.execute(
            text(f"INSERT INTO {RANKED_TOTAL.name} (v) SELECT v FROM {RANKED.name} ORDER BY v")
        )
        total = sum(count for _, count, _ in groups)
        found.update(_values_at_ranks(connection, RANKED_TOTAL.name, [(None, total, 1)], points))
    for name in (RANKED.name, RANKED_TOTAL.name):  # no customer's figures left behind
        connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    return found


def _fresh_table(connection: Any, name: str, columns: str) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    connection.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns})"))


def _values_at_ranks(
    connection: Any, name: str, groups: Sequence[Any], points: Sequence[float]
) -> dict[Any, tuple[int, list[Any]]]:
    """Each group's (key, count, first rowid) → its count and its values at the points' ranks,
    read in one query (a few for a long series by day)."""
    wanted = {
        key: (count, [start + rank(point, count) - 1 for point in points])
        for key, count, start in groups
    }
    rowids = sorted({rowid for _, (_, ids) in wanted.items() for rowid in ids})
    query = text(f"SELECT rowid, v FROM {name} WHERE rowid IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    values: dict[int, Any] = {}
    for start in range(0, len(rowids), MAX_BOUND):  # two years by day: 1,462 ranks
        chunk = {"ids": rowids[start : start + MAX_BOUND]}
        values.update(connection.execute(query, chunk).tuples().all())
    return {
        key: (count, [values.get(rowid) for rowid in ids]) for key, (count, ids) in wanted.items()
    }
