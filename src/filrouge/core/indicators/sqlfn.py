"""The few SQL pieces both databases need written differently: seconds between two moments,
percentiles by nearest rank (PostgreSQL's ``percentile_disc``; SQLite, which has no
percentile aggregate, reads them at their ranks: ``ranks.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, select, tuple_, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from filrouge.core.indicators.ranks import sorted_percentiles


def seconds_between(dialect: str, start: Any, end: Any) -> Any:
    """Seconds from ``start`` to ``end``, as an SQL expression."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def percentiles_of(
    session: Session, rows: Any, points: tuple[float, ...], with_total: bool = False
) -> dict[Any, tuple[int, list[Any]]]:
    """Per group of ``rows`` (a subquery with columns ``grp`` and ``v``): how many values, and
    the value at each point by nearest rank (``with_total``: all the groups together too, key
    None). PostgreSQL: ``percentile_disc``; SQLite: the rows sorted once into a temporary
    table whose rowids are the ranks (``ranks.sorted_percentiles``)."""
    if session.get_bind().dialect.name != "postgresql":
        return sorted_percentiles(session, rows, points, with_total)
    query = percentiles("postgresql", rows, "grp", "v", points, with_total)
    return {key: (count, list(values)) for key, count, *values in session.execute(query)}


def percentiles(
    session_dialect: str,
    rows: Any,
    group: str,
    value: str,
    points: tuple[float, ...],
    with_total: bool = False,
) -> Any:
    """``rows`` (a subquery with columns ``group`` and ``value``): per group, how many values
    and the value at each point by nearest rank — the smallest value whose rank is at least
    point × count, which is what ``percentile_disc`` gives on PostgreSQL (one sort, no
    window), so both databases give identical figures. ``with_total``: all the groups
    together too, group None. On SQLite this is the definition written out with window
    functions, which the raw tables' figures use (``reference.py``) and reports do not."""
    present = rows.c[value].is_not(None)
    if session_dialect == "postgresql":
        return (
            select(
                rows.c[group].label("grp"),
                func.count(),
                *(
                    func.percentile_disc(point).within_group(rows.c[value]).label(f"p{point}")
                    for point in points
                ),
            )
            .where(present)
            .group_by(func.grouping_sets(rows.c[group], tuple_()) if with_total else rows.c[group])
        )
    if with_total:  # the rows read once (a common table used twice), then ranked twice
        read = select(rows.c[group].label("grp"), rows.c[value].label("v")).where(present)
        both = read.cte("ranked_rows")
        rows = union_all(
            select(both.c.grp, both.c.v), select(literal(None).label("grp"), both.c.v)
        ).subquery()
        group, value = "grp", "v"
    ranked = (
        select(
            rows.c[group].label("grp"),
            rows.c[value].label("v"),
            func.row_number().over(partition_by=rows.c[group], order_by=rows.c[value]).label("rn"),
            func.count().over(partition_by=rows.c[group]).label("n"),
        )
        .where(rows.c[value].is_not(None))
        .subquery()
    )
    columns = [
        func.min(case((ranked.c.rn >= literal(point) * cast(ranked.c.n, Float), ranked.c.v)))
        for point in points
    ]
    return select(ranked.c.grp, func.max(ranked.c.n), *columns).group_by(ranked.c.grp)


def column_sums(rows: Sequence[Sequence[Any]]) -> list[int]:
    """Each column of ``rows`` added up, a null as 0: the total of the groups' counts (SQLite,
    which has no grouping sets)."""
    return [sum(int(value or 0) for value in column) for column in zip(*rows, strict=True)]


def ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """A share, or None ("no data") when nothing was counted: never a division by zero."""
    if not denominator or numerator is None:
        return None
    return round(float(numerator) / float(denominator), 4)


def between(column: Any, since: Any, until: Any) -> ColumnElement[bool]:
    return and_(column >= since, column < until)
