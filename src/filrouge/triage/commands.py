"""``filrouge triage classify`` and ``filrouge triage retrain`` (heavy imports happen inside)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TextIO

import click

BATCH = 512


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
def retrain_command(corrections: Path | None) -> None:
    """Retrain from the corpus and the corrections; the cached model is replaced."""
    from filrouge.settings import get_settings
    from filrouge.triage.store import CorrectionError, load_model, save_corrections

    data_dir = get_settings().data_dir
    count = 0
    if corrections is not None:
        try:
            count = save_corrections(data_dir, corrections)
        except (CorrectionError, json.JSONDecodeError) as exc:
            raise click.ClickException(str(exc)) from exc
    load_model(data_dir)
    click.echo(f"model retrained with {count} corrections" if corrections else "model retrained")
