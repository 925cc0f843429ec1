"""events may be redacted once (personal data erased), never otherwise changed or deleted

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An UPDATE is a redaction when it stamps ``redacted_at`` for the first time and leaves who,
# when, what and about what as they were: only ``before`` and ``after`` may change with it.
UNCHANGED = (
    "NEW.id = OLD.id AND NEW.workspace_id = OLD.workspace_id"
    " AND NEW.occurred_at = OLD.occurred_at AND NEW.actor_kind = OLD.actor_kind"
    " AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id"
    " AND NEW.subject_type = OLD.subject_type AND NEW.subject_id = OLD.subject_id"
    " AND NEW.action = OLD.action"
)
REDACTION = f"OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL AND {UNCHANGED}"
SQLITE_REDACTION = REDACTION.replace("IS NOT DISTINCT FROM", "IS")

REDACTABLE_SQLITE = (
    "DROP TRIGGER events_no_update",
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    f"WHEN NOT ({SQLITE_REDACTION}) "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only (only a redaction may change "
    "an event)'); END",
)
REDACTABLE_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION filrouge_events_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP = 'UPDATE' AND {REDACTION} THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION 'the event log is append-only (only a redaction may change an event)'; "
    "END $$",
)
APPEND_ONLY_SQLITE = (
    "DROP TRIGGER events_no_update",
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END",
)
APPEND_ONLY_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION filrouge_events_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the event log is append-only'; END $$",
)


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.add_column("events", sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
    for statement in REDACTABLE_POSTGRESQL if _is_postgresql() else REDACTABLE_SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if _is_postgresql():
        for statement in APPEND_ONLY_POSTGRESQL:
            op.execute(statement)
        op.drop_column("events", "redacted_at")
        return
    op.execute("DROP TRIGGER events_no_update")
    op.execute("DROP TRIGGER events_no_delete")
    with op.batch_alter_table("events") as batch_op:  # SQLite rebuilds the table
        batch_op.drop_column("redacted_at")
    op.execute(
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"
    )
    op.execute(APPEND_ONLY_SQLITE[1])
