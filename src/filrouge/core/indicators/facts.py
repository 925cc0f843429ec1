"""The SQL that writes the reports' facts (core/models/report.py) from the tables, for one
conversation (the triggers of migrations 0026 and 0027 run it in the transaction of every write that
changes a figure's input) or for all of them (``rebuild_report_facts``: after writing rows
around the pipeline, or to prove nothing drifted). The definitions are docs/METRICS.md's, the
same as the raw SQL of ``indicators/reference.py``; a test checks that both agree."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from filrouge.core.models.enums import AUTOMATIC_FLAGS, ConversationStatus, DeliveryStatus

SPAM_TAG = "spam"
REOPENED = "conversation.reopened"
CHANNEL_SWITCH = "conversation.channel_switched"


def _listed(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in sorted(values))


CUSTOMER_MESSAGE = (
    f"m.direction = 'inbound' AND (m.flag IS NULL OR m.flag NOT IN ({_listed(AUTOMATIC_FLAGS)}))"
)
HUMAN_REPLY = (
    "m.direction = 'outbound' AND m.author_id IS NOT NULL AND m.status NOT IN "
    f"({_listed((DeliveryStatus.AWAITING_APPROVAL, DeliveryStatus.REJECTED))})"
)
PUBLIC_REPLY = f"{HUMAN_REPLY} AND m.visibility = 'public'"
SIGNED_REPLY = f"{HUMAN_REPLY} AND m.signed_by_id IS NOT NULL"
COUNTS = ", ".join(
    f"sum(CASE WHEN {kind} THEN 1 ELSE 0 END)"
    for kind in (CUSTOMER_MESSAGE, HUMAN_REPLY, PUBLIC_REPLY, SIGNED_REPLY)
)
UNFINISHED = (ConversationStatus.NEW, ConversationStatus.OPEN, ConversationStatus.PENDING)
# When the conversation stopped being open (the backlog, docs/METRICS.md): never while it is
# unfinished; at its resolution; a conversation closed without one was open at no moment.
OPEN_UNTIL = (
    f"CASE WHEN c.status IN ({_listed(UNFINISHED)}) THEN NULL WHEN c.resolved_at IS NOT NULL "
    "THEN c.resolved_at ELSE c.first_inbound_at END"
)
CONVERSATION_COLUMNS = (
    "conversation_id, workspace_id, first_inbound_at, customer_id, origin_channel_id, team_id, "
    "assignee_id, priority, first_response_s, resolution_s, inbound_messages, replies, "
    "public_replies, signed_replies, reopened, channel_switches, open_until"
)
OTHER_COLUMNS = (
    "conversation_id, channel_id, inbound_messages, replies, public_replies, signed_replies"
)


def seconds(dialect: str, start: str, end: str) -> str:
    """As ``sqlfn.seconds_between``, written out: the same arithmetic gives the same values."""
    if dialect == "postgresql":
        return f"CAST(EXTRACT(epoch FROM {end} - {start}) AS DOUBLE PRECISION)"
    return f"(julianday({end}) - julianday({start})) * 86400.0"


def _count(condition: str) -> str:
    return f"(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND {condition})"


def _event(action: str) -> str:
    return (
        "(SELECT count(*) FROM events e WHERE e.subject_type = 'conversation' "
        f"AND e.subject_id = c.id AND e.action = '{action}')"
    )


def conversation_rows(dialect: str, where: str = "1 = 1") -> str:
    """INSERT … SELECT of the facts of the conversations ``where`` names (alias ``c``)."""
    return (
        f"INSERT INTO report_conversations ({CONVERSATION_COLUMNS}) SELECT c.id, c.workspace_id, "
        "c.first_inbound_at, c.customer_id, c.origin_channel_id, c.team_id, c.assignee_id, "
        f"c.priority, {seconds(dialect, 'c.first_inbound_at', 'c.first_response_at')}, "
        f"{seconds(dialect, 'c.first_inbound_at', 'c.resolved_at')}, "
        f"{_count(CUSTOMER_MESSAGE)}, {_count(HUMAN_REPLY)}, "
        f"{_count(PUBLIC_REPLY)}, "
        f"{_count(SIGNED_REPLY)}, "
        f"CASE WHEN {_event(REOPENED)} > 0 THEN 1 ELSE 0 END, {_event(CHANNEL_SWITCH)}, "
        f"{OPEN_UNTIL} FROM conversations c WHERE {where} AND c.first_inbound_at IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM conversation_tags t WHERE t.conversation_id = c.id "
        f"AND t.tag = '{SPAM_TAG}')"
    )


def other_channel_rows(where: str = "1 = 1") -> str:
    """INSERT … SELECT of the counts of messages that travelled on another channel than the
    one their conversation began on (``where`` on alias ``r``, the conversation's facts)."""
    return (
        f"INSERT INTO report_other_channels ({OTHER_COLUMNS}) SELECT m.conversation_id, "
        f"m.channel_id, {COUNTS} FROM report_conversations r JOIN messages m "
        "ON m.conversation_id = r.conversation_id AND m.channel_id <> r.origin_channel_id "
        f"WHERE {where} GROUP BY m.conversation_id, m.channel_id"
    )


def refresh_statements(dialect: str, conversation: str) -> tuple[str, ...]:
    """The facts of one conversation written again (``conversation``: an SQL expression)."""
    return (
        f"DELETE FROM report_other_channels WHERE conversation_id = {conversation}",
        f"DELETE FROM report_conversations WHERE conversation_id = {conversation}",
        conversation_rows(dialect, f"c.id = {conversation}"),
        other_channel_rows(f"r.conversation_id = {conversation}"),
    )


def rebuild_report_facts(session: Session) -> int:
    """Every conversation's facts written again from the tables; the number of rows."""
    dialect = session.get_bind().dialect.name
    session.execute(text("DELETE FROM report_other_channels"))
    session.execute(text("DELETE FROM report_conversations"))
    session.execute(text(conversation_rows(dialect)))
    session.execute(text(other_channel_rows()))
    return int(session.execute(text("SELECT count(*) FROM report_conversations")).scalar_one())
