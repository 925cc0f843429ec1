"""In-process events, published only after the transaction that caused them commits.

Later consumers (realtime UI, triage, SLA timers, deliveries) subscribe here; a rolled-back
transaction publishes nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    name: str
    payload: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[DomainEvent], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)
_PENDING_KEY = "filrouge_pending_events"


def subscribe(name: str, handler: Handler) -> None:
    """Call ``handler`` for every committed event called ``name`` (``*`` for all)."""
    _handlers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers.get(name, []):
        _handlers[name].remove(handler)


def publish_after_commit(session: Session, name: str, **payload: Any) -> None:
    """Queue an event on the session; it is delivered once the session commits."""
    session.info.setdefault(_PENDING_KEY, []).append(DomainEvent(name, payload))


def _deliver(events: list[DomainEvent]) -> None:
    for domain_event in events:
        for handler in [*_handlers.get(domain_event.name, []), *_handlers.get("*", [])]:
            try:
                handler(domain_event)
            except Exception:  # a consumer's bug must not undo a committed message
                log.exception("event handler failed for %s", domain_event.name)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    _deliver(session.info.pop(_PENDING_KEY, []))


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
