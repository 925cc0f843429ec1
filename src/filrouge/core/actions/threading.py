"""Choosing the conversation an inbound message belongs to.

0. A sender whose trust does not match the identity it claims (an unverified visitor typing
   a verified customer's address) always starts a new conversation: never into a thread.
1. An explicit hint wins: ``in_reply_to`` (an earlier message's provider id, e.g. an email's
   In-Reply-To/References) or the provider's ``thread_key``, among the sender's own
   conversations. A hint to a closed conversation starts a follow-up instead of reopening it.
2. Else the customer's latest conversation that is not closed continues, whatever channel it
   was on, if its last activity is within the thread window. A public post only continues a
   public conversation, so that nothing private is ever answered in public by default.
3. Else a new conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row

from filrouge.channels.base import NormalisedInbound
from filrouge.core.actions import inbound_sql as sql
from filrouge.core.models.enums import ConversationStatus, Visibility


@dataclass(frozen=True)
class ThreadChoice:
    conversation: Row[Any] | None  # a row of ``inbound_sql.CONVERSATION_STATE``
    reason: str  # "in_reply_to", "thread_key", "window" or "new"
    follow_up_of: int | None = None


def choose_conversation(
    conn: Connection,
    customer_id: int,
    inbound: NormalisedInbound,
    occurred_at: datetime,
    window: timedelta,
    trusted: bool = True,
) -> ThreadChoice:
    if not trusted:
        return ThreadChoice(None, "untrusted_sender")
    hinted = _hinted_conversation(conn, customer_id, inbound)
    if hinted is not None:
        conversation, reason = hinted
        if conversation.status != ConversationStatus.CLOSED:
            return ThreadChoice(conversation, reason)
        return ThreadChoice(None, "new", follow_up_of=conversation.id)
    public = inbound.visibility == Visibility.PUBLIC
    latest = conn.execute(
        sql.LATEST_OPEN_PUBLIC if public else sql.LATEST_OPEN, {"customer_id": customer_id}
    ).first()
    if latest is not None and occurred_at - latest.last_activity_at <= window:
        return ThreadChoice(latest, "window")
    return ThreadChoice(None, "new")


def _hinted_conversation(
    conn: Connection, customer_id: int, inbound: NormalisedInbound
) -> tuple[Row[Any], str] | None:
    if inbound.in_reply_to:
        conversation_id = conn.execute(
            sql.REPLIED_CONVERSATION,
            {"provider_ids": list(inbound.in_reply_to), "customer_id": customer_id},
        ).scalar()
        if conversation_id is not None:
            return _state(conn, conversation_id), "in_reply_to"
    if inbound.thread_key:
        key = find_thread_key(conn, inbound.channel_id, inbound.thread_key, customer_id)
        if key is not None:
            return _state(conn, key.conversation_id), "thread_key"
    return None


def find_thread_key(
    conn: Connection, channel_id: int, key: str, customer_id: int
) -> Row[Any] | None:
    return conn.execute(
        sql.THREAD_KEY, {"channel_id": channel_id, "key": key, "customer_id": customer_id}
    ).first()


def _state(conn: Connection, conversation_id: int) -> Row[Any]:
    return conn.execute(sql.CONVERSATION_BY_ID, {"conversation_id": conversation_id}).one()
