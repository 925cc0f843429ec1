"""``filrouge triage classify`` and ``filrouge triage retrain`` (heavy imports happen inside)."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

import click

from filrouge.i18n import N_, translate

BATCH = 512
NO_DATABASE = N_("No migrated database: only the corrections from the file are used.")
FROM_AGENTS = N_("{count} corrections by agents read from the database.")
BACKFILL_PROGRESS = N_("{count} messages triaged…")
BACKFILL_DONE = N_("{count} messages triaged.")


def _languages(value: str | None) -> list[str]:
    from filrouge.settings import get_settings

    codes = [code.strip() for code in value.split(",")] if value else get_settings().languages
    return [code for code in codes if code]


def _batches(stream: TextIO) -> Iterator[list[str]]:
    lines = (line.rstrip("\r\n") for line in stream)
    while batch := list(islice(lines, BATCH)):
        yield batch


@click.group()
def triage() -> None:
    """Triage of messages: language, type, sentiment, signals, priority."""


@triage.command(name="classify")
@click.option("--languages", default=None, help="Comma-separated, first is the default (fr,en).")
def classify_command(languages: str | None) -> None:
    """Read one text per line on stdin; write one JSON object per line on stdout."""
    from filrouge.settings import get_settings
    from filrouge.triage.classifier import LinearTriage

    try:
        classifier = LinearTriage.from_data_dir(get_settings().data_dir, _languages(languages))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for batch in _batches(sys.stdin):
        for found in classifier.classify(batch):
            sys.stdout.write(json.dumps(found.as_dict(), ensure_ascii=False) + "\n")


@triage.command(name="retrain")
@click.option(
    "--corrections",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSONL: text, and type and/or sentiment (language optional). Replaces the last ones.",
)
@click.option(
    "--database/--no-database",
    default=True,
    help="Add the agents' corrections stored in the database (when it is migrated).",
)
def retrain_command(corrections: Path | None, database: bool) -> None:
    """Retrain from the corpus and the corrections; the cached model is replaced."""
    from filrouge.settings import get_settings
    from filrouge.triage.store import CorrectionError, load_model, save_corrections

    data_dir = get_settings().data_dir
    try:
        from_file = _file_corrections(data_dir, corrections)
    except (CorrectionError, json.JSONDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    from_agents = _database_corrections() if database else None
    rows = from_file + (from_agents or [])
    if rows or corrections is not None or from_agents is not None:
        with tempfile.TemporaryDirectory() as scratch:
            source = Path(scratch) / "corrections.jsonl"
            source.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
            count = save_corrections(data_dir, source) if rows else _forget_corrections(data_dir)
    else:
        count = 0
    load_model(data_dir)
    if from_agents is None and database:
        click.echo(translate(NO_DATABASE), err=True)
    elif from_agents is not None:
        click.echo(translate(FROM_AGENTS, count=len(from_agents)))
    click.echo(f"model retrained with {count} corrections" if rows else "model retrained")


def _file_corrections(data_dir: Path, given: Path | None) -> list[dict[str, Any]]:
    """The file given, else the lines of the last one given (those not from the database)."""
    from filrouge.triage.store import CORRECTIONS_FILE, read_corrections, triage_dir

    if given is not None:
        return [dict(row) for row in read_corrections(given)]
    kept = triage_dir(data_dir) / CORRECTIONS_FILE
    if not kept.exists():
        return []
    return [dict(row) for row in read_corrections(kept) if "message_id" not in row]


def _forget_corrections(data_dir: Path) -> int:
    from filrouge.triage.store import CORRECTIONS_FILE, triage_dir

    (triage_dir(data_dir) / CORRECTIONS_FILE).unlink(missing_ok=True)
    return 0


def _database_corrections() -> list[dict[str, Any]] | None:
    """The agents' corrections, or ``None`` when there is no migrated database to read."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import DBAPIError

    from filrouge.core.actions.triage_corrections import corrections_for_training
    from filrouge.db import create_db_engine, make_session_factory, transaction
    from filrouge.schema import DatabaseNotMigrated, check_migrated
    from filrouge.settings import get_settings

    url = make_url(get_settings().database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return None  # never create an empty database file here
    engine = create_db_engine(url.render_as_string(hide_password=False))
    try:
        check_migrated(engine)
        with transaction(make_session_factory(engine)) as session:
            return corrections_for_training(session)
    except (DatabaseNotMigrated, DBAPIError):
        return None
    finally:
        engine.dispose()


@triage.command(name="backfill")
@click.option("--chunk", default=500, type=click.IntRange(1, 10_000), help="Messages per commit.")
def backfill_command(chunk: int) -> None:
    """Triage the inbound messages stored without a triage (before it existed), by chunks."""
    from filrouge.core.actions.triage_backfill import BackfillFailed, backfill_triage
    from filrouge.db import create_db_engine, make_session_factory
    from filrouge.schema import check_migrated
    from filrouge.settings import get_settings

    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    check_migrated(engine)

    def progress(done: int) -> None:
        click.echo(translate(BACKFILL_PROGRESS, count=done), err=True)

    try:
        done = backfill_triage(
            make_session_factory(engine), settings.data_dir, settings.languages, chunk, progress
        )
    except BackfillFailed as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    click.echo(translate(BACKFILL_DONE, count=done))
