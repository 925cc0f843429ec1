"""Parsing a large customers file in another process while this one writes.

Checking emails and reading phone numbers (``phonenumbers``) costs as much CPU as writing the
rows. For a large file, one worker process parses the next chunks while the importing process
writes the current one: on two cores, the two halves of the work overlap. The chunks come back
in file order, exactly as ``CustomerCsv.chunks`` gives them; a small file is parsed in place
(starting a process costs more than it saves).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor

from filrouge.core.custom_fields import FieldDefinition
from filrouge.core.customer_csv import CustomerCsv, CustomerRow, RejectedRow, parse_records

BACKGROUND_FROM_BYTES = 8 << 20  # 8 MiB: about 100,000 rows of name, email, phone
AHEAD = 2  # chunks parsed ahead of the one being written: bounded memory


def parsed_chunks(
    source: CustomerCsv,
    size: int,
    region: str,
    definitions: Mapping[str, FieldDefinition] | None,
    background: bool | None = None,
) -> Iterator[list[CustomerRow | RejectedRow]]:
    """The file's rows, ``size`` at a time; parsed in a worker process when ``background``
    (default: when the file is larger than ``BACKGROUND_FROM_BYTES``)."""
    if background is None:
        background = source.size > BACKGROUND_FROM_BYTES
    if not background:
        yield from source.chunks(size, region, definitions)
        return
    # spawn: a fresh interpreter, never a fork of a process that holds database connections
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pending: deque[Future[list[CustomerRow | RejectedRow]]] = deque()
        for records in source.record_chunks(size):
            pending.append(pool.submit(parse_records, records, source.columns, region, definitions))
            if len(pending) > AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
