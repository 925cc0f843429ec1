"""Group commit for the SMTP server: one writer thread parses and stores the mails of every
connection, and the mails that arrive while it writes are stored together, in one transaction.

Mail servers deliver over several connections at once; each connection still waits for its own
mail to be stored (the 250 comes after the commit), but a burst costs about one commit per
batch instead of one per mail. A batch with a refused mail is taken again mail by mail by
``receive_messages``, so each mail gets its own answer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from filrouge.core.actions.inbound import InboundResult
from filrouge.core.errors import DomainError

log = logging.getLogger(__name__)
Outcome = InboundResult | DomainError
Mail = tuple[bytes, list[int]]  # the raw mail, and the channels it goes to
StoreBatch = Callable[[list[Mail]], list[Outcome]]
MAX_BATCH = 50


class GroupWriter:
    def __init__(self, store_batch: StoreBatch, max_batch: int = MAX_BATCH) -> None:
        self._store_batch = store_batch
        self._max_batch = max_batch
        self._waiting: queue.Queue[tuple[Mail, Future[list[Outcome]]] | None]
        self._waiting = queue.Queue()
        self._writing = False
        self._thread = threading.Thread(target=self._run, name="mail-writer", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing being written (a glance: the thread may start now)."""
        return not self._writing and self._waiting.empty()

    def submit(self, raw: bytes, channel_ids: list[int]) -> Future[list[Outcome]]:
        """Store the mail on each channel; the future holds each one's outcome, in order."""
        done: Future[list[Outcome]] = Future()
        self._waiting.put(((raw, channel_ids), done))
        return done

    def close(self) -> None:
        self._waiting.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
            self._writing = first is not None
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._waiting.put(None)  # stop after this batch
                    break
                batch.append(item)
            try:
                self._write(batch)
            finally:
                self._writing = False

    def _write(self, batch: list[tuple[Mail, Future[list[Outcome]]]]) -> None:
        try:
            outcomes = self._store_batch([mail for mail, _ in batch])
        except Exception as exc:  # each sender is told to retry: nothing is lost
            log.exception("could not store a batch of %d mails", len(batch))
            for _, done in batch:
                done.set_exception(exc)
            return
        start = 0
        for (_raw, channel_ids), done in batch:
            done.set_result(outcomes[start : start + len(channel_ids)])
            start += len(channel_ids)
