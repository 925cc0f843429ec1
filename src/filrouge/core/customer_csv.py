"""Customers to and from CSV: ``name,email,phone`` and any other column as an attribute.

Reading is streamed: the file is checked whole first (UTF-8, a header naming ``name``, ``email``
or ``phone``, no column twice, not empty) and refused with ``CsvError`` when it cannot be read
at all; then it is read in chunks of rows, each row parsed into a ``CustomerRow`` or a
``RejectedRow`` (its line, its fields, the reason). ``core/actions/customer_import.py`` writes
the chunks; ``RejectedRowWriter`` keeps the rejected rows in a CSV report.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.custom_fields import FieldDefinition, check_attributes
from filrouge.core.errors import DomainError, Invalid
from filrouge.core.identity import normalise_email, normalise_phone
from filrouge.core.models import Customer, Identity
from filrouge.core.models.enums import IdentityKind

IDENTITY_COLUMNS = {"email": IdentityKind.EMAIL, "phone": IdentityKind.PHONE}
RESERVED_COLUMNS = {"id", "name", *IDENTITY_COLUMNS}
MAX_NAME = 300  # customers.name
MAX_VALUE = 320  # identities.value
CHECK_BLOCK = 1 << 20  # bytes read at a time by the UTF-8 check


class CsvError(DomainError):
    """The file cannot be read at all; nothing was imported."""

    status = 422


Record = tuple[int, list[str], DomainError | None]  # first line, fields, why it is unreadable


class CustomerRow(NamedTuple):
    """A row to import (a named tuple: a chunk of them is built and sent between processes
    often, and cheaply)."""

    line: int
    name: str | None
    identities: tuple[tuple[str, str], ...]
    attributes: dict[str, Any]
    fields: list[str]  # as read, for the report if the row is rejected later


@dataclass(frozen=True)
class RejectedRow:
    line: int
    fields: list[str]
    reason: DomainError


@dataclass(frozen=True)
class Columns:
    """Where each column is in the header."""

    header: list[str]
    name: int | None
    email: int | None
    phone: int | None
    attributes: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, header: list[str]) -> Columns:
        keys = [column.strip() for column in header]
        return cls(
            header=header,
            name=_index(keys, "name"),
            email=_index(keys, "email"),
            phone=_index(keys, "phone"),
            attributes=tuple((i, k) for i, k in enumerate(keys) if k and k not in RESERVED_COLUMNS),
        )


def _index(keys: list[str], column: str) -> int | None:
    return keys.index(column) if column in keys else None


class CustomerCsv:
    """A customers file that passed the checks, read in chunks of rows."""

    def __init__(self, path: Path, checked: bool = False) -> None:
        """Open ``path``, checked whole first unless it was (``checked``) by another process."""
        self.path = path
        self.size = path.stat().st_size
        if not checked:
            check_utf8(path)
        self._raw = path.open("rb")
        self._reader = csv.reader(io.TextIOWrapper(self._raw, encoding="utf-8-sig", newline=""))
        try:
            self.columns = Columns.of(_read_header(path, self._reader))
        except CsvError:
            self._raw.close()
            raise

    def __enter__(self) -> CustomerCsv:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._raw.close()

    def bytes_read(self) -> int:
        return self._raw.tell()

    def chunks(
        self,
        size: int,
        region: str,
        definitions: Mapping[str, FieldDefinition] | None = None,
    ) -> Iterator[list[CustomerRow | RejectedRow]]:
        """Parsed rows, ``size`` at a time, parsed here (see ``customer_csv_background`` for
        parsing in another process)."""
        for records in self.record_chunks(size):
            yield parse_records(records, self.columns, region, definitions)

    def record_chunks(self, size: int) -> Iterator[list[Record]]:
        """The file's records as read, ``size`` at a time, not parsed yet."""
        chunk: list[Record] = []
        for record in self._records():
            chunk.append(record)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _records(self) -> Iterator[Record]:
        """(first line of the record, fields, an error that made it unreadable)."""
        reader = self._reader
        previous_end = reader.line_num
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield (
                    previous_end + 1,
                    [],
                    Invalid(
                        "unreadable_row", "This line cannot be read: {reason}.", reason=str(exc)
                    ),
                )
                previous_end = reader.line_num
                continue
            line, previous_end = previous_end + 1, reader.line_num
            if fields and any(fields):
                yield line, fields, None


def check_utf8(path: Path) -> None:
    """Refuse a file that is empty or not UTF-8, naming the line and byte of the first error."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, lines, text = 0, 1, False
    with path.open("rb") as handle:
        while block := handle.read(CHECK_BLOCK):
            try:
                text = text or bool(decoder.decode(block).strip().lstrip("\ufeff"))
            except UnicodeDecodeError as exc:
                _refuse_encoding(path, block, offset, lines, exc.start)
            offset += len(block)
            lines += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            _refuse_encoding(path, b"", offset, lines, exc.start)
    if not text:
        raise CsvError("empty_file", "{file} is empty: there is nothing to import.", file=path.name)


def _refuse_encoding(path: Path, block: bytes, offset: int, lines: int, start: int) -> None:
    start = max(start, 0)  # an incremental decoder may point into the previous block
    raise CsvError(
        "not_utf8",
        "{file} is not UTF-8 text: line {line}, byte {byte} (0x{value}). Convert it first, "
        "for example: iconv -f latin1 -t utf-8 {file} > {file}.utf8.csv",
        file=path.name,
        line=lines + block[:start].count(b"\n"),
        byte=offset + start + 1,
        value=block[start : start + 1].hex() or "end",
    )


def _read_header(path: Path, reader: Any) -> list[str]:
    try:
        header: list[str] = next(reader, [])
    except csv.Error as exc:
        raise CsvError(
            "unreadable_header",
            "{file}: the header cannot be read ({reason}).",
            file=path.name,
            reason=str(exc),
        ) from exc
    keys = [column.strip() for column in header]
    if not {"name", *IDENTITY_COLUMNS} & set(keys):
        raise CsvError(
            "no_customer_columns",
            "{file}: the first line must be a header naming at least one of the columns name, "
            "email, phone (it reads: {found}).",
            file=path.name,
            found=", ".join(keys)[:200],
        )
    twice = sorted({k for k in keys if k and keys.count(k) > 1})
    if twice:
        raise CsvError(
            "duplicate_column",
            "{file}: the column {column} appears more than once in the header.",
            file=path.name,
            column=twice[0],
        )
    return header


def parse_records(
    records: list[Record],
    columns: Columns,
    region: str,
    definitions: Mapping[str, FieldDefinition] | None = None,
) -> list[CustomerRow | RejectedRow]:
    """Records as customers to import, or rejected with the reason."""
    return [
        RejectedRow(line, fields, error)
        if error
        else parse_row(line, fields, columns, region, definitions)
        for line, fields, error in records
    ]


def parse_row(
    line: int,
    fields: list[str],
    columns: Columns,
    region: str,
    definitions: Mapping[str, FieldDefinition] | None = None,
) -> CustomerRow | RejectedRow:
    """A row as a customer to import, or rejected with the reason."""
    if len(fields) != len(columns.header):
        reason = Invalid(
            "wrong_field_count",
            "This line has {found} fields; the header has {expected}.",
            found=len(fields),
            expected=len(columns.header),
        )
        return RejectedRow(line, fields, reason)
    if any("\x00" in field for field in fields):  # PostgreSQL refuses NUL in text
        return RejectedRow(line, fields, Invalid("nul_in_row", "This line contains a NUL byte."))
    try:
        name = _name(fields, columns)
        identities = _identities(fields, columns, region)
        if name is None and not identities:
            raise Invalid("empty_customer", "A customer needs a name, an email or a phone.")
        attributes = attributes_of_row(fields, columns, definitions or {})
        return CustomerRow(line, name, identities, attributes, fields)
    except DomainError as exc:
        return RejectedRow(line, fields, exc)


def _name(fields: list[str], columns: Columns) -> str | None:
    name = fields[columns.name].strip() if columns.name is not None else ""
    if len(name) > MAX_NAME:
        raise Invalid(
            "name_too_long",
            "The name has {length} characters; at most {limit} are kept.",
            length=len(name),
            limit=MAX_NAME,
        )
    return name or None


def _identities(fields: list[str], columns: Columns, region: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    email = fields[columns.email].strip() if columns.email is not None else ""
    if email:
        found.append((IdentityKind.EMAIL.value, _checked_email(email)))
    phone = fields[columns.phone].strip() if columns.phone is not None else ""
    if phone:
        found.append((IdentityKind.PHONE.value, normalise_phone(phone, region)))
    return tuple(found)


def _checked_email(raw: str) -> str:
    value = normalise_email(raw)
    if len(value) > MAX_VALUE:
        raise Invalid("invalid_email", "{value} is not an email address.", value=raw[:80])
    return value


def attributes_of_row(
    fields: list[str], columns: Columns, definitions: Mapping[str, FieldDefinition]
) -> dict[str, Any]:
    """The row's other columns as attributes (an empty cell sets nothing), typed by the
    workspace's field definitions; a value that does not fit rejects the row (``Invalid``)."""
    raw = {key: fields[i] for i, key in columns.attributes if fields[i] != ""}
    return check_attributes(definitions, raw) if definitions else raw


class RejectedRowWriter:
    """The report of rejected rows: ``line``, the file's own columns, ``reason``."""

    def __init__(self, path: Path, header: list[str], locale: str) -> None:
        self.path = path
        self.count = 0
        self._header = header
        self._locale = locale
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def open(self) -> None:
        self._handle = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(["line", *self._header, "reason"])

    def write(self, row: RejectedRow) -> None:
        """The row's fields under the file's own columns; fields beyond the header's come
        after the reason, so that nothing of the line is lost."""
        if self._writer is None:
            self.open()
        width = len(self._header)
        fitted = row.fields[:width] + [""] * (width - len(row.fields))
        reason = row.reason.message_in(self._locale)
        self._writer.writerow([row.line, *fitted, reason, *row.fields[width:]])
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def export_customers(session: Session, handle: IO[str]) -> int:
    customers = list(
        session.scalars(
            select(Customer).where(Customer.merged_into_id.is_(None)).order_by(Customer.id)
        )
    )
    attribute_keys = sorted({key for c in customers for key in (c.attributes or {})})
    writer = csv.writer(handle)
    writer.writerow(["id", "name", "email", "phone", *attribute_keys])
    identities = _first_identities(session)
    for customer in customers:
        found = identities.get(customer.id, {})
        writer.writerow(
            [
                customer.id,
                _cell(customer.name),
                found.get("email", ""),
                found.get("phone", ""),
                *[_cell((customer.attributes or {}).get(k)) for k in attribute_keys],
            ]
        )
    return len(customers)


def _first_identities(session: Session) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    rows = session.execute(
        select(Identity.customer_id, Identity.kind, Identity.value)
        .where(Identity.kind.in_(IDENTITY_COLUMNS.values()))
        .order_by(Identity.verified.desc(), Identity.id)
    )
    for customer_id, kind, value in rows:
        found.setdefault(customer_id, {}).setdefault(kind, value)
    return found


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """Text as a spreadsheet will read it: a leading quote keeps ``=HYPERLINK(…)`` inert."""
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
