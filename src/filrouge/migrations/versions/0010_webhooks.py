"""provider webhooks: raw deliveries, early receipts, identity attributes, channel reconnection,
linked public/private conversations

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", JSON, nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel_accounts.id"],
            name=op.f("fk_webhook_deliveries_channel_id_channel_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "channel_id", "digest", name=op.f("uq_webhook_deliveries_channel_id_digest")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_outcome_id", "webhook_deliveries", ["outcome", "id"], unique=False
    )
    op.create_table(
        "early_receipts",
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("provider_message_id", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel_accounts.id"],
            name=op.f("fk_early_receipts_channel_id_channel_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_receipts")),
        sa.UniqueConstraint(
            "channel_id",
            "provider_message_id",
            "status",
            name=op.f("uq_early_receipts_channel_id_provider_message_id_status"),
        ),
    )
    with op.batch_alter_table("identities") as batch_op:
        batch_op.add_column(sa.Column("attributes", JSON, nullable=True))
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("linked_conversation_id", ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_conversations_linked_conversation_id_conversations"),
            "conversations",
            ["linked_conversation_id"],
            ["id"],
        )
    with op.batch_alter_table("channel_accounts") as batch_op:
        batch_op.add_column(
            sa.Column("needs_reconnection_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reconnection_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_accounts") as batch_op:
        batch_op.drop_column("reconnection_reason")
        batch_op.drop_column("needs_reconnection_at")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_conversations_linked_conversation_id_conversations"), type_="foreignkey"
        )
        batch_op.drop_column("linked_conversation_id")
    with op.batch_alter_table("identities") as batch_op:
        batch_op.drop_column("attributes")
    op.drop_table("early_receipts")
    op.drop_index("ix_webhook_deliveries_outcome_id", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
