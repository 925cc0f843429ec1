"""Automation rules in the background: one job per burst of events, a sweeper for no_reply.

The pipeline stays as fast as it was: a committed ``message.received`` (or a status change, an
SLA warning) only adds its ids to this process's buffer; the first of a burst starts a short
timer, and when it rings the whole buffer becomes ONE job, which runs the rules in one
transaction per batch (``core/automation/engine.py``). A job run twice applies nothing twice
(``automation_runs``). Every five minutes the sweeper runs the ``no_reply`` rules.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from huey import crontab
from sqlalchemy import func, select

from filrouge.core import events
from filrouge.core.automation.engine import (
    Occurrence,
    Trigger,
    automation_running,
    run_chain,
    status_occurrences,
)
from filrouge.core.automation.no_reply import no_reply_occurrences
from filrouge.core.events import DomainEvent
from filrouge.core.models import Message
from filrouge.jobs.queue import huey, task_factory
from filrouge.lib.timeutil import utcnow

log = logging.getLogger(__name__)
GATHER_SECONDS = 0.25
BATCH = 200  # occurrences per transaction
Item = tuple[str, int, str, int | None]  # trigger, conversation id, key, message id

_buffer: list[Item] = []
_lock = threading.Lock()
_timer: threading.Timer | None = None


@huey.task()
def run_automation(items: list[list[Any]]) -> int:
    """Run the rules for a burst of occurrences; how many actions were applied."""
    by_trigger: dict[str, list[Occurrence]] = defaultdict(list)
    for trigger, conversation_id, key, message_id in items:
        by_trigger[trigger].append(Occurrence(int(conversation_id), str(key), message_id))
    factory = task_factory()
    with factory() as session:
        received = by_trigger.pop(Trigger.MESSAGE_RECEIVED, [])
        created = _created(session, received)
        changed = by_trigger.pop(Trigger.STATUS_CHANGED, [])
        status = status_occurrences(session, {o.conversation_id for o in changed})
    ordered = [
        (Trigger.CONVERSATION_CREATED, created),
        (Trigger.MESSAGE_RECEIVED, received),
        (Trigger.STATUS_CHANGED, status),
        *by_trigger.items(),
    ]
    applied = 0
    for trigger, occurrences in ordered:
        for start in range(0, len(occurrences), BATCH):
            batch = occurrences[start : start + BATCH]
            applied += run_chain(factory, trigger, batch, utcnow()).applied
    return applied


def _created(session: Any, received: list[Occurrence]) -> list[Occurrence]:
    """The messages that opened their conversation (its first message), one query."""
    if not received:
        return []
    firsts = set(
        session.scalars(
            select(func.min(Message.id))
            .where(Message.conversation_id.in_({o.conversation_id for o in received}))
            .group_by(Message.conversation_id)
        )
    )
    return [
        Occurrence(o.conversation_id, f"created:{o.message_id}", o.message_id)
        for o in received
        if o.message_id in firsts
    ]


@huey.periodic_task(crontab(minute="*/5"))
def sweep_no_reply() -> int:
    return run_no_reply()


def run_no_reply(now: Any = None) -> int:
    """Run the no_reply rules now (``now``: a clock for tests)."""
    moment = now or utcnow()
    factory = task_factory()
    with factory() as session:
        occurrences = no_reply_occurrences(session, moment)
    applied = 0
    for start in range(0, len(occurrences), BATCH):
        batch = occurrences[start : start + BATCH]
        applied += run_chain(factory, Trigger.NO_REPLY, batch, moment).applied
    return applied


def add_to_burst(item: Item) -> None:
    """Buffer one occurrence; the first of a burst plans the job (in tests: at once)."""
    global _timer
    with _lock:
        _buffer.append(item)
        if huey.immediate:
            start = False
        else:
            start = _timer is None
            if start:
                _timer = threading.Timer(GATHER_SECONDS, flush_burst)
                _timer.daemon = True
    if huey.immediate:
        flush_burst()
    elif start and _timer is not None:
        _timer.start()


def flush_burst() -> None:
    global _timer
    with _lock:
        items = [list(item) for item in _buffer]
        _buffer.clear()
        _timer = None
    if items:
        run_automation(items)


def on_message_received(event: DomainEvent) -> None:
    message_id = int(event.payload["message_id"])
    add_to_burst(
        (
            Trigger.MESSAGE_RECEIVED,
            int(event.payload["conversation_id"]),
            f"message:{message_id}",
            message_id,
        )
    )


def on_conversation_updated(event: DomainEvent) -> None:
    if event.payload.get("status_changed") and not automation_running():
        add_to_burst((Trigger.STATUS_CHANGED, int(event.payload["conversation_id"]), "", None))


def on_sla_warning(event: DomainEvent) -> None:
    """``sla.warning`` (SLA policies): ``conversation_id`` and what makes it one (``key``)."""
    key = str(event.payload.get("key") or event.payload.get("due_at") or "")
    add_to_burst(
        (Trigger.SLA_WARNING, int(event.payload["conversation_id"]), f"sla:{key}"[:64], None)
    )


SUBSCRIPTIONS = (
    ("message.received", on_message_received),
    ("conversation.updated", on_conversation_updated),
    ("sla.warning", on_sla_warning),
)


def install() -> None:
    """Run the rules on every event committed from now on (idempotent)."""
    for name, handler in SUBSCRIPTIONS:
        events.unsubscribe(name, handler)
        events.subscribe(name, handler)
