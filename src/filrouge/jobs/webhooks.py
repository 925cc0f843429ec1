"""Reading stored webhook deliveries in the background, soon after each is stored.

A request that stores a delivery calls ``schedule_processing()``: it plans one drain job a
quarter of a second later unless one is already waiting (a flag in the queue's storage, taken
by the job as it starts), so a burst of deliveries costs one job and one transaction per 50
deliveries, not one each. The minute sweeper reads whatever is
still pending (a job lost in a crash).
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.exceptions import TaskLockedException

from filrouge.core.actions.receipts import forget_old_early_receipts
from filrouge.core.actions.webhooks import BATCH, process_pending
from filrouge.db import transaction
from filrouge.jobs.queue import huey, task_factory, task_settings

log = logging.getLogger(__name__)
WAITING_FLAG = "webhooks-drain-waiting"
MAX_ROUNDS = 50
RETRY_LOCKED_SECONDS = 0.5
GATHER_SECONDS = 0.25


@huey.task()
def process_webhooks() -> int:
    huey.get(WAITING_FLAG)  # from now on, a new delivery enqueues a new drain
    return drain()


def drain() -> int:
    total = 0
    try:
        with huey.lock_task("webhooks-drain"):
            for _ in range(MAX_ROUNDS):
                read = process_pending(task_factory(), task_settings())
                total += read
                if read < BATCH:
                    break
    except TaskLockedException:  # another drain is reading: look again once it is done
        process_webhooks.schedule(delay=RETRY_LOCKED_SECONDS)
    return total


def schedule_processing() -> None:
    """A drain soon (in tests, at once): waiting a moment lets a burst be read together."""
    if not huey.put_if_empty(WAITING_FLAG, "1"):
        return
    if huey.immediate:
        process_webhooks()
    else:
        process_webhooks.schedule(delay=GATHER_SECONDS)


@huey.periodic_task(crontab(minute="*"))
def sweep_webhooks() -> int:
    read = drain()
    with transaction(task_factory()) as session:
        forget_old_early_receipts(session)
    if read:
        log.warning("read %d webhook deliveries left pending", read)
    return read
