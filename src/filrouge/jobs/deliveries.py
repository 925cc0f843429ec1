"""Delivery tasks: send each queued reply, retry transient failures, sweep lost jobs."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab
from huey.api import Task

from filrouge.channels.base import DeliveryError
from filrouge.core.actions.deliveries import deliver_message, give_up, stale_queued_ids
from filrouge.core.events import DomainEvent, subscribe
from filrouge.jobs.queue import huey, task_blobs, task_factory

log = logging.getLogger(__name__)
RETRIES = 5
RETRY_DELAY_SECONDS = 60
# Longer than all retries together: a message still queued after this lost its job.
STALE_AFTER = timedelta(seconds=RETRIES * RETRY_DELAY_SECONDS * 3)


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY_SECONDS, context=True)
def deliver(message_id: int, task: Task | None = None) -> str:
    with huey.lock_task(f"deliver-{message_id}"):
        try:
            return deliver_message(task_factory(), message_id, task_blobs())
        except DeliveryError as exc:
            if task is not None and task.retries > 0:
                raise
            return give_up(task_factory(), message_id, f"{exc} (after {RETRIES + 1} attempts)")


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
