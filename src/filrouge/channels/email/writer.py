"""Group commit for the SMTP server: one writer thread stores the mails of every connection,
and the mails that arrive while it writes are stored together, in one transaction.

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

from filrouge.channels.base import NormalisedInbound
from filrouge.core.actions.inbound import InboundResult
from filrouge.core.errors import DomainError

log = logging.getLogger(__name__)
Outcome = InboundResult | DomainError
StoreBatch = Callable[[list[NormalisedInbound]], list[Outcome]]
MAX_BATCH = 50


class GroupWriter:
    def __init__(self, store_batch: StoreBatch, max_batch: int = MAX_BATCH) -> None:
        self._store_batch = store_batch
        self._max_batch = max_batch
        self._waiting: queue.Queue[tuple[list[NormalisedInbound], Future[list[Outcome]]] | None]
        self._waiting = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="mail-writer", daemon=True)
        self._thread.start()

    def submit(self, mails: list[NormalisedInbound]) -> Future[list[Outcome]]:
        """Store ``mails`` (one mail, one per channel it was sent to); the future holds each
        one's outcome, in order."""
        done: Future[list[Outcome]] = Future()
        self._waiting.put((mails, done))
        return done

    def close(self) -> None:
        self._waiting.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
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
            self._write(batch)

    def _write(self, batch: list[tuple[list[NormalisedInbound], Future[list[Outcome]]]]) -> None:
        mails = [mail for wanted, _ in batch for mail in wanted]
        try:
            outcomes = self._store_batch(mails) if mails else []
        except Exception as exc:  # each sender is told to retry: nothing is lost
            log.exception("could not store a batch of %d mails", len(mails))
            for _, done in batch:
                done.set_exception(exc)
            return
        start = 0
        for wanted, done in batch:
            done.set_result(outcomes[start : start + len(wanted)])
            start += len(wanted)
