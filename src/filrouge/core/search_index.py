"""Keeping the search index clean and whole.

The database writes the index itself (triggers of migration 0017), so nothing here runs on
an ordinary write. Two moments need more:

- an erasure or the retention policy: on SQLite, FTS5 only marks the old words of a changed
  row as deleted until its segments are merged; ``purge_search_index`` merges them at once
  (``optimize``), and ``secure_delete`` zeroes the pages they leave. PostgreSQL rewrites the
  row's vector in the same statement (its dead versions go at the next vacuum, as for every
  column).
- a bulk import: on SQLite, ``customers_index_held`` makes the customers' insert triggers stand
  aside while a chunk is written (migration 0022) and indexes the chunk's customers in one
  statement before the same transaction commits; ``rebuild_search_index`` builds the index
  again from the tables in a few statements and merges the FTS5 segments into one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
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
HOLD_CUSTOMERS = text("INSERT INTO search_holds(kind) VALUES ('customers')")
RELEASE_CUSTOMERS = text("DELETE FROM search_holds WHERE kind = 'customers'")
FORGET_CUSTOMERS = text(
    "DELETE FROM search_customers WHERE rowid IN (SELECT value FROM json_each(:ids))"
)
INDEX_CUSTOMERS = text(
    SQLITE_FILL["customers"] + " WHERE c.id IN (SELECT value FROM json_each(:ids))"
)
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


class HeldCustomers:
    """The customers written while the index stood aside: ``new`` ones have no index row yet,
    ``changed`` ones (a new identity, say) have one to write again."""

    def __init__(self) -> None:
        self.new: list[int] = []
        self.changed: list[int] = []


@contextmanager
def customers_index_held(conn: Connection) -> Iterator[HeldCustomers]:
    """SQLite: while the block writes customers and identities, the insert triggers stand
    aside; on leaving it, the customers noted in the yielded ``HeldCustomers`` are indexed in
    one statement, inside the same transaction. SQLite has one writer at a time and the hold
    is never committed, so every other writer keeps indexing as usual. PostgreSQL: its
    expression indexes need nothing, the block runs as it is."""
    held = HeldCustomers()
    if conn.dialect.name != "sqlite":
        yield held
        return
    conn.execute(HOLD_CUSTOMERS)
    yield held
    if held.changed:
        conn.execute(FORGET_CUSTOMERS, {"ids": json.dumps(held.changed)})
    if held.new or held.changed:
        conn.execute(INDEX_CUSTOMERS, {"ids": json.dumps(held.new + held.changed)})
    conn.execute(RELEASE_CUSTOMERS)


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"
