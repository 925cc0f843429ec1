"""The few SQL pieces both databases need written differently: seconds between two moments,
percentiles by nearest rank (PostgreSQL's ``percentile_disc``; window functions on SQLite,
which has no percentile aggregate)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from filrouge.core.indicators.ranks import rank


def seconds_between(dialect: str, start: Any, end: Any) -> Any:
    """Seconds from ``start`` to ``end``, as an SQL expression."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def percentiles(
    session_dialect: str,
    rows: Any,
    group: str,
    value: str,
    points: tuple[float, ...],
    with_total: bool = False,
    counts: dict[Any, int] | None = None,
) -> Any:
    """``rows`` (a subquery with columns ``group`` and ``value``): per group, the value at each
    point by nearest rank — the smallest value whose rank is at least point × count, which is
    what ``percentile_disc`` gives on PostgreSQL (one sort, no window), so both databases give
    identical figures. ``with_total`` (PostgreSQL): all the groups together too, group None.
    ``counts`` (SQLite): each group's number of values when known already; the ranks are then
    written into the query and the window that counted each group is spared (a third less)."""
    if session_dialect == "postgresql":
        return (
            select(
                rows.c[group].label("grp"),
                *(
                    func.percentile_disc(point).within_group(rows.c[value]).label(f"p{point}")
                    for point in points
                ),
            )
            .where(rows.c[value].is_not(None))
            .group_by(func.grouping_sets(rows.c[group], tuple_()) if with_total else rows.c[group])
        )
    window = [
        rows.c[group].label("grp"),
        rows.c[value].label("v"),
        func.row_number().over(partition_by=rows.c[group], order_by=rows.c[value]).label("rn"),
    ]
    if not counts:
        window.append(func.count().over(partition_by=rows.c[group]).label("n"))
    ranked = select(*window).where(rows.c[value].is_not(None)).subquery()

    def reached(point: float) -> Any:
        """The rank from which a row is at or past ``point`` in its group."""
        if not counts:
            return literal(point) * cast(ranked.c.n, Float)
        ranks = {key: rank(point, n) for key, n in counts.items() if n}
        return case(ranks, value=ranked.c.grp, else_=None) if ranks else literal(None)

    columns = [
        func.min(case((ranked.c.rn >= reached(point), ranked.c.v))).label(f"p{int(point * 100)}")
        for point in points
    ]
    return select(ranked.c.grp, *columns).group_by(ranked.c.grp)


def ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """A share, or None ("no data") when nothing was counted: never a division by zero."""
    if not denominator or numerator is None:
        return None
    return round(float(numerator) / float(denominator), 4)


def between(column: Any, since: Any, until: Any) -> ColumnElement[bool]:
    return and_(column >= since, column < until)
