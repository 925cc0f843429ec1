"""Percentiles by nearest rank on SQLite without sorting, for the channel table's groups (each
channel, and all together): the value at rank k read by walking an index kept in the value's
order (SQLite-only indexes of migration 0027) and stopping there.

SQLite has no percentile aggregate; the window form (``sqlfn.percentiles``) sorts the period's
rows once per figure and group, which cost most of a channel table over a quarter of a million
conversations. Here the group's count is known first (the counts' pass), k = ⌈point × count⌉
is the rank the window form picks (the smallest rank at least point × count, the same double
arithmetic), and ``ORDER BY value LIMIT 1 OFFSET k - 1`` reads the index up to it (the
period's condition written so that SQLite walks that index, ``unindexed``): both forms
give the same value, which ``tests/test_report_facts.py`` holds them to. A time series (one
group per day) keeps the window form: one pass beats a walk per day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session

# SQLite-only indexes of migration 0027, one per walk: a duration's order per channel and all
# together; the first message's order per channel (all together, the facts' own order: they
# are stored by workspace and first message, ``WITHOUT ROWID``)
RANK_INDEXES = frozenset(
    {
        "ix_report_rank_first_response",
        "ix_report_rank_first_response_channel",
        "ix_report_rank_resolution",
        "ix_report_rank_resolution_channel",
        "ix_report_rank_open_channel",
    }
)


def rank(point: float, count: int) -> int:
    """The nearest rank of ``point`` among ``count`` values (1-based; 0 when there are none)."""
    return math.ceil(point * float(count)) if count else 0


def walks(dialect: str, by: str) -> bool:
    """Whether percentiles of this grouping are read by walking indexes."""
    return dialect == "sqlite" and by in ("channel", "total")


def unindexed(column: Any) -> Any:
    """``column`` written ``+column``: SQLite then uses no index for a condition on it, so a
    walk takes the index in the order it reads (a period's range would otherwise draw the
    planner to the facts' own order, and a sort)."""
    return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)


def values_at_ranks(
    session: Session,
    value: Any,
    order: Any,
    conditions: Sequence[Any],
    count: int,
    points: Sequence[float],
) -> list[Any]:
    """``value`` of the rows ``conditions`` select, ordered by ``order``, at the nearest rank
    of each point among ``count`` rows (None when there are none)."""
    found: list[Any] = []
    for point in points:
        position = rank(point, count)
        query = select(value).where(*conditions).order_by(order).limit(1).offset(position - 1)
        found.append(session.execute(query).scalar() if position else None)
    return found
