"""Storing verified webhook deliveries together: one writer thread, one commit per group.

Providers send bursts and retry slow endpoints, so the answer must follow the durable write
within milliseconds. Each request hands its delivery to the writer and waits for it; the writer
stores whatever has arrived meanwhile in one transaction (on SQLite, the one write lock is taken
once for the group instead of once per request, and requests never sleep in SQLite's busy
handler) and then answers every request of the group. A delivery already stored is answered as
a duplicate; if a group fails, each delivery is stored alone so one bad row fails only itself.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.webhooks import HookRequest
from filrouge.core.actions.webhooks import PENDING, StoredDelivery, store_delivery
from filrouge.core.models import WebhookDelivery
from filrouge.lib.timeutil import utcnow

log = logging.getLogger(__name__)
MAX_GROUP = 200
IDLE_SECONDS = 30.0  # an idle writer thread ends; the next delivery starts another


@dataclass(frozen=True)
class _Item:
    channel_ids: tuple[tuple[int, str], ...]  # (channel id, kind): the first one answers
    request: HookRequest
    answer: Future[StoredDelivery]


class DeliveryWriter:
    def __init__(
        self, factory: sessionmaker[Session], after_commit: Callable[[], None] | None = None
    ) -> None:
        self.factory = factory
        self.after_commit = after_commit
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(
        self, channels: list[tuple[int, str]], request: HookRequest
    ) -> Future[StoredDelivery]:
        """Store ``request`` for each channel (the first one's result is the answer)."""
        answer: Future[StoredDelivery] = Future()
        self._queue.put(_Item(tuple(channels), request, answer))
        self._ensure_thread()
        return answer

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="webhook-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._store(group)

    def _store(self, group: list[_Item]) -> None:
        results: list[StoredDelivery | BaseException]
        try:
            with self.factory() as session, session.begin():
                results = list(store_group(session.connection(), group))
        except Exception:
            log.exception("a group of %d deliveries failed; storing each alone", len(group))
            results = [self._store_alone(item) for item in group]
        if self.after_commit is not None:
            self.after_commit()
        for item, result in zip(group, results, strict=True):
            if isinstance(result, BaseException):
                item.answer.set_exception(result)
            else:
                item.answer.set_result(result)

    def _store_alone(self, item: _Item) -> StoredDelivery | BaseException:
        try:
            channels = item.channel_ids
            stored = [store_delivery(self.factory, c, kind, item.request) for c, kind in channels]
            return stored[0]
        except Exception as exc:
            return exc


def store_group(connection: Connection, group: list[_Item]) -> list[StoredDelivery]:
    """One statement for the group's new rows, one for those already stored: each item's
    first channel's row answers it."""
    now = utcnow()
    rows: dict[tuple[int, str], dict[str, object]] = {}
    for item in group:
        digest = hashlib.sha256(item.request.body).hexdigest()
        for channel_id, kind in item.channel_ids:
            rows.setdefault((channel_id, digest), _row(channel_id, kind, digest, item, now))
    known = _known_ids(connection, list(rows))
    fresh = [row for key, row in rows.items() if key not in known]
    created = _insert_new(connection, fresh) if fresh else {}
    answers = []
    seen: set[tuple[int, str]] = set()
    for item in group:
        key = (item.channel_ids[0][0], hashlib.sha256(item.request.body).hexdigest())
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


def _known_ids(connection: Connection, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    channel_ids = sorted({channel_id for channel_id, _ in keys})
    digests = sorted({digest for _, digest in keys})
    found = connection.execute(
        select(WebhookDelivery.id, WebhookDelivery.channel_id, WebhookDelivery.digest).where(
            WebhookDelivery.channel_id.in_(channel_ids), WebhookDelivery.digest.in_(digests)
        )
    )
    wanted = set(keys)
    return {
        (row.channel_id, row.digest): row.id
        for row in found
        if (row.channel_id, row.digest) in wanted
    }


def _insert_new(
    connection: Connection, rows: list[dict[str, object]]
) -> dict[tuple[int, str], int]:
    statement = insert(WebhookDelivery).returning(
        WebhookDelivery.id,
        WebhookDelivery.channel_id,
        WebhookDelivery.digest,
        sort_by_parameter_order=True,
    )
    created = connection.execute(statement, rows)
    return {(row.channel_id, row.digest): row.id for row in created}
