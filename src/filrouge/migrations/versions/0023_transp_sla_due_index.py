"""conversations by the moment their running service-level target is due, whatever the
workspace: /metrics counts the breached ones at every scrape

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_conversations_sla_due", "conversations", ["sla_due_at"])


def downgrade() -> None:
    op.drop_index("ix_conversations_sla_due", table_name="conversations")
