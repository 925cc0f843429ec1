"""Orders from CSV (``filrouge orders import``): a row that cannot be read or is refused is
reported with its line number and reason, and every other row is imported.

Columns: ``number``, ``ordered_at`` (ISO 8601; without a time zone, in ``zone``), ``amount``
(``89.90`` or ``89,90``), and optionally ``currency`` (EUR), ``channel``, ``store``, ``status``,
``items`` (JSON: ``[{"name", "quantity", "sku", "unit_price"}]``), and whose order it is:
``customer_id``, ``customer_email`` or ``customer_phone``, with ``customer_name``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from filrouge.core.actions.orders import CustomerRef, OrderData, OrderLine, import_orders
from filrouge.core.audit import Actor
from filrouge.core.models.enums import OrderChannel, OrderStatus

REQUIRED = ("number", "ordered_at", "amount")
CHUNK = 500


class OrderCsvError(Exception):
    """The file as a whole cannot be read (encoding, header); nothing was imported."""


@dataclass
class OrderImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def import_order_csv(
    session: Session, workspace_id: int, path: Path, region: str, zone: ZoneInfo
) -> OrderImportReport:
    report = OrderImportReport()
    rows = _read_rows(path)
    for start in range(0, len(rows), CHUNK):
        _import_chunk(session, workspace_id, rows[start : start + CHUNK], region, zone, report)
    return report


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise OrderCsvError(f"{path}: the header lacks {', '.join(missing)}")
            return [(reader.line_num, _clean(record)) for record in reader]
    except UnicodeDecodeError as exc:
        raise OrderCsvError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise OrderCsvError(f"{path}: {exc}") from exc


def _clean(record: dict[str | Any, str | Any]) -> dict[str, str]:
    return {str(k): str(v).strip() for k, v in record.items() if k and isinstance(v, str)}


def _import_chunk(
    session: Session,
    workspace_id: int,
    rows: list[tuple[int, dict[str, str]]],
    region: str,
    zone: ZoneInfo,
    report: OrderImportReport,
) -> None:
    items: list[tuple[CustomerRef, OrderData]] = []
    lines: list[int] = []
    for line, record in rows:
        try:
            items.append((_customer_ref(record), _order_data(record, zone)))
            lines.append(line)
        except ValueError as exc:
            report.rejected.append((line, str(exc)))
    for line, outcome in zip(
        lines, import_orders(session, workspace_id, items, region, Actor.system()), strict=True
    ):
        if outcome.error is not None:
            report.rejected.append((line, str(outcome.error)))
        else:
            setattr(report, outcome.result, getattr(report, outcome.result) + 1)
    report.rejected.sort()


def _customer_ref(record: dict[str, str]) -> CustomerRef:
    raw_id = record.get("customer_id") or ""
    if raw_id and not raw_id.isdigit():
        raise ValueError(f"customer_id {raw_id!r} is not a number")
    return CustomerRef(
        customer_id=int(raw_id) if raw_id else None,
        email=record.get("customer_email") or None,
        phone=record.get("customer_phone") or None,
        name=record.get("customer_name") or None,
    )


def _order_data(record: dict[str, str], zone: ZoneInfo) -> OrderData:
    return OrderData(
        number=record["number"],
        ordered_at=_moment(record["ordered_at"], zone),
        amount=_amount(record["amount"], "amount"),
        currency=record.get("currency") or "EUR",
        channel=record.get("channel") or OrderChannel.WEB,
        store=record.get("store") or None,
        status=record.get("status") or OrderStatus.PLACED,
        items=_items(record.get("items") or ""),
    )


def _moment(raw: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(
            f"ordered_at {raw!r} is not a date (2026-11-20 or 2026-11-20T10:15)"
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _amount(raw: str, column: str) -> Decimal:
    text = raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{column} {raw!r} is not an amount") from exc


def _items(raw: str) -> list[OrderLine]:
    if not raw:
        return []
    try:
        parsed = json.loads(raw)
        return [
            OrderLine(
                name=str(entry["name"]),
                quantity=int(entry.get("quantity", 1)),
                sku=None if entry.get("sku") is None else str(entry["sku"]),
                unit_price=None
                if entry.get("unit_price") is None
                else _amount(str(entry["unit_price"]), "items"),
            )
            for entry in parsed
        ]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError('items must be JSON: [{"name": …, "quantity": …}]') from exc
