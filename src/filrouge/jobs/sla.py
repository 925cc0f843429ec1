"""Service levels worked out in the background: one job soon after a burst of messages,
replies or status changes, and a minute sweeper (warnings and breaches that have come, and
whatever a lost job left). The conversation row is the truth: working it out twice is harmless.
"""

from __future__ import annotations

import logging
import time

from huey import crontab
from huey.exceptions import TaskLockedException

from filrouge.core.actions.sla import conversations_to_refresh, refresh_sla
from filrouge.core.events import DomainEvent, subscribe, unsubscribe
from filrouge.db import transaction
from filrouge.jobs.queue import huey, task_factory
from filrouge.lib.timeutil import utcnow

log = logging.getLogger(__name__)
WAITING_FLAG = "sla-refresh-waiting"
GATHER_SECONDS = 1.0
# Conversations per transaction: on SQLite a transaction holds the one write lock, so a batch
# stays short (~0.2 s at the figure of benchmarks/sla.py) and webhook deliveries get their turn.
BATCH = 50
MAX_PASSES = 100  # batches one job works out before it leaves the rest to the next
TRIGGERS = ("message.received", "reply.added", "message.queued", "conversation.updated")
_planned_at = -GATHER_SECONDS  # when this process last planned a job (monotonic clock)


@huey.task()
def refresh_conversations() -> int:
    huey.get(WAITING_FLAG)  # from now on, a new change plans a new job
    return refresh_due()


def refresh_due() -> int:
    """Work out every conversation that needs it, batch by batch; one job at a time."""
    factory = task_factory()
    total = 0
    try:
        with huey.lock_task("sla-refresh"):
            for _ in range(MAX_PASSES):
                now = utcnow()
                with transaction(factory) as session:
                    ids = conversations_to_refresh(session, now, BATCH)
                    done = refresh_sla(session, ids, now)
                total += done
                if len(ids) < BATCH:
                    break
    except TaskLockedException:  # another job is at it: look again once it is done
        if not huey.immediate:
            refresh_conversations.schedule(delay=GATHER_SECONDS)
        return 0
    return total


def schedule_refresh(event: DomainEvent | None = None) -> None:
    """One job for a burst of changes (in tests, at once). A job planned by this process less
    than ``GATHER_SECONDS`` ago has not started yet and will see this change: nothing to ask
    the queue, so a burst of 2,000 messages costs one job, not 2,000 calls."""
    global _planned_at
    moment = time.monotonic()
    if not huey.immediate and moment - _planned_at < GATHER_SECONDS:
        return
    _planned_at = moment
    if not huey.put_if_empty(WAITING_FLAG, "1"):
        return
    if huey.immediate:
        refresh_conversations()
    else:
        refresh_conversations.schedule(delay=GATHER_SECONDS)


@huey.periodic_task(crontab(minute="*"))
def sweep_sla() -> int:
    done = refresh_due()
    if done:
        log.info("service levels: %d conversations worked out", done)
    return done


def install() -> None:
    """Work out service levels after every change from now on (idempotent)."""
    for name in TRIGGERS:
        unsubscribe(name, schedule_refresh)
        subscribe(name, schedule_refresh)
