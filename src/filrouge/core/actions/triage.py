"""Triage in the inbound pipeline: every stored inbound message gets its language, type,
sentiment, signals and priority, and its conversation's priority is raised to match.

The pipeline stages each message it stores (``stage_triage``); just before the transaction
commits, the whole batch is classified in one call (``triage_staged``), its rows written in one
statement, and the conversations whose priority must rise are raised. The classifier failing
never loses a message: the batch is stored untriaged, and the failure is logged
(``filrouge triage backfill`` tries again later).

The conversation's ``priority`` stays the one source of truth: a high or urgent message only
ever raises it (never lowers what a person or a rule set), through ``raise_priorities``, with
the event ``conversation.priority_changed`` (reason ``triage``), as an SLA breach raises it
through ``update_conversation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from filrouge.core.audit import Actor, record_event, write_staged_events
from filrouge.core.events import publish_after_commit
from filrouge.core.models import Conversation, MessageTriage
from filrouge.core.models.enums import Priority
from filrouge.core.triage_context import TriageItem, contexts_of
from filrouge.lib.timeutil import utcnow
from filrouge.triage.service import classify_safely
from filrouge.triage.types import Triage

_STAGED_KEY = "filrouge_triage_staged"
RANKS = {str(p): rank for rank, p in enumerate(Priority)}  # low < normal < high < urgent
RAISING = frozenset({Priority.HIGH, Priority.URGENT})  # what a message's triage escalates
_INSERT = insert(MessageTriage)


def stage_triage(
    session: Session, item: TriageItem, data_dir: Path, languages: Sequence[str]
) -> None:
    """Triage ``item`` with the rest of the transaction's messages, just before commit."""
    staged = session.info.setdefault(
        _STAGED_KEY, {"data_dir": data_dir, "languages": tuple(languages), "items": []}
    )
    staged["items"].append(item)


def triage_staged(session: Session) -> None:
    """Classify what was staged (done for you before every commit)."""
    staged = session.info.pop(_STAGED_KEY, None)
    if not staged:
        return
    items: list[TriageItem] = staged["items"]
    found = store_triage(session, items, staged["data_dir"], staged["languages"])
    if found:
        wanted: dict[int, list[tuple[str, Any]]] = {}
        for item, triage in zip(items, found, strict=True):
            if not item.automatic and triage is not None and triage.priority in RAISING:
                wanted.setdefault(item.conversation_id, []).append((triage.priority, item))
        raise_priorities(session, wanted, Actor.system())
    write_staged_events(session)


def store_triage(
    session: Session, items: Sequence[TriageItem], data_dir: Path, languages: Sequence[str]
) -> list[Triage] | None:
    """Classify ``items`` and write their rows; ``None`` when the classifier failed."""
    if not items:
        return []
    contexts = contexts_of(session, items)
    result = classify_safely(data_dir, languages, [item.text for item in items], contexts)
    if result is None:
        return None
    found, version = result
    rows = [
        triage_row(item.message_id, one, version) for item, one in zip(items, found, strict=True)
    ]
    session.connection().execute(_INSERT, rows)
    return found


def triage_row(message_id: int, found: Triage, version: str) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "language": found.language[:8],
        "type": found.type,
        "sentiment": found.sentiment,
        "sentiment_score": float(found.sentiment_score),
        "priority": found.priority,
        "signals": list(found.signals),
        "model_version": version[:64],
        "corrected": False,
        "created_at": utcnow(),
    }


def raise_priorities(
    session: Session, wanted: dict[int, list[tuple[str, Any]]], actor: Actor
) -> None:
    """Each conversation to the highest priority asked for it, when that is higher than its
    own; ``wanted``: conversation id → [(priority, what asked: has ``message_id``)]."""
    if not wanted:
        return
    rows = session.execute(
        select(Conversation.id, Conversation.workspace_id, Conversation.priority).where(
            Conversation.id.in_(wanted)
        )
    )
    for row in rows:
        priority, cause = max(wanted[row.id], key=lambda pair: RANKS.get(pair[0], 0))
        if RANKS.get(priority, 0) > RANKS.get(row.priority, 1):
            _raise(session, row, priority, cause.message_id, actor)


def _raise(session: Session, row: Any, priority: str, message_id: int, actor: Actor) -> None:
    session.execute(
        update(Conversation)
        .where(Conversation.id == row.id)
        .values(priority=priority, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    record_event(
        session,
        row.workspace_id,
        actor,
        ("conversation", row.id),
        "conversation.priority_changed",
        before={"priority": row.priority},
        after={"priority": priority, "reason": "triage", "message_id": message_id},
    )
    publish_after_commit(session, "conversation.updated", conversation_id=row.id)


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    triage_staged(session)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_STAGED_KEY, None)
