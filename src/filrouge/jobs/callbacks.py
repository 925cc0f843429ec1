"""Callback tasks: place a call through the channel's telephony provider, and every minute
put the missed callbacks whose next attempt is due back in the agents' queue.

The ``callback_requests`` row is the truth (status, ``next_attempt_at``): a lost sweep is
made up by the next one, and a lost call job leaves the agent a number to dial by hand.
"""

from __future__ import annotations

import logging

from huey import crontab

from filrouge.core.actions.callback_calls import place_callback_call, requeue_due_retries
from filrouge.db import transaction
from filrouge.jobs.queue import huey, task_factory

log = logging.getLogger(__name__)


@huey.task()
def place_call(callback_id: int) -> str | None:
    with huey.lock_task(f"callback-call-{callback_id}"):
        return place_callback_call(task_factory(), callback_id)


@huey.periodic_task(crontab(minute="*"))
def sweep_callback_retries() -> int:
    with transaction(task_factory()) as session:
        ids = requeue_due_retries(session)
    if ids:
        log.info("%d missed callbacks are due again", len(ids))
    return len(ids)
