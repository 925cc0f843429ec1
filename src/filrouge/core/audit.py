"""Appending to the event log. Every action that changes state records what it changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from filrouge.core.models import Event
from filrouge.core.models.enums import ActorKind
from filrouge.lib.timeutil import utcnow


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


def record_event(
    session: Session,
    workspace_id: int,
    actor: Actor,
    subject: tuple[str, int],
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Event:
    """Append one event. Events are never updated or deleted (the database refuses it)."""
    subject_type, subject_id = subject
    event = Event(
        workspace_id=workspace_id,
        occurred_at=utcnow(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        subject_type=subject_type,
        subject_id=subject_id,
        action=action,
        before=before,
        after=after,
    )
    session.add(event)
    return event
