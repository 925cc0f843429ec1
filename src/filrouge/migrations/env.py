"""Alembic environment: runs on the connection or URL handed over by ``filrouge.schema``."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from filrouge.core.indicators.ranks import RANK_INDEXES
from filrouge.core.models import Base
from filrouge.core.models.base import UTCDateTime
from filrouge.db import create_db_engine

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, _context: Any) -> str | Literal[False]:
    """Migrations name plain SQLAlchemy types, never the application's own."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# The search index (migration 0017) lives beside the models, written by triggers: FTS5 tables
# and their shadow tables on SQLite, a tsvector column and GIN indexes on PostgreSQL.
SEARCH_INDEX = {"search_vector", "ix_messages_search", "ix_customers_search"}
SEARCH_INDEX |= {"ix_identities_search", "ix_orders_search", "ix_messages_search_time"}
# Beside them, SQLite-only indexes of the reports' facts, walked in a value's order
# (core/indicators/ranks.py, migration 0027): no model declares them either.
LEFT_ALONE = SEARCH_INDEX | RANK_INDEXES


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Autogenerate leaves the search index and the SQLite-only rank indexes alone."""
    if type_ == "table" and (name or "").startswith("search_"):
        return False
    return name not in LEFT_ALONE


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as new_connection:
        run_on(new_connection)
    engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_online()
