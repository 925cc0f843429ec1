"""Search on SQLite: the FTS5 tables of migration 0017, ranked by bm25 (lower is better, so
the score is its opposite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, TableClause, column, literal_column, select, table
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from filrouge.core.models import Message
from filrouge.core.search_markup import passage
from filrouge.core.search_query import SearchQuery, fts5_expression

MESSAGES = table("search_messages", column("rowid"))
CUSTOMERS = table("search_customers", column("rowid"))
ORDERS = table("search_orders", column("rowid"))
CAP = 2000  # customers and orders: the latest 2,000 that match are ranked


def plan_each_search(session: Session) -> None:
    """SQLite plans each statement as it comes: nothing to do."""


def message_candidates(
    query: SearchQuery,
    cap: int,
    session: Session | None = None,
    conditions: list[ColumnElement[bool]] | None = None,
    dated: bool = False,
) -> Any:
    """(id, score) of the ``cap`` latest matching messages that meet ``conditions`` (``dated``:
    a date among them; FTS5 needs nothing more for it): FTS5
    walks its index newest first and stops there, so bm25 is computed ``cap`` times, not once
    per match of a common word."""
    score: ColumnElement[float] = literal_column("-bm25(search_messages)")
    latest = select(MESSAGES.c.rowid.label("id"), score.label("score")).where(
        _match(MESSAGES, fts5_expression(query, stemmed=True))
    )
    if conditions:
        latest = latest.join(Message, Message.id == MESSAGES.c.rowid).where(*conditions)
    return latest.order_by(MESSAGES.c.rowid.desc()).limit(cap).subquery()


def message_ids(query: SearchQuery) -> Select[tuple[int]]:
    return select(MESSAGES.c.rowid).where(_match(MESSAGES, fts5_expression(query, stemmed=True)))


def customer_match(query: SearchQuery) -> Any:
    """(id, score) of the customers whose name or identities match."""
    return _ranked(CUSTOMERS, fts5_expression(query, stemmed=False), CAP)


def order_match(query: SearchQuery) -> Any:
    return _ranked(ORDERS, fts5_expression(query, stemmed=False), CAP)


def _ranked(fts: TableClause, expression: str, cap: int) -> Any:
    score: ColumnElement[float] = literal_column(f"-bm25({fts.name})")
    return (
        select(fts.c.rowid.label("id"), score.label("score"))
        .where(_match(fts, expression))
        .order_by(fts.c.rowid.desc())
        .limit(cap)
        .subquery()
    )


def _match(fts: TableClause, expression: str) -> ColumnElement[bool]:
    parameter = f"{fts.name}_match"
    return sql(f"{fts.name} MATCH :{parameter}").bindparams(**{parameter: expression})  # type: ignore[return-value]


def message_snippets(session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
    """Each message's passage around its first match, marked in Python: FTS5's snippet()
    reads a common word's whole list of messages again for each one."""
    rows = session.execute(select(Message.id, Message.text).where(Message.id.in_(ids)))
    return {row_id: passage(text or "", query.terms) for row_id, text in rows}
