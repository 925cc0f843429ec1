"""Importing customers from CSV at scale: streamed, chunk by chunk, one commit per chunk.

Each chunk looks its emails and phones up in one query, then plans every row in order: a row
whose identities belong to nobody creates a customer; a row whose identities belong to one
customer (already there, or made by an earlier row of the file) updates it and adds the
identities it lacks; a row whose identities belong to two customers is rejected (two customers
are merged by a person, never silently). Customers and identities are then written with bulk
inserts, the updated customers with one executemany, and the chunk with one
``customers.imported`` event (counts, file, lines, ids: no personal data). A crash keeps every
committed chunk, and importing the same file again finds every row unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from filrouge.core.actions import customer_import_sql as sql
from filrouge.core.actions.custom_fields import workspace_definitions
from filrouge.core.actions.identities import live_customer_id
from filrouge.core.audit import Actor, record_event
from filrouge.core.customer_csv import (
    CsvError,
    CustomerCsv,
    CustomerRow,
    RejectedRow,
    RejectedRowWriter,
)
from filrouge.core.customer_csv_background import parsed_chunks
from filrouge.core.errors import Conflict
from filrouge.core.models import Customer, Identity
from filrouge.core.search_index import customers_index_held
from filrouge.db import transaction
from filrouge.lib.timeutil import utcnow

CHUNK_ROWS = 5_000
UPDATE_CUSTOMERS = (
    update(sql.CUSTOMERS)
    .where(sql.CUSTOMERS.c.id == bindparam("b_id"))
    .values(
        name=bindparam("b_name"),
        attributes=bindparam("b_attributes"),
        updated_at=bindparam("b_updated_at"),
    )
)
# Called in each chunk's transaction with the ids of the customers it created or changed (a
# search index kept by triggers can be switched off for an import and rebuilt here).
TouchedHook = Callable[[Session, Sequence[int]], None]
ProgressHook = Callable[[int, int], None]  # (bytes read, rows read)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_path: Path | None = None

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected

    def add(self, other: ImportReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected


@dataclass
class ImportOptions:
    region: str
    locale: str
    actor: Actor
    rejected_path: Path | None = None  # default: <file>.rejected.csv, written when needed
    chunk_rows: int = CHUNK_ROWS
    progress: ProgressHook | None = None
    touched: TouchedHook | None = None
    background: bool | None = None  # parse in another process; None: for large files


def default_rejected_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejected.csv")


def import_customers(
    factory: sessionmaker[Session], workspace_id: int, path: Path, options: ImportOptions
) -> ImportReport:
    """Import ``path`` chunk by chunk; raise ``CsvError`` (nothing written) when the file
    cannot be read at all. Rejected rows go to the report CSV and never stop the import."""
    report = ImportReport()
    with transaction(factory) as session:
        definitions = workspace_definitions(session, workspace_id)
    with CustomerCsv(path) as source:
        rejected = _rejected_writer(path, source.columns.header, options)
        chunks = parsed_chunks(
            source, options.chunk_rows, options.region, definitions, options.background
        )
        try:
            for number, (chunk, bytes_read) in enumerate(chunks):
                _write_rejected(rejected, (row for row in chunk if isinstance(row, RejectedRow)))
                outcome = _import_chunk(factory, workspace_id, chunk, path.name, options)
                _write_rejected(rejected, outcome.rejected)
                report.add(outcome.report)
                if number & (number + 1) == 0:  # after chunks 1, 2, 4, 8…: the tables doubled
                    with transaction(factory) as session:
                        sql.refresh_statistics(session.connection())
                if options.progress is not None:
                    options.progress(bytes_read, report.rows)
        finally:
            rejected.close()
    report.rejected_path = rejected.path if rejected.count or options.rejected_path else None
    return report


def _import_chunk(
    factory: sessionmaker[Session],
    workspace_id: int,
    chunk: list[CustomerRow | RejectedRow],
    source: str,
    options: ImportOptions,
) -> ChunkOutcome:
    """One chunk, one transaction: a crash keeps the chunks committed before it."""
    with transaction(factory) as session:
        outcome = import_customer_rows(session, workspace_id, chunk, options.actor, source)
        if options.touched is not None:
            options.touched(session, outcome.touched)
    return outcome


def _rejected_writer(path: Path, header: list[str], options: ImportOptions) -> RejectedRowWriter:
    target = options.rejected_path or default_rejected_path(path)
    if target.resolve() == path.resolve():
        raise CsvError(
            "report_is_source",
            "The rejected rows cannot be written over {file}: choose another file.",
            file=path.name,
        )
    target.unlink(missing_ok=True)  # a report of an earlier run would mislead
    writer = RejectedRowWriter(target, header, options.locale)
    if options.rejected_path is not None:
        writer.open()
    return writer


def _write_rejected(writer: RejectedRowWriter, rows: Iterable[RejectedRow]) -> None:
    for row in rows:
        writer.write(row)


@dataclass(slots=True)
class _Target:
    """A customer some rows of the chunk write to: one already there, or a new one."""

    line: int
    name: str | None
    attributes: dict[str, Any]
    customer_id: int | None = None
    new_identities: list[tuple[str, str]] = field(default_factory=list)
    changed: bool = False


@dataclass
class ChunkOutcome:
    report: ImportReport
    rejected: list[RejectedRow]
    touched: list[int]


def import_customer_rows(
    session: Session,
    workspace_id: int,
    rows: Sequence[CustomerRow | RejectedRow],
    actor: Actor,
    source: str,
) -> ChunkOutcome:
    """Write one chunk; rows already rejected by parsing are counted, the others planned."""
    conn = session.connection()
    sql.prepare_connection(conn)
    good = [row for row in rows if isinstance(row, CustomerRow)]
    owners = _owners(conn, workspace_id, {key for row in good for key in row.identities})
    targets = _existing_targets(conn, set(owners.values()))
    plan = _Plan(owners, targets)
    for row in good:
        plan.take(row)
    with customers_index_held(conn) as held:
        created_ids = _insert_customers(conn, workspace_id, plan.new)
        _insert_identities(conn, workspace_id, plan)
        updated_ids = _update_customers(conn, plan.existing)
        held.new = created_ids
        held.changed = [
            customer_id for customer_id, target in plan.existing.items() if target.new_identities
        ]
    plan.report.rejected += len(rows) - len(good)
    _record_import(
        session, workspace_id, actor, source, rows, plan.report, created_ids, updated_ids
    )
    return ChunkOutcome(plan.report, plan.rejected, created_ids + updated_ids)


class _Plan:
    """Every row of the chunk, in file order, assigned to the customer it creates or updates."""

    def __init__(self, owners: dict[tuple[str, str], int], existing: dict[int, _Target]) -> None:
        self.existing = existing
        self.owner: dict[tuple[str, str], _Target] = {
            key: existing[customer_id] for key, customer_id in owners.items()
        }
        self.new: list[_Target] = []
        self.rejected: list[RejectedRow] = []
        self.report = ImportReport()

    def take(self, row: CustomerRow) -> None:
        owner = self.owner
        holder: _Target | None = None
        for key in row.identities:
            found = owner.get(key)
            if found is None:
                continue
            if holder is not None and found is not holder:
                self._reject(row)
                return
            holder = found
        if holder is None:  # the common case of a first import: nobody has these identities
            target = _Target(row.line, row.name, dict(row.attributes), None, list(row.identities))
            self.new.append(target)
            self.report.created += 1
            for key in row.identities:
                owner[key] = target
            return
        fresh = [key for key in row.identities if key not in owner]
        if _apply(holder, row) or fresh:
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        for key in fresh:
            owner[key] = holder
            holder.new_identities.append(key)

    def _reject(self, row: CustomerRow) -> None:
        """The row's identities belong to two customers: the report says whose."""
        holders: dict[int, tuple[tuple[str, str], _Target]] = {}
        for key in row.identities:
            target = self.owner.get(key)
            if target is not None:
                holders.setdefault(id(target), (key, target))
        self.rejected.append(_conflict(row, list(holders.values())))
        self.report.rejected += 1


def _apply(target: _Target, row: CustomerRow) -> bool:
    """Bring the row's name and attributes onto ``target``; True when either changed."""
    before = (target.name, target.attributes)
    if row.name is not None:
        target.name = row.name
    if row.attributes:
        target.attributes = {**target.attributes, **row.attributes}
    changed = (target.name, target.attributes) != before
    target.changed = target.changed or changed
    return changed


def _conflict(row: CustomerRow, holders: list[tuple[tuple[str, str], _Target]]) -> RejectedRow:
    (first_key, first), (second_key, second) = holders[:2]
    if first.customer_id is not None and second.customer_id is not None:
        reason = Conflict(
            "identities_of_two_customers",
            "{first} belongs to customer {first_id} and {second} to customer {second_id}: "
            "merge them first, or correct the line.",
            first=first_key[1],
            second=second_key[1],
            first_id=first.customer_id,
            second_id=second.customer_id,
        )
    else:
        made_here = first if first.customer_id is None else second
        reason = Conflict(
            "identities_of_two_customers",
            "{first} and {second} belong to two different customers, one of them made by line "
            "{line} of this file: correct one of the lines.",
            first=first_key[1],
            second=second_key[1],
            line=made_here.line,
        )
    return RejectedRow(row.line, row.fields, reason)


def _owners(conn: Connection, workspace_id: int, keys: set[tuple[str, str]]) -> dict[Any, int]:
    """(kind, value) → the live customer who holds it, for the keys already known: one query
    per kind, on the unique index (workspace, kind, value)."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, []).append(value)
    found: dict[tuple[str, str], int] = {}
    for kind, values in sorted(by_kind.items()):
        rows = conn.execute(
            select(Identity.value, Identity.customer_id, Customer.merged_into_id)
            .join(Customer, Customer.id == Identity.customer_id)
            .where(
                Identity.workspace_id == workspace_id,
                Identity.kind == kind,
                sql.among(conn, Identity.value, sorted(values), integers=False),
            )
        )
        for value, customer_id, merged_into_id in rows:
            found[(kind, value)] = live_customer_id(conn, customer_id, merged_into_id)
    return found


def _existing_targets(conn: Connection, ids: set[int]) -> dict[int, _Target]:
    if not ids:
        return {}
    rows = conn.execute(
        select(Customer.id, Customer.name, Customer.attributes).where(
            sql.among(conn, Customer.id, sorted(ids), integers=True)
        )
    )
    return {
        customer_id: _Target(0, name, dict(attributes or {}), customer_id)
        for customer_id, name, attributes in rows
    }


def _insert_customers(conn: Connection, workspace_id: int, targets: list[_Target]) -> list[int]:
    if not targets:
        return []
    ids = sql.new_customer_ids(conn, len(targets))
    for target, customer_id in zip(targets, ids, strict=True):
        target.customer_id = customer_id
    rows = [
        (customer_id, t.name, t.attributes) for customer_id, t in zip(ids, targets, strict=True)
    ]
    sql.insert_customers(conn, workspace_id, rows, utcnow())
    return ids


def _insert_identities(conn: Connection, workspace_id: int, plan: _Plan) -> None:
    rows = sorted(  # in the unique index's order: each insert lands near the previous one
        (kind, value, target.customer_id, target.name)
        for target in [*plan.new, *plan.existing.values()]
        if target.customer_id is not None
        for kind, value in target.new_identities
    )
    if rows:
        sql.insert_identities(conn, workspace_id, rows, utcnow())


def _update_customers(conn: Connection, targets: dict[int, _Target]) -> list[int]:
    now = utcnow()
    rows = [
        {
            "b_id": customer_id,
            "b_name": target.name,
            "b_attributes": target.attributes,
            "b_updated_at": now,
        }
        for customer_id, target in targets.items()
        if target.changed
    ]
    if rows:
        conn.execute(UPDATE_CUSTOMERS, rows)
    return sorted(
        customer_id
        for customer_id, target in targets.items()
        if target.changed or target.new_identities
    )


def _record_import(
    session: Session,
    workspace_id: int,
    actor: Actor,
    source: str,
    rows: Sequence[CustomerRow | RejectedRow],
    report: ImportReport,
    created_ids: list[int],
    updated_ids: list[int],
) -> None:
    """One event for the chunk: what it did, where from, which customers (no personal data)."""
    if not rows:
        return
    record_event(
        session,
        workspace_id,
        actor,
        ("workspace", workspace_id),
        "customers.imported",
        after={
            "file": source,
            "lines": [rows[0].line, rows[-1].line],
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
            "created_ids": id_ranges(created_ids),
            "updated_ids": id_ranges(updated_ids),
        },
    )


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """[1, 2, 3, 7] → [[1, 3], [7, 7]]: the ids a bulk insert returns, kept short."""
    ranges: list[list[int]] = []
    for value in sorted(ids):
        if ranges and ranges[-1][1] == value - 1:
            ranges[-1][1] = value
        else:
            ranges.append([value, value])
    return ranges
