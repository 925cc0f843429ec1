"""custom field definitions (typed customer attributes) and saved segments; VIP and consent
values written as text before (an import's "oui", "true", "1") become booleans

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BOOLEAN_KEYS = ("vip", "consent_email", "consent_sms", "consent_whatsapp")
TRUE_WORDS = frozenset({"true", "yes", "oui", "1", "vrai", "y", "o"})
FALSE_WORDS = frozenset({"false", "no", "non", "0", "faux", "n"})
customers = sa.table("customers", sa.column("id", ID), sa.column("attributes", JSON))


def upgrade() -> None:
    op.create_table(
        "custom_fields",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_custom_fields_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_custom_fields_workspace_id_key")),
    )
    op.create_table(
        "segments",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_segments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_segments_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )
    op.create_index(op.f("ix_segments_workspace_id"), "segments", ["workspace_id"])
    _type_boolean_attributes()


def _type_boolean_attributes() -> None:
    """Text that clearly says yes or no becomes true or false; anything else stays as it is."""
    connection = op.get_bind()
    text = sa.cast(customers.c.attributes, sa.Text)
    mentions = sa.or_(*[text.contains(f'"{key}"') for key in BOOLEAN_KEYS])
    rows = connection.execute(sa.select(customers.c.id, customers.c.attributes).where(mentions))
    for row_id, attributes in rows.all():
        typed = {**attributes, **_typed(attributes)}
        if typed != attributes:
            connection.execute(
                customers.update().where(customers.c.id == row_id).values(attributes=typed)
            )


def _typed(attributes: dict[str, object]) -> dict[str, bool]:
    words = {k: str(v).strip().lower() for k, v in attributes.items() if k in BOOLEAN_KEYS}
    return {
        key: word in TRUE_WORDS
        for key, word in words.items()
        if isinstance(attributes[key], str) and (word in TRUE_WORDS or word in FALSE_WORDS)
    }


def downgrade() -> None:
    op.drop_index(op.f("ix_segments_workspace_id"), table_name="segments")
    op.drop_table("segments")
    op.drop_table("custom_fields")
