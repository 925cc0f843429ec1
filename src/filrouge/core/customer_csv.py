"""Customers to and from CSV: ``name,email,phone`` and any other column as an attribute.

An import is one transaction: every row is checked first, and one bad row rejects the file
with its line number, so that nothing is half-imported. A row whose email or phone already
belongs to a customer updates that customer instead of creating a duplicate.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.channels.base import Sender
from filrouge.core.actions.custom_fields import record_consent_changes, workspace_definitions
from filrouge.core.actions.customers import update_customer
from filrouge.core.actions.identities import add_identity, create_customer, find_identity
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.audit import Actor
from filrouge.core.custom_fields import FieldDefinition, coerce_attributes
from filrouge.core.errors import DomainError
from filrouge.core.identity import normalise_identity
from filrouge.core.models import Customer, Identity
from filrouge.core.models.enums import IdentityKind
from filrouge.settings import get_settings

IDENTITY_COLUMNS = {"email": IdentityKind.EMAIL, "phone": IdentityKind.PHONE}
RESERVED_COLUMNS = {"id", "name", *IDENTITY_COLUMNS}


class CsvError(Exception):
    """The file cannot be imported; the message names the line and the reason."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0


@dataclass(frozen=True)
class _Row:
    line: int
    name: str | None
    identities: list[tuple[str, str]]
    attributes: dict[str, Any]


def import_customers(session: Session, path: Path, region: str) -> ImportReport:
    rows = list(_read_rows(path, region))
    workspace = ensure_workspace(session, get_settings().workspace_name)
    actor = Actor.system()
    report = ImportReport()
    definitions = workspace_definitions(session, workspace.id)
    rows = [_typed(row, definitions) for row in rows]
    for row in rows:
        customer = _existing_customer(session, workspace.id, row)
        if customer is None:
            customer_id = create_customer(session, workspace.id, row.name, actor, row.attributes)
            customer = session.get_one(Customer, customer_id)
            record_consent_changes(session, customer, {}, actor, "import")
            report.created += 1
        else:
            update_customer(session, customer, row.name, row.attributes, actor, "import")
            report.updated += 1
        _add_missing_identities(session, customer, row, actor)
    return report


def _read_rows(path: Path, region: str) -> Iterator[_Row]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not ({"name", *IDENTITY_COLUMNS} & set(reader.fieldnames)):
                raise CsvError(f"{path}: the header needs at least one of name, email, phone")
            rows = [_parse_row(reader.line_num, record, region) for record in reader]
    except UnicodeDecodeError as exc:
        raise CsvError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise CsvError(f"{path}: {exc}") from exc
    yield from rows


def _parse_row(line: int, record: dict[str, str | None], region: str) -> _Row:
    identities = []
    for column, kind in IDENTITY_COLUMNS.items():
        raw = (record.get(column) or "").strip()
        if raw:
            try:
                identities.append((kind.value, normalise_identity(kind, raw, region)))
            except DomainError as exc:
                raise CsvError(f"line {line}: {exc}") from exc
    attributes = {
        key: value
        for key, value in record.items()
        if key and key not in RESERVED_COLUMNS and value not in (None, "")
    }
    name = (record.get("name") or "").strip() or None
    if name is None and not identities:
        raise CsvError(f"line {line}: a customer needs a name, an email or a phone")
    return _Row(line, name, identities, attributes)


def _typed(row: _Row, definitions: dict[str, FieldDefinition]) -> _Row:
    """The row's attributes typed by their definitions, or the first refusal with its line."""
    values, problems = coerce_attributes(definitions, row.attributes)
    if problems:
        error = problems[0].error()
        raise CsvError(f"line {row.line}: {error.field}: {error}")
    typed = {key: value for key, value in values.items() if value is not None}
    return _Row(row.line, row.name, row.identities, typed)


def _existing_customer(session: Session, workspace_id: int, row: _Row) -> Customer | None:
    for kind, value in row.identities:
        identity = find_identity(session, workspace_id, kind, value)
        if identity is not None:
            return identity.customer
    return None


def _add_missing_identities(session: Session, customer: Customer, row: _Row, actor: Actor) -> None:
    for kind, value in row.identities:
        if find_identity(session, customer.workspace_id, kind, value) is None:
            sender = Sender(kind=kind, value=value, name=row.name, verified=True)
            add_identity(session, customer.workspace_id, customer.id, sender, value, actor)


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
