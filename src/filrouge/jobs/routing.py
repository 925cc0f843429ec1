"""Routing in the background: soon after an agent's presence changes or a conversation is
resolved (or changes status), and every minute (agents gone idle, anything a lost job left):
conversations of agents gone offline are routed again, and the teams' queues are given to
whoever can take them. The rows are the truth: running it twice moves nothing twice.
"""

from __future__ import annotations

import logging
from typing import Any

from huey import crontab
from huey.exceptions import TaskLockedException

from filrouge.core.actions.rerouting import BATCH, reroute_unavailable, route_queue
from filrouge.core.events import DomainEvent, subscribe, unsubscribe
from filrouge.db import transaction
from filrouge.jobs.queue import huey, task_factory, task_settings

log = logging.getLogger(__name__)
GATHER_SECONDS = 1.0
MAX_PASSES = 50
WAITING_FLAG = "routing-waiting"
TRIGGERS = ("user.presence_changed", "conversation.resolved", "conversation.updated")


@huey.task()
def route_waiting() -> int:
    huey.get(WAITING_FLAG)  # from now on, a new change plans a new job
    return route_now()


def route_now() -> int:
    """Re-route, then empty the queues, batch by batch; one job at a time."""
    try:
        with huey.lock_task("routing"):
            return _pass(reroute_unavailable) + _pass(route_queue)
    except TaskLockedException:  # another job is at it: look again once it is done
        if not huey.immediate:
            route_waiting.schedule(delay=GATHER_SECONDS)
        return 0


def _pass(step: Any) -> int:
    factory, idle = task_factory(), task_settings().presence_idle
    total = 0
    for _ in range(MAX_PASSES):
        with transaction(factory) as session:
            done: int = step(session, idle)
        total += done
        if done < BATCH:
            break
    return total


def schedule_routing(event: DomainEvent | None = None) -> None:
    """One job for a burst of changes (in tests, at once); a conversation's change counts
    only when its status changed (an assignment made by routing itself does not)."""
    if _routing_made_it(event):
        return
    if not huey.put_if_empty(WAITING_FLAG, "1"):
        return
    if huey.immediate:
        route_waiting()
    else:
        route_waiting.schedule(delay=GATHER_SECONDS)


def _routing_made_it(event: DomainEvent | None) -> bool:
    return (
        event is not None
        and event.name == "conversation.updated"
        and not event.payload.get("status_changed")
    )


@huey.periodic_task(crontab(minute="*"))
def sweep_routing() -> int:
    done = route_now()
    if done:
        log.info("routing: %d conversations routed again or taken from a queue", done)
    return done


def install() -> None:
    """Route again after every presence change and resolution from now on (idempotent)."""
    for name in TRIGGERS:
        unsubscribe(name, schedule_routing)
        subscribe(name, schedule_routing)
