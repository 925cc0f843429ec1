"""The dashboard's channel table and figures over time as files: CSV (no cell a spreadsheet
would run as a formula) and XLSX (openpyxl: numbers stay numbers, shares formatted as
percentages, text is always text)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from filrouge.core.indicators.dashboard import COLUMNS, SERIES, SHARES, Dashboard
from filrouge.core.indicators.display import Display

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[Any]]
    shares: frozenset[int]  # columns holding a 0–1 share


def channel_table(dashboard: Dashboard, display: Display) -> Table:
    """One row per channel, then the total; shares 0–1, durations in seconds, empty: no data."""
    header = [display._("Channel"), display._("Kind")]
    header += [_unit(display, metric) for metric in COLUMNS]
    rows = [
        [row.name, row.kind, *(getattr(row.figures, metric) for metric in COLUMNS)]
        for row in dashboard.rows
    ]
    rows.append([display._("All channels"), "", *(getattr(dashboard.total, m) for m in COLUMNS)])
    shares = frozenset(2 + i for i, metric in enumerate(COLUMNS) if metric in SHARES)
    return Table(display._("Channels"), header, rows, shares)


def series_table(dashboard: Dashboard, display: Display) -> Table:
    """One row per day, week or month: its first day, then each figure."""
    header = [display._("Period starting"), *(_unit(display, metric) for metric in SERIES)]
    days = [day for day, _ in dashboard.series[SERIES[0]]]
    rows = [
        [day, *(dashboard.series[metric][index][1] for metric in SERIES)]
        for index, day in enumerate(days)
    ]
    shares = frozenset(1 + i for i, metric in enumerate(SERIES) if metric in SHARES)
    return Table(display._("Over time"), header, rows, shares)


def _unit(display: Display, metric: str) -> str:
    if metric.endswith("_s"):
        return display._("{label} (seconds)", label=display.label(metric))
    return display.label(metric)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([harmless(cell) for cell in table.header])
    for row in table.rows:
        writer.writerow(["" if cell is None else harmless(cell) for cell in row])
    return out.getvalue()


def harmless(cell: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe (OWASP)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def to_xlsx(tables: list[Table]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.append(table.header)
        for row in table.rows:
            sheet.append(row)
        _as_text_and_shares(sheet, table)
        for index, title in enumerate(table.header, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, len(title) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _as_text_and_shares(sheet: Any, table: Table) -> None:
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # "=…" in a channel's name is its name, not a formula
            elif cell.column - 1 in table.shares and cell.row > 1:
                cell.number_format = "0.0%"
