"""Storing verified webhook deliveries together: one writer thread, one commit per group.

Providers send bursts and retry slow endpoints, so the answer must follow the durable write
within milliseconds. Each request hands its delivery to the writer and waits for it; the writer
stores whatever has arrived meanwhile in one transaction (on SQLite, the one write lock is taken
once for the group instead of once per request, and requests never sleep in SQLite's busy
handler) and then answers every request of the group. A delivery already stored is answered as
a duplicate; if a group fails, each delivery is stored alone so one bad row fails only itself.

Hand-offs are counted per group, not per request: a request appends to a list (the writer is
woken only when it waits), and a group's answers go back to the event loop in one call.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.webhooks import HookRequest
from filrouge.core.actions.webhooks import PENDING, StoredDelivery, store_delivery
from filrouge.core.models import WebhookDelivery
from filrouge.db import writes_first
from filrouge.lib.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_GROUP = 200
IDLE_SECONDS = 30.0  # an idle writer thread ends; the next delivery starts another
Outcome = StoredDelivery | BaseException


@dataclass(frozen=True)
class _Item:
    channel_ids: tuple[tuple[int, str], ...]  # (channel id, kind): the first one answers
    request: HookRequest
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[StoredDelivery]


class DeliveryWriter:
    def __init__(
        self, factory: sessionmaker[Session], after_commit: Callable[[], None] | None = None
    ) -> None:
        self.factory = factory
        self.after_commit = after_commit
        self._pending: list[_Item] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    async def store(self, channels: list[tuple[int, str]], request: HookRequest) -> StoredDelivery:
        """Store ``request`` for each channel and wait for the group's commit (the first
        channel's row is the answer)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[StoredDelivery] = loop.create_future()
        self._put(_Item(tuple(channels), request, loop, answer))
        return await answer

    def _put(self, item: _Item) -> None:
        with self._wake:
            self._pending.append(item)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="webhook-writer", daemon=True
                )
                self._thread.start()
            else:
                self._wake.notify()  # a no-op while the writer is busy storing a group

    def _run(self) -> None:
        writes_first()  # on SQLite, this thread's transactions go before the drain's
        while (group := self._next_group()) is not None:
            self._store(group)

    def _next_group(self) -> list[_Item] | None:
        """Whatever has arrived (at most ``MAX_GROUP``); None once idle for ``IDLE_SECONDS``."""
        with self._wake:
            if not self._pending:
                self._wake.wait(IDLE_SECONDS)
            if not self._pending:
                self._thread = None
                return None
            group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
            return group

    def _store(self, group: list[_Item]) -> None:
        results: list[Outcome]
        try:
            with self.factory() as session, session.begin():
                results = list(store_group(session.connection(), group))
        except Exception:
            log.exception("a group of %d deliveries failed; storing each alone", len(group))
            results = [self._store_alone(item) for item in group]
        self._after_commit()
        _answer(group, results)

    def _after_commit(self) -> None:
        """Plan the drain; if that fails, the deliveries are stored all the same (the minute
        sweeper reads them) and their requests are answered."""
        if self.after_commit is None:
            return
        try:
            self.after_commit()
        except Exception:
            log.exception("the drain of stored deliveries could not be planned")

    def _store_alone(self, item: _Item) -> Outcome:
        try:
            channels = item.channel_ids
            stored = [store_delivery(self.factory, c, kind, item.request) for c, kind in channels]
            return stored[0]
        except Exception as exc:
            return exc


def _answer(group: list[_Item], results: list[Outcome]) -> None:
    """One call into each waiting event loop for the whole group."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[StoredDelivery], Outcome]]]
    by_loop = defaultdict(list)
    for item, result in zip(group, results, strict=True):
        by_loop[item.loop].append((item.answer, result))
    for loop, answers in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, answers)
        except RuntimeError:  # the loop is closed: nobody waits any more
            log.warning("%d stored deliveries had nobody left to answer", len(answers))


def _settle(answers: list[tuple[asyncio.Future[StoredDelivery], Outcome]]) -> None:
    for answer, result in answers:
        if answer.done():  # the request was cancelled (the provider hung up)
            continue
        if isinstance(result, BaseException):
            answer.set_exception(result)
        else:
            answer.set_result(result)


def store_group(connection: Connection, group: list[_Item]) -> list[StoredDelivery]:
    """One statement for the group's new rows, one for those already stored: each item's
    first channel's row answers it."""
    now = utcnow()
    digests = [hashlib.sha256(item.request.body).hexdigest() for item in group]
    rows: dict[tuple[int, str], dict[str, object]] = {}
    for item, digest in zip(group, digests, strict=True):
        for channel_id, kind in item.channel_ids:
            rows.setdefault((channel_id, digest), _row(channel_id, kind, digest, item, now))
    known = _known_ids(connection, list(rows))
    fresh = [row for key, row in rows.items() if key not in known]
    created = _insert_new(connection, fresh) if fresh else {}
    answers = []
    seen: set[tuple[int, str]] = set()
    for item, digest in zip(group, digests, strict=True):
        key = (item.channel_ids[0][0], digest)
        if key in created and key not in seen:
            answers.append(StoredDelivery(created[key], duplicate=False))
        else:
            answers.append(StoredDelivery(known.get(key) or created[key], duplicate=True))
        seen.add(key)
    return answers


def _row(channel_id: int, kind: str, digest: str, item: _Item, now: datetime) -> dict[str, object]:
    return {
        "channel_id": channel_id,
        "kind": kind,
        "digest": digest,
        "body": item.request.body,
        "content_type": item.request.content_type[:200],
        "url": item.request.url,
        "received_at": now,
        "outcome": PENDING,
        "processed_at": None,
        "summary": None,
    }


# Built once: building a statement and its cache key costs more than running it on SQLite.
_KNOWN = select(WebhookDelivery.id, WebhookDelivery.channel_id, WebhookDelivery.digest).where(
    WebhookDelivery.channel_id.in_(bindparam("channel_ids", expanding=True)),
    WebhookDelivery.digest.in_(bindparam("digests", expanding=True)),
)
_INSERT_NEW = insert(WebhookDelivery).returning(
    WebhookDelivery.id,
    WebhookDelivery.channel_id,
    WebhookDelivery.digest,
    sort_by_parameter_order=True,
)


def _known_ids(connection: Connection, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    channel_ids = sorted({channel_id for channel_id, _ in keys})
    digests = sorted({digest for _, digest in keys})
    found = connection.execute(_KNOWN, {"channel_ids": channel_ids, "digests": digests})
    wanted = set(keys)
    return {
        (row.channel_id, row.digest): row.id
        for row in found
        if (row.channel_id, row.digest) in wanted
    }


def _insert_new(
    connection: Connection, rows: list[dict[str, object]]
) -> dict[tuple[int, str], int]:
    created = connection.execute(_INSERT_NEW, rows)
    return {(row.channel_id, row.digest): row.id for row in created}
