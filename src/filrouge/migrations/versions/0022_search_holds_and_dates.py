"""search: a bulk write indexes its customers once (SQLite); messages by date (PostgreSQL)

SQLite. The customers' FTS5 row is written by triggers when a customer or one of its
identities is inserted: a customer imported with an email and a phone is indexed three times
(and deleted twice). A row in ``search_holds`` makes those two insert triggers stand aside;
the customer import adds it, writes a chunk, indexes the chunk's customers in one statement
and removes it, all in one transaction. SQLite has one writer at a time and nobody reads an
uncommitted row, so no other writer ever sees the hold: every customer is still indexed when
its transaction commits. (PostgreSQL indexes customers with expression indexes.)

PostgreSQL. A search with a date filter reads the latest matching messages of those dates:
through an index on ``messages.occurred_at``, walked back for a common word, intersected with
the words' GIN index for a rarer one (core/search_postgresql.py). Without it, a common word
in a month a year ago walked back through every newer message.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUSTOMER_ROW = (
    "INSERT INTO search_customers(rowid, name, identities) SELECT c.id, coalesce(c.name, ''), "
    "coalesce((SELECT group_concat(i.value || ' ' || coalesce(i.display_name, '') || "
    "CASE WHEN i.value LIKE '+33%' THEN ' 0' || substr(i.value, 4) ELSE '' END, ' ') "
    "FROM identities i WHERE i.customer_id = c.id), '') FROM customers c"
)
BY_DATE = "ix_messages_search_time"  # left alone by autogenerate, as the search index is
NOT_HELD = "WHEN NOT EXISTS (SELECT 1 FROM search_holds WHERE kind = 'customers') "


def _refresh_customer(customer: str) -> str:
    return (
        f"DELETE FROM search_customers WHERE rowid = {customer}; "
        f"{CUSTOMER_ROW} WHERE c.id = {customer};"
    )


def _insert_triggers(when: str) -> tuple[str, ...]:
    return (
        "DROP TRIGGER search_customers_insert",
        "DROP TRIGGER search_identities_insert",
        f"CREATE TRIGGER search_customers_insert AFTER INSERT ON customers {when}BEGIN "
        f"{_refresh_customer('NEW.id')} END",
        f"CREATE TRIGGER search_identities_insert AFTER INSERT ON identities {when}BEGIN "
        f"{_refresh_customer('NEW.customer_id')} END",
    )


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _is_sqlite():
        op.execute(f"CREATE INDEX {BY_DATE} ON messages (occurred_at)")
        return
    op.execute("CREATE TABLE search_holds (kind VARCHAR(20) NOT NULL PRIMARY KEY)")
    for statement in _insert_triggers(NOT_HELD):
        op.execute(statement)


def downgrade() -> None:
    if not _is_sqlite():
        op.execute(f"DROP INDEX {BY_DATE}")
        return
    for statement in _insert_triggers(""):
        op.execute(statement)
    op.execute("DROP TABLE search_holds")
