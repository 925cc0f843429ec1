"""suggested duplicates of customers, for supervisors to review

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "duplicate_suggestions",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("other_id", ID, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", ID, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_duplicate_suggestions_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["customers.id"], name=op.f("fk_duplicate_suggestions_other_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_duplicate_suggestions_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_duplicate_suggestions_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_suggestions")),
        sa.UniqueConstraint(
            "workspace_id",
            "customer_id",
            "other_id",
            name=op.f("uq_duplicate_suggestions_workspace_id_customer_id_other_id"),
        ),
    )
    op.create_index(
        "ix_duplicate_suggestions_status",
        "duplicate_suggestions",
        ["workspace_id", "status", "score"],
    )


def downgrade() -> None:
    op.drop_index("ix_duplicate_suggestions_status", table_name="duplicate_suggestions")
    op.drop_table("duplicate_suggestions")
