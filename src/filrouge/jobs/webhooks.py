"""Reading stored webhook deliveries in the background, soon after each is stored.

A request that stores a delivery calls ``schedule_processing()``: it plans one drain job a
quarter of a second later unless one is already waiting (a flag in the queue's storage, taken
by the job as it starts), so a burst of deliveries costs one job and one transaction per batch,
not one each. The minute sweeper reads whatever is still pending (a job lost in a crash).

Accepting comes first. While deliveries keep arriving (the newest was stored less than
``BURST_SECONDS`` ago, by whichever process), the drain reads small batches, so that its
transaction holds SQLite's one write lock briefly, and rests twice as long as each batch took,
so that the intake keeps at least two thirds of the CPU it shares with the drain; once the
burst is over it reads full batches without resting. (The clocks compared are those of the
processes that store and read: on SQLite, one host's.)
"""

from __future__ import annotations

import logging
import time

from huey import crontab
from huey.exceptions import TaskLockedException
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.actions.receipts import forget_old_early_receipts
from filrouge.core.actions.webhooks import BATCH, newest_delivery_at, process_pending
from filrouge.db import transaction
from filrouge.jobs.queue import huey, task_factory, task_settings
from filrouge.lib.timeutil import utcnow

log = logging.getLogger(__name__)
WAITING_FLAG = "webhooks-drain-waiting"
MAX_READ = 2_500  # deliveries one job reads before it hands over to a new job
RETRY_LOCKED_SECONDS = 0.5
GATHER_SECONDS = 0.25
BURST_BATCH = 8  # deliveries per transaction while a burst is arriving
BURST_SECONDS = 0.25  # a delivery stored this recently: a burst is arriving
REST_FACTOR = 2.0  # while one is, rest this many times as long as the last batch took
MAX_REST_SECONDS = 0.5


@huey.task()
def process_webhooks() -> int:
    huey.get(WAITING_FLAG)  # from now on, a new delivery enqueues a new drain
    return drain()


def drain() -> int:
    total = 0
    try:
        with huey.lock_task("webhooks-drain"):
            total = _read_all_pending()
    except TaskLockedException:  # another drain is reading: look again once it is done
        process_webhooks.schedule(delay=RETRY_LOCKED_SECONDS)
    if total >= MAX_READ:  # more is waiting: a new job, so that other jobs get a turn
        process_webhooks.schedule(delay=0)
    return total


def _read_all_pending() -> int:
    factory = task_factory()
    total = 0
    while total < MAX_READ:
        burst = _arriving(factory)
        limit = BURST_BATCH if burst else BATCH
        began = time.monotonic()
        read = process_pending(factory, task_settings(), limit)
        total += read
        if read < limit:
            break
        if burst:
            time.sleep(min(MAX_REST_SECONDS, REST_FACTOR * (time.monotonic() - began)))
    return total


def _arriving(factory: sessionmaker[Session]) -> bool:
    newest = newest_delivery_at(factory)
    return newest is not None and (utcnow() - newest).total_seconds() < BURST_SECONDS


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
