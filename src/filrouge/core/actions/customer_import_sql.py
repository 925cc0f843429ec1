"""The bulk statements of the customer import, per database.

SQLite gets each chunk's rows as one JSON parameter read by ``json_each``: one statement, no
per-row parameter processing (the import spends most of its time there otherwise).
PostgreSQL gets arrays (``= ANY``) for look-ups and SQLAlchemy's batched executemany for writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from filrouge.core.models import Customer, Identity
from filrouge.core.models.base import UTCDateTime

CUSTOMERS = cast(Table, Customer.__table__)
IDENTITIES = cast(Table, Identity.__table__)
NEXT_IDS_POSTGRESQL = text(
    "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)"
)
INSERT_CUSTOMERS_SQLITE = text(
    "INSERT INTO customers (id, workspace_id, name, attributes, created_at, updated_at) "
    "SELECT json_extract(value, '$[0]'), :workspace_id, json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), :now, :now FROM json_each(:rows)"
).bindparams(bindparam("now", type_=UTCDateTime))
INSERT_IDENTITIES_SQLITE = text(
    "INSERT INTO identities (workspace_id, customer_id, kind, value, display_name, verified, "
    "created_at) SELECT :workspace_id, json_extract(value, '$[2]'), json_extract(value, '$[0]'), "
    "json_extract(value, '$[1]'), json_extract(value, '$[3]'), 1, :now FROM json_each(:rows)"
).bindparams(bindparam("now", type_=UTCDateTime))


SQLITE_IMPORT_CACHE_KIB = 131_072  # the page cache of the importing connection (128 MiB)


def prepare_connection(conn: Connection) -> None:
    """SQLite: a page cache large enough for the identities' indexes of a million customers
    (the default 2 MB makes each insert fetch index pages again); bounded, so memory stays flat."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")


def refresh_statistics(conn: Connection) -> None:
    """PostgreSQL: the planner's statistics of the tables the import fills. Without them, on
    tables that were small, a chunk's look-up of 5,000 values reads the whole index once per
    value (7 s instead of 0.1 s at 40,000 identities); autovacuum comes too late in a bulk."""
    if is_postgresql(conn):
        conn.exec_driver_sql("ANALYZE customers, identities")


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def among(
    conn: Connection, column: Any, values: Sequence[Any], integers: bool
) -> ColumnElement[bool]:
    """``column IN values`` with one parameter, however many values."""
    if is_postgresql(conn):
        array: ARRAY[Any] = ARRAY(BigInteger() if integers else String())
        return cast(ColumnElement[bool], column == any_(bindparam(None, list(values), type_=array)))
    each = func.json_each(json.dumps(list(values))).table_valued("value")
    return cast(ColumnElement[bool], column.in_(select(each.c.value)))


def new_customer_ids(conn: Connection, count: int) -> list[int]:
    """Ids for ``count`` new customers, taken before the insert: PostgreSQL's sequence hands
    out a range; SQLite's transaction holds the write lock, so nobody else takes them."""
    if is_postgresql(conn):
        return list(conn.execute(NEXT_IDS_POSTGRESQL, {"n": count}).scalars())
    last = conn.execute(select(func.coalesce(func.max(Customer.id), 0))).scalar_one()
    return list(range(last + 1, last + 1 + count))


def insert_customers(
    conn: Connection,
    workspace_id: int,
    rows: list[tuple[int, str | None, dict[str, Any]]],
    now: datetime,
) -> None:
    """(id, name, attributes) rows."""
    if is_postgresql(conn):
        conn.execute(
            insert(CUSTOMERS),
            [
                {
                    "id": customer_id,
                    "workspace_id": workspace_id,
                    "name": name,
                    "attributes": attributes,
                    "created_at": now,
                    "updated_at": now,
                }
                for customer_id, name, attributes in rows
            ],
        )
        return
    conn.execute(
        INSERT_CUSTOMERS_SQLITE,
        {"workspace_id": workspace_id, "now": now, "rows": json.dumps(rows, ensure_ascii=False)},
    )


def insert_identities(
    conn: Connection,
    workspace_id: int,
    rows: list[tuple[str, str, int, str | None]],
    now: datetime,
) -> None:
    """(kind, value, customer id, display name) rows, verified (the file vouches for them)."""
    if is_postgresql(conn):
        conn.execute(
            insert(IDENTITIES),
            [
                {
                    "workspace_id": workspace_id,
                    "customer_id": customer_id,
                    "kind": kind,
                    "value": value,
                    "display_name": name,
                    "verified": True,
                    "attributes": None,
                    "created_at": now,
                }
                for kind, value, customer_id, name in rows
            ],
        )
        return
    conn.execute(
        INSERT_IDENTITIES_SQLITE,
        {"workspace_id": workspace_id, "now": now, "rows": json.dumps(rows, ensure_ascii=False)},
    )
