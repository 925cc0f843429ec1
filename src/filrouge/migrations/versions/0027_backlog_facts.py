"""the backlog in the reports' facts: ``report_conversations.open_until``, the moment a
conversation stopped being open (its resolution; NULL while it is unfinished; its first message
when it was closed without a resolution: open at no moment), so the backlog at a moment and
its age are read from the facts' one range instead of a scan of every conversation. The
triggers of 0026 are written again with the column, and a status change now refreshes the
facts too. On SQLite, indexes in the order of each duration and of the first message (per
channel and all together) let a report read a percentile at its rank instead of sorting
(core/indicators/ranks.py). The SQL is a frozen copy of core/indicators/facts.py's.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0026's frozen pieces (the messages' counts, the events, the trigger names) are the same
before = importlib.import_module("filrouge.migrations.versions.0026_rollup_report_facts")

UNFINISHED = "('new', 'open', 'pending')"
OPEN_UNTIL = (
    f"CASE WHEN c.status IN {UNFINISHED} THEN NULL WHEN c.resolved_at IS NOT NULL "
    "THEN c.resolved_at ELSE c.first_inbound_at END"
)
CONVERSATION_FIELDS = (*before.CONVERSATION_FIELDS, "status")
# SQLite only (PostgreSQL reads percentiles with percentile_disc): name → columns; each is
# partial on "reopened >= 0", true of every row and stated only by the walks that name it
RANK_INDEXES = {  # reopened last: the partial condition is read from the index too
    "ix_report_rank_first_response": (
        "workspace_id",
        "first_response_s",
        "first_inbound_at",
        "reopened",
    ),
    "ix_report_rank_first_response_channel": (
        "workspace_id",
        "origin_channel_id",
        "first_response_s",
        "first_inbound_at",
        "reopened",
    ),
    "ix_report_rank_resolution": ("workspace_id", "resolution_s", "first_inbound_at", "reopened"),
    "ix_report_rank_resolution_channel": (
        "workspace_id",
        "origin_channel_id",
        "resolution_s",
        "first_inbound_at",
        "reopened",
    ),
    "ix_report_rank_open_channel": (
        "workspace_id",
        "origin_channel_id",
        "first_inbound_at",
        "open_until",
        "reopened",
    ),
}


def _conversation_rows(postgresql: bool, where: str) -> str:
    return (
        "INSERT INTO report_conversations (conversation_id, workspace_id, first_inbound_at, "
        "customer_id, origin_channel_id, team_id, assignee_id, priority, first_response_s, "
        "resolution_s, inbound_messages, replies, public_replies, signed_replies, reopened, "
        "channel_switches, open_until) SELECT c.id, c.workspace_id, c.first_inbound_at, "
        "c.customer_id, c.origin_channel_id, c.team_id, c.assignee_id, c.priority, "
        f"{before._seconds(postgresql, 'c.first_response_at')}, "
        f"{before._seconds(postgresql, 'c.resolved_at')}, "
        + ", ".join(before._count("messages m", kind) for kind in before.KINDS)
        + f", CASE WHEN {before._event('conversation.reopened')} > 0 THEN 1 ELSE 0 END, "
        f"{before._event('conversation.channel_switched')}, {OPEN_UNTIL} "
        f"FROM conversations c WHERE {where} "
        "AND c.first_inbound_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversation_tags t "
        "WHERE t.conversation_id = c.id AND t.tag = 'spam')"
    )


def _refresh(postgresql: bool, conversation: str) -> str:
    return "; ".join(
        (
            f"DELETE FROM report_other_channels WHERE conversation_id = {conversation}",
            f"DELETE FROM report_conversations WHERE conversation_id = {conversation}",
            _conversation_rows(postgresql, f"c.id = {conversation}"),
            before._other_channel_rows(f"r.conversation_id = {conversation}"),
        )
    )


def _sqlite_triggers() -> tuple[str, ...]:
    """0026's triggers, each refreshing the facts with ``open_until``; the conversation's
    trigger also on a status change."""
    trigger, refresh = before._sqlite_trigger, _refresh
    return (
        trigger(
            "report_conversations_insert", "AFTER INSERT ON conversations", refresh(False, "NEW.id")
        ),
        trigger(
            "report_conversations_update",
            f"AFTER UPDATE OF {', '.join(CONVERSATION_FIELDS)} ON conversations "
            f"WHEN {before._changed(CONVERSATION_FIELDS, 'IS NOT')}",
            refresh(False, "NEW.id"),
        ),
        trigger(
            "report_messages_insert",
            "AFTER INSERT ON messages",
            refresh(False, "NEW.conversation_id"),
        ),
        trigger(
            "report_messages_update",
            f"AFTER UPDATE OF {', '.join(before.MESSAGE_FIELDS)}, status ON messages "
            f"WHEN {before.MESSAGE_CHANGED_SQLITE}",
            refresh(False, "OLD.conversation_id") + "; " + refresh(False, "NEW.conversation_id"),
        ),
        trigger(
            "report_messages_delete",
            "AFTER DELETE ON messages",
            refresh(False, "OLD.conversation_id"),
        ),
        trigger(
            "report_tags_insert",
            "AFTER INSERT ON conversation_tags WHEN NEW.tag = 'spam'",
            refresh(False, "NEW.conversation_id"),
        ),
        trigger(
            "report_tags_update",
            "AFTER UPDATE ON conversation_tags WHEN OLD.tag = 'spam' OR NEW.tag = 'spam'",
            refresh(False, "OLD.conversation_id") + "; " + refresh(False, "NEW.conversation_id"),
        ),
        trigger(
            "report_tags_delete",
            "AFTER DELETE ON conversation_tags WHEN OLD.tag = 'spam'",
            refresh(False, "OLD.conversation_id"),
        ),
        trigger(
            "report_events_insert",
            "AFTER INSERT ON events WHEN NEW.subject_type = 'conversation' "
            f"AND NEW.action IN {before.EVENTS}",
            refresh(False, "NEW.subject_id"),
        ),
    )


def _postgresql_refresh_function(refresh_body: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION filrouge_report_refresh(target bigint) RETURNS void "
        "LANGUAGE plpgsql AS $$ BEGIN PERFORM 1 FROM conversations WHERE id = target FOR NO KEY "
        f"UPDATE; {refresh_body}; END $$"
    )


def _postgresql_conversation_trigger(fields: Sequence[str]) -> tuple[str, ...]:
    return (
        "DROP TRIGGER report_conversations_update ON conversations",
        before._pg_trigger(
            "report_conversations_update",
            f"AFTER UPDATE OF {', '.join(fields)} ON conversations",
            "filrouge_report_conversation",
            before._changed(fields, "IS DISTINCT FROM"),
        ),
    )


def upgrade() -> None:
    op.add_column(
        "report_conversations", sa.Column("open_until", sa.DateTime(timezone=True), nullable=True)
    )
    if op.get_bind().dialect.name == "postgresql":
        statements: tuple[str, ...] = (
            _postgresql_refresh_function(_refresh(True, "target")),
            *_postgresql_conversation_trigger(CONVERSATION_FIELDS),
        )
    else:
        statements = (
            *(f"DROP TRIGGER {name}" for name in before.SQLITE_TRIGGER_NAMES),
            *_sqlite_triggers(),
        )
    for statement in statements:
        op.execute(statement)
    if op.get_bind().dialect.name == "sqlite":
        for name, columns in RANK_INDEXES.items():
            op.create_index(  # partial on what only the walks state: no other query takes it
                name, "report_conversations", list(columns), sqlite_where=sa.text("reopened >= 0")
            )
    op.execute(  # the conversations already counted
        f"UPDATE report_conversations SET open_until = (SELECT {OPEN_UNTIL} FROM conversations c "
        "WHERE c.id = report_conversations.conversation_id)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        statements: tuple[str, ...] = (
            _postgresql_refresh_function(before._refresh(True, "target")),
            *_postgresql_conversation_trigger(before.CONVERSATION_FIELDS),
        )
    else:
        statements = (
            *(f"DROP INDEX {name}" for name in RANK_INDEXES),
            *(f"DROP TRIGGER {name}" for name in before.SQLITE_TRIGGER_NAMES),
            *before.SQLITE_TRIGGERS,
        )
    for statement in statements:
        op.execute(statement)
    op.drop_column("report_conversations", "open_until")
