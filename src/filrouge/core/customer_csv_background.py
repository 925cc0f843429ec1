"""Reading and parsing a large customers file in another process while this one writes.

Reading the CSV, checking emails and reading phone numbers (``phonenumbers``) cost as much CPU
as writing the rows. For a large file, one worker process reads and parses the next chunks
while the importing process writes the current one: on two cores, the two halves of the work
overlap. The chunks come back in file order, exactly as ``CustomerCsv.chunks`` gives them, with
how far into the file each one ends (for the progress bar); a small file is parsed in place
(starting a process costs more than it saves).

A chunk travels as columns (one list of lines, one of names, …), not as row objects: the
importing process spends its time writing, and unpickling 5,000 objects a chunk cost it three
times as much as unpickling a few lists.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Iterator, Mapping
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from filrouge.core.custom_fields import FieldDefinition
from filrouge.core.customer_csv import CustomerCsv, CustomerRow, RejectedRow
from filrouge.core.errors import DomainError

BACKGROUND_FROM_BYTES = 8 << 20  # 8 MiB: about 100,000 rows of name, email, phone
AHEAD = 2  # chunks parsed ahead of the one being written: bounded memory
WAIT_S = 1.0  # how often the importing process checks that the worker is still alive

Chunk = list[CustomerRow | RejectedRow]
# (lines, names, identities, attributes, fields) of the good rows, and the rejected rows with
# their place in the chunk
Packed = tuple[
    list[int],
    list[str | None],
    list[tuple[tuple[str, str], ...]],
    list[dict[str, Any]],
    list[list[str]],
    list[tuple[int, RejectedRow]],
]


class ReadingStopped(DomainError):
    """The process reading the file stopped without saying why (killed, out of memory): the
    chunks written before it stay, the rest of the file was not imported."""

    status = 500


def parsed_chunks(
    source: CustomerCsv,
    size: int,
    region: str,
    definitions: Mapping[str, FieldDefinition] | None,
    background: bool | None = None,
) -> Iterator[tuple[Chunk, int]]:
    """The file's rows, ``size`` at a time, each chunk with the bytes read up to its end;
    read and parsed in a worker process when ``background`` (default: when the file is larger
    than ``BACKGROUND_FROM_BYTES``)."""
    if background is None:
        background = source.size > BACKGROUND_FROM_BYTES
    if not background:
        for chunk in source.chunks(size, region, definitions):
            yield chunk, source.bytes_read()
        return
    yield from _from_worker(source.path, size, region, dict(definitions or {}))


def _from_worker(
    path: Path, size: int, region: str, definitions: dict[str, FieldDefinition]
) -> Iterator[tuple[Chunk, int]]:
    # spawn: a fresh interpreter, never a fork of a process that holds database connections
    context = multiprocessing.get_context("spawn")
    chunks: Queue[Any] = context.Queue(maxsize=AHEAD)
    worker = context.Process(
        target=_read_and_parse,
        args=(path, size, region, definitions, chunks),
        name="filrouge-customers-csv",
        daemon=True,
    )
    worker.start()
    try:
        while True:
            message = _next_message(chunks, worker, path)
            if message[0] == "end":
                break
            if message[0] == "error":
                raise message[1]
            yield unpack(message[2]), message[1]
        worker.join()
    finally:
        if worker.is_alive():  # the import stopped early: the rest of the file is not needed
            worker.terminate()
            worker.join()
        chunks.close()


def _next_message(chunks: Queue[Any], worker: BaseProcess, path: Path) -> tuple[Any, ...]:
    while True:
        try:
            return tuple(chunks.get(timeout=WAIT_S))
        except queue.Empty:
            if not worker.is_alive():
                raise ReadingStopped(
                    "reading_stopped",
                    "The process reading {file} stopped (exit code {exit_code}): the rows imported "
                    "before it are kept. Run the import again to finish; the rows already "
                    "imported will be found unchanged.",
                    file=path.name,
                    exit_code=worker.exitcode,
                ) from None


def _read_and_parse(
    path: Path,
    size: int,
    region: str,
    definitions: dict[str, FieldDefinition],
    chunks: Queue[Any],
) -> None:
    """The worker: every chunk of the file, packed, then ``end`` (or the error that stopped
    it). The file was checked whole by the importing process already."""
    try:
        with CustomerCsv(path, checked=True) as source:
            for chunk in source.chunks(size, region, definitions):
                chunks.put(("chunk", source.bytes_read(), pack(chunk)))
        chunks.put(("end",))
    except Exception as exc:  # sent to the importing process, which raises it
        chunks.put(("error", exc))


def pack(chunk: Chunk) -> Packed:
    """A chunk as columns, cheap to send between processes."""
    good = [row for row in chunk if isinstance(row, CustomerRow)]
    rejected = [(place, row) for place, row in enumerate(chunk) if isinstance(row, RejectedRow)]
    return (
        [row.line for row in good],
        [row.name for row in good],
        [row.identities for row in good],
        [row.attributes for row in good],
        [row.fields for row in good],
        rejected,
    )


def unpack(packed: Packed) -> Chunk:
    """The chunk ``pack`` was given, rows in the same order."""
    lines, names, identities, attributes, fields, rejected = packed
    rows: Chunk = list(map(CustomerRow, lines, names, identities, attributes, fields))
    for place, row in rejected:  # ascending places: each lands where it was
        rows.insert(place, row)
    return rows
