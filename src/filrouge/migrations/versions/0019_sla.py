"""service levels: policies by channel and priority, their outcomes, a calendar per team, the
running target of each conversation; the default policies for existing workspaces

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)
MINUTE, HOUR, DAY = 60, 3600, 9 * 3600
SOCIAL = ["instagram", "facebook_comments", "whatsapp", "telegram", "sms"]
# (name, position, channel kinds, priorities, first/next response, resolution, raise priority),
# as core/actions/sla_policies.DEFAULT_POLICIES had them when this migration was written.
DEFAULTS: tuple[tuple[str, int, list[str], list[str], int, int | None, bool], ...] = (
    ("Chat", 10, ["chat"], [], 2 * MINUTE, None, False),
    ("Urgent and high priority", 20, [], ["urgent", "high"], HOUR, DAY, False),
    ("X and Messenger", 30, ["x", "messenger"], [], 30 * MINUTE, 5 * DAY, True),
    ("Other social networks and SMS", 40, SOCIAL, [], HOUR, 5 * DAY, True),
    ("Email and web form", 50, ["email", "web_form"], [], 24 * HOUR, 5 * DAY, False),
    ("Other channels", 60, [], [], 24 * HOUR, 5 * DAY, False),
)


def upgrade() -> None:
    policies = op.create_table(
        "sla_policies",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("channel_kinds", JSON, nullable=False),
        sa.Column("priorities", JSON, nullable=False),
        sa.Column("first_response_seconds", sa.Integer(), nullable=True),
        sa.Column("next_response_seconds", sa.Integer(), nullable=True),
        sa.Column("resolution_seconds", sa.Integer(), nullable=True),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column("warn_ratio", sa.Float(), nullable=False),
        sa.Column("warn_before_seconds", sa.Integer(), nullable=True),
        sa.Column("notify_supervisors", sa.Boolean(), nullable=False),
        sa.Column("raise_priority", sa.Boolean(), nullable=False),
        sa.Column("reassign_team_id", ID, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["reassign_team_id"], ["teams.id"], name=op.f("fk_sla_policies_reassign_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sla_policies_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
    )
    op.create_index("ix_sla_policies_workspace_id", "sla_policies", ["workspace_id"])
    op.create_table(
        "sla_outcomes",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("policy_id", ID, nullable=True),
        sa.Column("target", sa.String(length=24), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("met_at", WHEN, nullable=True),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("elapsed_seconds", sa.Float(), nullable=True),
        sa.Column("business_seconds", sa.Float(), nullable=True),
        sa.Column("channel_kind", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=True),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_sla_outcomes_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["sla_policies.id"], name=op.f("fk_sla_outcomes_policy_id_sla_policies")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sla_outcomes_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_outcomes")),
        sa.UniqueConstraint(
            "conversation_id",
            "target",
            "started_at",
            name=op.f("uq_sla_outcomes_conversation_id_target_started_at"),
        ),
    )
    op.create_index("ix_sla_outcomes_workspace_id", "sla_outcomes", ["workspace_id"])
    for name, kind in (
        ("sla_policy_id", ID),
        ("sla_target", sa.String(length=24)),
        ("sla_started_at", WHEN),
        ("sla_due_at", WHEN),
        ("sla_warn_at", WHEN),
        ("sla_alert_at", WHEN),
        ("sla_checked_at", WHEN),
        ("sla_pauses", JSON),
        ("sla_warned", sa.String(length=64)),
    ):
        op.add_column("conversations", sa.Column(name, kind, nullable=True))
    op.create_index("ix_conversations_sla_alert", "conversations", ["sla_alert_at"])
    op.create_index(
        "ix_conversations_workspace_sla_due", "conversations", ["workspace_id", "sla_due_at"]
    )
    op.add_column("teams", sa.Column("calendar", JSON, nullable=True))
    _default_policies(policies)


def _default_policies(policies: sa.Table) -> None:
    connection = op.get_bind()
    workspace_ids = list(connection.execute(sa.text("SELECT id FROM workspaces")).scalars())
    rows = [
        {
            "workspace_id": workspace_id,
            "name": name,
            "position": position,
            "channel_kinds": kinds,
            "priorities": priorities,
            "first_response_seconds": response,
            "next_response_seconds": response,
            "resolution_seconds": resolution,
            "business_hours": True,
            "warn_ratio": 0.2,
            "notify_supervisors": True,
            "raise_priority": raise_priority,
            "active": True,
            "created_at": sa.func.now(),
        }
        for workspace_id in workspace_ids
        for name, position, kinds, priorities, response, resolution, raise_priority in DEFAULTS
    ]
    for row in rows:
        connection.execute(policies.insert().values(**row))


def downgrade() -> None:
    op.drop_column("teams", "calendar")
    op.drop_index("ix_conversations_workspace_sla_due", table_name="conversations")
    op.drop_index("ix_conversations_sla_alert", table_name="conversations")
    for name in (
        "sla_warned",
        "sla_pauses",
        "sla_checked_at",
        "sla_alert_at",
        "sla_warn_at",
        "sla_due_at",
        "sla_started_at",
        "sla_target",
        "sla_policy_id",
    ):
        op.drop_column("conversations", name)
    op.drop_index("ix_sla_outcomes_workspace_id", table_name="sla_outcomes")
    op.drop_table("sla_outcomes")
    op.drop_index("ix_sla_policies_workspace_id", table_name="sla_policies")
    op.drop_table("sla_policies")
