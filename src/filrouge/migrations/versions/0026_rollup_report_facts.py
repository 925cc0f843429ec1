"""the reports' facts: one narrow row per conversation a report may count (its cuts, its
durations, its messages counted, reopened, channel switches) and one per other channel its
messages travelled on, kept by triggers in the transaction of every write that changes them
(conversations, messages, spam tags, reopening and channel-switch events); existing
conversations are counted here. The SQL is a frozen copy of core/indicators/facts.py's.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

CUSTOMER_MESSAGE = (
    "m.direction = 'inbound' AND (m.flag IS NULL OR m.flag NOT IN "
    "('auto_reply', 'automatic', 'bounce', 'bulk', 'system'))"
)
NOT_A_REPLY = "('awaiting_approval', 'rejected')"
HUMAN_REPLY = (
    f"m.direction = 'outbound' AND m.author_id IS NOT NULL AND m.status NOT IN {NOT_A_REPLY}"
)
PUBLIC_REPLY = f"{HUMAN_REPLY} AND m.visibility = 'public'"
SIGNED_REPLY = f"{HUMAN_REPLY} AND m.signed_by_id IS NOT NULL"
KINDS = (CUSTOMER_MESSAGE, HUMAN_REPLY, PUBLIC_REPLY, SIGNED_REPLY)
EVENTS = "('conversation.reopened', 'conversation.channel_switched')"
CONVERSATION_FIELDS = (
    "workspace_id",
    "customer_id",
    "origin_channel_id",
    "team_id",
    "assignee_id",
    "priority",
    "first_inbound_at",
    "first_response_at",
    "resolved_at",
)
MESSAGE_FIELDS = (
    "conversation_id",
    "channel_id",
    "direction",
    "author_id",
    "signed_by_id",
    "visibility",
    "flag",
)


def _seconds(postgresql: bool, end: str) -> str:
    if postgresql:
        return f"CAST(EXTRACT(epoch FROM {end} - c.first_inbound_at) AS DOUBLE PRECISION)"
    return f"(julianday({end}) - julianday(c.first_inbound_at)) * 86400.0"


def _count(table: str, condition: str) -> str:
    key = "m.conversation_id" if table == "messages m" else "e.subject_id"
    return f"(SELECT count(*) FROM {table} WHERE {key} = c.id AND {condition})"


def _event(action: str) -> str:
    return _count("events e", f"e.subject_type = 'conversation' AND e.action = '{action}'")


def _conversation_rows(postgresql: bool, where: str) -> str:
    return (
        "INSERT INTO report_conversations (conversation_id, workspace_id, first_inbound_at, "
        "customer_id, origin_channel_id, team_id, assignee_id, priority, first_response_s, "
        "resolution_s, inbound_messages, replies, public_replies, signed_replies, reopened, "
        "channel_switches) SELECT c.id, c.workspace_id, c.first_inbound_at, c.customer_id, "
        "c.origin_channel_id, c.team_id, c.assignee_id, c.priority, "
        f"{_seconds(postgresql, 'c.first_response_at')}, {_seconds(postgresql, 'c.resolved_at')}, "
        + ", ".join(_count("messages m", kind) for kind in KINDS)
        + f", CASE WHEN {_event('conversation.reopened')} > 0 THEN 1 ELSE 0 END, "
        f"{_event('conversation.channel_switched')} FROM conversations c WHERE {where} "
        "AND c.first_inbound_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversation_tags t "
        "WHERE t.conversation_id = c.id AND t.tag = 'spam')"
    )


def _other_channel_rows(where: str) -> str:
    return (
        "INSERT INTO report_other_channels (conversation_id, channel_id, inbound_messages, "
        "replies, public_replies, signed_replies) SELECT m.conversation_id, m.channel_id, "
        + ", ".join(f"sum(CASE WHEN {kind} THEN 1 ELSE 0 END)" for kind in KINDS)
        + " FROM report_conversations r JOIN messages m ON m.conversation_id = r.conversation_id "
        f"AND m.channel_id <> r.origin_channel_id WHERE {where} "
        "GROUP BY m.conversation_id, m.channel_id"
    )


def _refresh(postgresql: bool, conversation: str) -> str:
    return "; ".join(
        (
            f"DELETE FROM report_other_channels WHERE conversation_id = {conversation}",
            f"DELETE FROM report_conversations WHERE conversation_id = {conversation}",
            _conversation_rows(postgresql, f"c.id = {conversation}"),
            _other_channel_rows(f"r.conversation_id = {conversation}"),
        )
    )


def _changed(fields: Sequence[str], distinct: str) -> str:
    moved = [f"OLD.{name} {distinct} NEW.{name}" for name in fields]
    return " OR ".join(moved)


MESSAGE_CHANGED_SQLITE = (
    _changed(MESSAGE_FIELDS, "IS NOT")
    + f" OR (OLD.status IN {NOT_A_REPLY}) IS NOT (NEW.status IN {NOT_A_REPLY})"
)
MESSAGE_CHANGED_POSTGRESQL = (
    _changed(MESSAGE_FIELDS, "IS DISTINCT FROM")
    + f" OR (OLD.status IN {NOT_A_REPLY}) IS DISTINCT FROM (NEW.status IN {NOT_A_REPLY})"
)


def _sqlite_trigger(name: str, when: str, body: str) -> str:
    return f"CREATE TRIGGER {name} {when} BEGIN {body}; END"


SQLITE_TRIGGERS = (
    _sqlite_trigger(
        "report_conversations_insert", "AFTER INSERT ON conversations", _refresh(False, "NEW.id")
    ),
    _sqlite_trigger(
        "report_conversations_update",
        f"AFTER UPDATE OF {', '.join(CONVERSATION_FIELDS)} ON conversations "
        f"WHEN {_changed(CONVERSATION_FIELDS, 'IS NOT')}",
        _refresh(False, "NEW.id"),
    ),
    _sqlite_trigger(
        "report_messages_insert",
        "AFTER INSERT ON messages",
        _refresh(False, "NEW.conversation_id"),
    ),
    _sqlite_trigger(
        "report_messages_update",
        f"AFTER UPDATE OF {', '.join(MESSAGE_FIELDS)}, status ON messages "
        f"WHEN {MESSAGE_CHANGED_SQLITE}",
        _refresh(False, "OLD.conversation_id") + "; " + _refresh(False, "NEW.conversation_id"),
    ),
    _sqlite_trigger(
        "report_messages_delete", "AFTER DELETE ON messages", _refresh(False, "OLD.conversation_id")
    ),
    _sqlite_trigger(
        "report_tags_insert",
        "AFTER INSERT ON conversation_tags WHEN NEW.tag = 'spam'",
        _refresh(False, "NEW.conversation_id"),
    ),
    _sqlite_trigger(
        "report_tags_update",
        "AFTER UPDATE ON conversation_tags WHEN OLD.tag = 'spam' OR NEW.tag = 'spam'",
        _refresh(False, "OLD.conversation_id") + "; " + _refresh(False, "NEW.conversation_id"),
    ),
    _sqlite_trigger(
        "report_tags_delete",
        "AFTER DELETE ON conversation_tags WHEN OLD.tag = 'spam'",
        _refresh(False, "OLD.conversation_id"),
    ),
    _sqlite_trigger(
        "report_events_insert",
        f"AFTER INSERT ON events WHEN NEW.subject_type = 'conversation' AND NEW.action IN {EVENTS}",
        _refresh(False, "NEW.subject_id"),
    ),
)
SQLITE_TRIGGER_NAMES = (
    "report_conversations_insert",
    "report_conversations_update",
    "report_messages_insert",
    "report_messages_update",
    "report_messages_delete",
    "report_tags_insert",
    "report_tags_update",
    "report_tags_delete",
    "report_events_insert",
)


def _plpgsql(name: str, body: str, returns: str = "trigger", argument: str = "") -> str:
    return (
        f"CREATE FUNCTION {name}({argument}) RETURNS {returns} LANGUAGE plpgsql AS $$ "
        f"BEGIN {body} END $$"
    )


def _pg_trigger(name: str, when: str, function: str, condition: str = "") -> str:
    guard = f" WHEN ({condition})" if condition else ""
    return f"CREATE TRIGGER {name} {when} FOR EACH ROW{guard} EXECUTE FUNCTION {function}()"


# The conversation row is locked first, so two transactions writing the same conversation's
# facts take turns, and the second counts what the first committed.
POSTGRESQL_FUNCTIONS = (
    _plpgsql(
        "filrouge_report_refresh",
        "PERFORM 1 FROM conversations WHERE id = target FOR NO KEY UPDATE; "
        f"{_refresh(True, 'target')};",
        returns="void",
        argument="target bigint",
    ),
    _plpgsql(
        "filrouge_report_conversation", "PERFORM filrouge_report_refresh(NEW.id); RETURN NULL;"
    ),
    _plpgsql(
        "filrouge_report_child",
        "IF TG_OP = 'DELETE' THEN PERFORM filrouge_report_refresh(OLD.conversation_id); "
        "RETURN NULL; END IF; PERFORM filrouge_report_refresh(NEW.conversation_id); "
        "IF TG_OP = 'UPDATE' THEN IF OLD.conversation_id IS DISTINCT FROM NEW.conversation_id "
        "THEN PERFORM filrouge_report_refresh(OLD.conversation_id); END IF; END IF; "
        "RETURN NULL;",
    ),
    _plpgsql(
        "filrouge_report_event", "PERFORM filrouge_report_refresh(NEW.subject_id); RETURN NULL;"
    ),
)
POSTGRESQL_TRIGGERS = (
    _pg_trigger(
        "report_conversations_insert",
        "AFTER INSERT ON conversations",
        "filrouge_report_conversation",
    ),
    _pg_trigger(
        "report_conversations_update",
        f"AFTER UPDATE OF {', '.join(CONVERSATION_FIELDS)} ON conversations",
        "filrouge_report_conversation",
        _changed(CONVERSATION_FIELDS, "IS DISTINCT FROM"),
    ),
    _pg_trigger(
        "report_messages_insert_delete",
        "AFTER INSERT OR DELETE ON messages",
        "filrouge_report_child",
    ),
    _pg_trigger(
        "report_messages_update",
        f"AFTER UPDATE OF {', '.join(MESSAGE_FIELDS)}, status ON messages",
        "filrouge_report_child",
        MESSAGE_CHANGED_POSTGRESQL,
    ),
    _pg_trigger(
        "report_tags_insert",
        "AFTER INSERT ON conversation_tags",
        "filrouge_report_child",
        "NEW.tag = 'spam'",
    ),
    _pg_trigger(
        "report_tags_update",
        "AFTER UPDATE ON conversation_tags",
        "filrouge_report_child",
        "OLD.tag = 'spam' OR NEW.tag = 'spam'",
    ),
    _pg_trigger(
        "report_tags_delete",
        "AFTER DELETE ON conversation_tags",
        "filrouge_report_child",
        "OLD.tag = 'spam'",
    ),
    _pg_trigger(
        "report_events_insert",
        "AFTER INSERT ON events",
        "filrouge_report_event",
        f"NEW.subject_type = 'conversation' AND NEW.action IN {EVENTS}",
    ),
)
POSTGRESQL_TRIGGER_TABLES = {
    "report_conversations_insert": "conversations",
    "report_conversations_update": "conversations",
    "report_messages_insert_delete": "messages",
    "report_messages_update": "messages",
    "report_tags_insert": "conversation_tags",
    "report_tags_update": "conversation_tags",
    "report_tags_delete": "conversation_tags",
    "report_events_insert": "events",
}
POSTGRESQL_FUNCTION_NAMES = (
    "filrouge_report_event()",
    "filrouge_report_child()",
    "filrouge_report_conversation()",
    "filrouge_report_refresh(bigint)",
)


def _create_tables() -> None:
    op.create_table(
        "report_conversations",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("first_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("origin_channel_id", ID, nullable=False),
        sa.Column("team_id", ID, nullable=True),
        sa.Column("assignee_id", ID, nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("first_response_s", sa.Float(), nullable=True),
        sa.Column("resolution_s", sa.Float(), nullable=True),
        sa.Column("inbound_messages", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("public_replies", sa.Integer(), nullable=False),
        sa.Column("signed_replies", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("channel_switches", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_report_conversations_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "first_inbound_at",
            "conversation_id",
            name=op.f("pk_report_conversations"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_report_conversations_conversation",
        "report_conversations",
        ["conversation_id"],
        unique=True,
    )
    op.create_table(
        "report_other_channels",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("inbound_messages", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("public_replies", sa.Integer(), nullable=False),
        sa.Column("signed_replies", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_report_other_channels_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "conversation_id", "channel_id", name=op.f("pk_report_other_channels")
        ),
    )


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    _create_tables()
    postgresql = _is_postgresql()
    for statement in (
        *(POSTGRESQL_FUNCTIONS + POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS),
        _conversation_rows(postgresql, "1 = 1"),
        _other_channel_rows("1 = 1"),
    ):
        op.execute(statement)


def downgrade() -> None:
    if _is_postgresql():
        for name, table in POSTGRESQL_TRIGGER_TABLES.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for function in POSTGRESQL_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION {function}")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("report_other_channels")
    op.drop_index("ix_report_conversations_conversation", table_name="report_conversations")
    op.drop_table("report_conversations")
