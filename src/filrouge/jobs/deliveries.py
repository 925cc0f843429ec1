"""Delivery tasks: send each queued reply, retry transient failures, sweep lost jobs.

A transient failure is tried again after the provider's ``Retry-After`` when it gave one, else
after an exponential backoff (30 s, 1 min, 2 min… at most an hour); the reply stays
``queued`` with the last error shown, and fails for good after the last attempt."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab

from filrouge.channels.base import DeliveryError
from filrouge.core.actions.deliveries import (
    deliver_message,
    give_up,
    note_retry,
    stale_queued_ids,
)
from filrouge.core.events import DomainEvent, subscribe
from filrouge.jobs.queue import huey, task_blobs, task_factory

log = logging.getLogger(__name__)
RETRIES = 5
FIRST_DELAY_SECONDS = 30.0
MAX_DELAY_SECONDS = 3600.0
# Longer than all retries together: a message still queued after this lost its job.
STALE_AFTER = timedelta(seconds=MAX_DELAY_SECONDS * 3)


@huey.task()
def deliver(message_id: int, attempt: int = 1) -> str:
    with huey.lock_task(f"deliver-{message_id}"):
        try:
            return deliver_message(task_factory(), message_id, task_blobs())
        except DeliveryError as exc:
            if attempt > RETRIES:
                return give_up(task_factory(), message_id, f"{exc} (after {attempt} attempts)")
            delay = retry_delay(attempt, exc.retry_after)
            note_retry(
                task_factory(), message_id, f"{exc} (attempt {attempt}; next in {delay:.0f} s)"
            )
            deliver.schedule((message_id, attempt + 1), delay=delay)
            return "retrying"


def retry_delay(attempt: int, retry_after: float | None) -> float:
    """The provider's own delay when it said one, else 30 s doubled at each attempt."""
    if retry_after is not None:
        return min(max(retry_after, 1.0), MAX_DELAY_SECONDS)
    return min(FIRST_DELAY_SECONDS * 2 ** (attempt - 1), MAX_DELAY_SECONDS)


@huey.periodic_task(crontab(minute="*"))
def sweep_lost_deliveries() -> int:
    with task_factory()() as session:
        ids = stale_queued_ids(session, STALE_AFTER)
    for message_id in ids:
        deliver(message_id)
    if ids:
        log.warning("re-enqueued %d replies whose delivery job was lost", len(ids))
    return len(ids)


def enqueue_delivery(event: DomainEvent) -> None:
    deliver(int(event.payload["message_id"]))


def install() -> None:
    """Send every reply queued from now on (idempotent)."""
    from filrouge.core import events

    events.unsubscribe("message.queued", enqueue_delivery)
    subscribe("message.queued", enqueue_delivery)
