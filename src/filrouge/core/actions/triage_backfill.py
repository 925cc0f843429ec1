"""``filrouge triage backfill``: messages stored before triage existed (or while the classifier
failed) are triaged by chunks, one transaction each, oldest first. Conversations' priorities
are left as they are: they were worked on without it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.actions.triage import store_triage
from filrouge.core.models import Conversation, Message, MessageTriage
from filrouge.core.models.enums import AUTOMATIC_FLAGS, Direction, Visibility
from filrouge.core.triage_context import TriageItem
from filrouge.db import transaction


class BackfillFailed(RuntimeError):
    """The classifier failed on a chunk (the log says why); what was done stays done."""


def backfill_triage(
    factory: sessionmaker[Session],
    data_dir: Path,
    languages: Sequence[str],
    chunk: int = 500,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Triage every inbound message without a triage; the number triaged."""
    after, done = 0, 0
    while True:
        with transaction(factory) as session:
            items = _untriaged(session, after, chunk)
            if not items:
                return done
            if store_triage(session, items, data_dir, languages) is None:
                raise BackfillFailed(f"the classifier failed after {done} messages")
        after, done = items[-1].message_id, done + len(items)
        if on_chunk is not None:
            on_chunk(done)


def _untriaged(session: Session, after: int, chunk: int) -> list[TriageItem]:
    rows = session.execute(
        select(
            Message.id,
            Message.conversation_id,
            Message.identity_id,
            Message.text,
            Message.visibility,
            Message.occurred_at,
            Message.flag,
            Conversation.workspace_id,
            Conversation.customer_id,
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(MessageTriage, MessageTriage.message_id == Message.id)
        .where(
            Message.direction == Direction.INBOUND,
            MessageTriage.message_id.is_(None),
            Message.id > after,
        )
        .order_by(Message.id)
        .limit(chunk)
    )
    return [_item(row) for row in rows]


def _item(row: Any) -> TriageItem:
    return TriageItem(
        message_id=row.id,
        conversation_id=row.conversation_id,
        workspace_id=row.workspace_id,
        customer_id=row.customer_id,
        identity_id=row.identity_id,
        text=row.text or "",
        public=row.visibility == Visibility.PUBLIC,
        occurred_at=row.occurred_at,
        automatic=row.flag in AUTOMATIC_FLAGS,
    )
