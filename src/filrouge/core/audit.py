"""Appending to the event log. Every action that changes state records what it changed.

Events are staged on the session and written together, in one statement, just before the
transaction commits: the log costs one round trip per transaction, not one per event. The
database refuses any later UPDATE or DELETE of an event (see the first migration), except one
redaction of its ``before`` and ``after`` when a customer is erased (migration 0014).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.orm import Session

from filrouge.core.models import Event
from filrouge.core.models.enums import ActorKind
from filrouge.lib.timeutil import utcnow

_STAGED_KEY = "filrouge_staged_events"
_INSERT_EVENTS = insert(Event)


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @classmethod
    def user(cls, user_id: int) -> Actor:
        return cls(ActorKind.USER, user_id)

    @classmethod
    def channel(cls, channel_id: int) -> Actor:
        return cls(ActorKind.CHANNEL, channel_id)


def record_event(
    session: Session,
    workspace_id: int,
    actor: Actor,
    subject: tuple[str, int],
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Stage one event; it is written with the transaction that made the change."""
    subject_type, subject_id = subject
    session.info.setdefault(_STAGED_KEY, []).append(
        {
            "workspace_id": workspace_id,
            "occurred_at": utcnow(),
            "actor_kind": str(actor.kind),
            "actor_id": actor.id,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "action": action,
            "before": before,
            "after": after,
        }
    )


def write_staged_events(session: Session) -> None:
    """Write the staged events now (done for you before every commit)."""
    rows = session.info.pop(_STAGED_KEY, None)
    if rows:
        session.connection().execute(_INSERT_EVENTS, rows)


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write_staged_events(session)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_STAGED_KEY, None)
