"""Keeping the search index clean and whole.

The database writes the index itself (triggers of migration 0017), so nothing here runs on
an ordinary write. Two moments need more:

- an erasure or the retention policy: on SQLite, FTS5 only marks the old words of a changed
  row as deleted until its segments are merged; ``purge_search_index`` merges them at once
  (``optimize``), and ``secure_delete`` zeroes the pages they leave. PostgreSQL rewrites the
  row's vector in the same statement (its dead versions go at the next vacuum, as for every
  column).
- a bulk import (``rebuild_search_index``): the index is built again from the tables in a few
  statements, and the FTS5 segments are merged into one, which keeps later searches fast.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

SQLITE_TABLES = {
    "messages": "search_messages",
    "customers": "search_customers",
    "orders": "search_orders",
}
SQLITE_FILL = {
    "messages": (
        "INSERT INTO search_messages(rowid, text, subject) SELECT m.id, m.text, "
        "coalesce(c.subject, '') FROM messages m JOIN conversations c ON c.id = m.conversation_id"
    ),
    "customers": (
        "INSERT INTO search_customers(rowid, name, identities) SELECT c.id, coalesce(c.name, ''), "
        "coalesce((SELECT group_concat(i.value || ' ' || coalesce(i.display_name, '') || "
        "CASE WHEN i.value LIKE '+33%' THEN ' 0' || substr(i.value, 4) ELSE '' END, ' ') "
        "FROM identities i WHERE i.customer_id = c.id), '') FROM customers c"
    ),
    "orders": (
        "INSERT INTO search_orders(rowid, number, items) SELECT o.id, o.number, "
        "coalesce((SELECT group_concat(coalesce(json_extract(e.value, '$.name'), '') || ' ' || "
        "coalesce(json_extract(e.value, '$.sku'), ''), ' ') FROM json_each(o.items) e), '') "
        "FROM orders o"
    ),
}
POSTGRESQL_REBUILD = {
    "messages": (
        "UPDATE messages m SET search_vector = filrouge_words(m.text) || setweight("
        "filrouge_words(c.subject), 'B') FROM conversations c WHERE c.id = m.conversation_id",
        "REINDEX INDEX ix_messages_search",
    ),
    "customers": ("REINDEX INDEX ix_customers_search", "REINDEX INDEX ix_identities_search"),
    "orders": ("REINDEX INDEX ix_orders_search",),
}


def purge_search_index(session: Session, kinds: Iterable[str]) -> None:
    """Leave no trace of words that were changed or deleted (SQLite: merge the segments)."""
    if not _is_sqlite(session):
        return
    for kind in sorted(set(kinds)):
        table = SQLITE_TABLES[kind]
        session.execute(text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))


def rebuild_search_index(session: Session, kinds: Iterable[str]) -> None:
    """Build the index of ``kinds`` again from the tables (after a bulk import)."""
    for kind in sorted(set(kinds)):
        if _is_sqlite(session):
            session.execute(text(f"DELETE FROM {SQLITE_TABLES[kind]}"))
            session.execute(text(SQLITE_FILL[kind]))
        else:
            for statement in POSTGRESQL_REBUILD[kind]:
                session.execute(text(statement))
    purge_search_index(session, kinds)


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"
