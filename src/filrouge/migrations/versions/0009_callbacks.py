"""callback requests (click-to-call)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "callback_requests"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent_id", ID, nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("call_error", sa.Text(), nullable=True),
        sa.Column("confirmation", sa.String(length=16), nullable=True),
        sa.Column("requester_ip", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_callback_requests_workspace_id_workspaces"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel_accounts.id"],
            name=op.f("fk_callback_requests_channel_id_channel_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_callback_requests_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_callback_requests_agent_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_requests_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            "ix_callback_requests_workspace_status_due",
            ["workspace_id", "status", "due_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_callback_requests_channel_due", ["channel_id", "due_at"], unique=False
        )
        batch_op.create_index(
            "ix_callback_requests_channel_ip_created",
            ["channel_id", "requester_ip", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_callback_requests_status_next", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("ix_callback_requests_status_next")
        batch_op.drop_index("ix_callback_requests_channel_ip_created")
        batch_op.drop_index("ix_callback_requests_channel_due")
        batch_op.drop_index("ix_callback_requests_workspace_status_due")
        batch_op.drop_index(batch_op.f("ix_callback_requests_conversation_id"))
    op.drop_table(TABLE)
