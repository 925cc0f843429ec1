"""what waits on the team now: an index on conversations (workspace, status, first message,
then the cuts: customer, team, assignee, priority), so the dashboard counts the waiting
conversations and finds the oldest from the index alone instead of reading every conversation.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_conversations_workspace_status_first_inbound"
COLUMNS = [
    "workspace_id",
    "status",
    "first_inbound_at",
    "customer_id",
    "team_id",
    "assignee_id",
    "priority",
]


def upgrade() -> None:
    op.create_index(NAME, "conversations", COLUMNS)


def downgrade() -> None:
    op.drop_index(NAME, table_name="conversations")
