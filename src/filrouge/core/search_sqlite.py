"""Search on SQLite: the FTS5 tables of migration 0017, ranked by bm25 (lower is better, so
the score is its opposite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, TableClause, column, literal_column, select, table
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from filrouge.core.models import Message
from filrouge.core.search_markup import CLOSE, OPEN, marked_html
from filrouge.core.search_query import SearchQuery, fts5_expression

MESSAGES = table("search_messages", column("rowid"))
CUSTOMERS = table("search_customers", column("rowid"))
ORDERS = table("search_orders", column("rowid"))
SNIPPET_WORDS = 16
# The subject weighs half as much as the words of the message itself.
MESSAGE_SCORE = "-bm25(search_messages, 1.0, 0.5)"


def message_from() -> Any:
    return MESSAGES.join(Message, Message.id == MESSAGES.c.rowid)


def message_match(query: SearchQuery) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    return _match(MESSAGES, fts5_expression(query, stemmed=True)), literal_column(MESSAGE_SCORE)


def message_ids(query: SearchQuery) -> Select[tuple[int]]:
    return select(MESSAGES.c.rowid).where(_match(MESSAGES, fts5_expression(query, stemmed=True)))


def customer_match(query: SearchQuery) -> Any:
    """(id, score) of the customers whose name or identities match."""
    return _ranked(CUSTOMERS, fts5_expression(query, stemmed=False))


def order_match(query: SearchQuery) -> Any:
    return _ranked(ORDERS, fts5_expression(query, stemmed=False))


def _ranked(fts: TableClause, expression: str) -> Any:
    score: ColumnElement[float] = literal_column(f"-bm25({fts.name})")
    return (
        select(fts.c.rowid.label("id"), score.label("score"))
        .where(_match(fts, expression))
        .subquery()
    )


def _match(fts: TableClause, expression: str) -> ColumnElement[bool]:
    parameter = f"{fts.name}_match"
    return sql(f"{fts.name} MATCH :{parameter}").bindparams(**{parameter: expression})  # type: ignore[return-value]


def message_snippets(session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
    """Each message's best passage, matches marked (the text, else the subject)."""
    snippet = f"snippet(search_messages, -1, '{OPEN}', '{CLOSE}', '…', {SNIPPET_WORDS})"
    rows = session.execute(
        select(MESSAGES.c.rowid, literal_column(snippet)).where(
            _match(MESSAGES, fts5_expression(query, stemmed=True)), MESSAGES.c.rowid.in_(ids)
        )
    )
    return {row_id: marked_html(text or "") for row_id, text in rows}
