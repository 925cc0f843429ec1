"""`filrouge customers import`: the progress bar (by bytes read, with rows/s, on a terminal
only), the summary line in the workspace's language, and the exit status (0 all imported,
1 some rows rejected, 2 the file refused, 3 the import stopped midway)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from babel.numbers import format_decimal

from filrouge.core.actions.customer_import import ImportOptions, ImportReport, import_customers
from filrouge.core.actions.users import ensure_workspace
from filrouge.core.audit import Actor
from filrouge.core.customer_csv import CsvError
from filrouge.core.customer_csv_background import ReadingStopped
from filrouge.db import create_db_engine, make_session_factory, transaction
from filrouge.i18n import N_, translate
from filrouge.schema import check_migrated
from filrouge.settings import get_settings

EXIT_REJECTED, EXIT_REFUSED, EXIT_STOPPED = 1, 2, 3
PROGRESS = N_("{rows} rows, {speed} rows/s")
SUMMARY = N_(
    "{rows} rows: {created} created, {updated} updated, {unchanged} unchanged, "
    "{rejected} rejected in {seconds} s ({speed} rows/s)"
)
SUMMARY_WITH_REPORT = N_(
    "{rows} rows: {created} created, {updated} updated, {unchanged} unchanged, "
    "{rejected} rejected (see {report}) in {seconds} s ({speed} rows/s)"
)


def run_customer_import(path: Path, rejected_path: Path | None, *, quiet: bool) -> None:
    settings = get_settings()
    locale = settings.default_locale
    engine = create_db_engine(settings.database_url)
    try:
        check_migrated(engine)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            workspace_id = ensure_workspace(session, settings.workspace_name).id
        started = time.perf_counter()
        with _progress(path, quiet, locale) as progress:
            options = ImportOptions(
                region=settings.default_region,
                locale=locale,
                actor=Actor.system(),
                rejected_path=rejected_path,
                progress=progress,
            )
            report = import_customers(factory, workspace_id, path, options)
    except CsvError as exc:
        click.echo(f"error: {exc.message_in(locale)}", err=True)
        sys.exit(EXIT_REFUSED)
    except ReadingStopped as exc:
        click.echo(f"error: {exc.message_in(locale)}", err=True)
        sys.exit(EXIT_STOPPED)
    finally:
        engine.dispose()
    click.echo(summary(report, time.perf_counter() - started, locale))
    if report.rejected:
        sys.exit(EXIT_REJECTED)


def _number(value: float, locale: str, pattern: str = "#,##0") -> str:
    return str(format_decimal(value, format=pattern, locale=locale))


def summary(report: ImportReport, seconds: float, locale: str) -> str:
    def number(value: float, pattern: str = "#,##0") -> str:
        return _number(value, locale, pattern)

    params: dict[str, Any] = {
        "rows": number(report.rows),
        "created": number(report.created),
        "updated": number(report.updated),
        "unchanged": number(report.unchanged),
        "rejected": number(report.rejected),
        "seconds": number(seconds, "#,##0.0"),
        "speed": number(report.rows / seconds if seconds > 0 else 0),
    }
    if report.rejected_path is not None:
        return translate(SUMMARY_WITH_REPORT, locale, report=report.rejected_path, **params)
    return translate(SUMMARY, locale, **params)


@contextmanager
def _progress(path: Path, quiet: bool, locale: str) -> Iterator[Any]:
    """A bar on stderr by bytes read, with rows/s; nothing when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    started = time.perf_counter()
    state = {"bytes": 0}
    with click.progressbar(
        length=max(path.stat().st_size, 1),
        file=sys.stderr,
        item_show_func=lambda text: text,
    ) as bar:

        def advance(bytes_read: int, rows: int) -> None:
            speed = rows / max(time.perf_counter() - started, 1e-6)
            text = translate(
                PROGRESS, locale, rows=_number(rows, locale), speed=_number(speed, locale)
            )
            bar.update(bytes_read - state["bytes"], text)
            state["bytes"] = bytes_read

        yield advance
