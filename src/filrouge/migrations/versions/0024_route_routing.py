"""routing: teams' skills and strategy (round-robin cursor), agents' capacity per kind of
channel, conversations offered to contributors by expertise

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("strategy", sa.String(length=16), server_default="off", nullable=False)
        )
        for name in ("languages", "topics", "channel_kinds"):
            batch_op.add_column(sa.Column(name, JSON, server_default="[]", nullable=False))
        batch_op.add_column(
            sa.Column("reroute_answered", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("round_robin_last_id", ID, nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity", JSON, server_default="{}", nullable=False))
    op.create_table(
        "contributor_offers",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("matched", sa.String(length=64), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_contributor_offers_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_contributor_offers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributor_offers")),
        sa.UniqueConstraint(
            "conversation_id", "user_id", name=op.f("uq_contributor_offers_conversation_id_user_id")
        ),
    )
    with op.batch_alter_table("contributor_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contributor_offers_user_id"), ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("contributor_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contributor_offers_user_id"))
    op.drop_table("contributor_offers")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): a batch rebuild would drop
    # and copy ``users`` and ``teams``, which other tables' foreign keys point at.
    op.execute("ALTER TABLE users DROP COLUMN capacity")
    for name in (
        "round_robin_last_id",
        "reroute_answered",
        "channel_kinds",
        "topics",
        "languages",
        "strategy",
    ):
        op.execute(f"ALTER TABLE teams DROP COLUMN {name}")
