"""The committed training corpus (corpus.jsonl, built by build.py from templates/)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from filrouge.triage.types import SENTIMENTS, TYPES

CORPUS = Path(__file__).parent / "corpus.jsonl"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    language: str
    type: str
    sentiment: str
    group: str = ""  # the template it came from: held-out splits keep a template on one side


def example_from(row: dict[str, str]) -> Example:
    if row["type"] not in TYPES or row["sentiment"] not in SENTIMENTS:
        raise ValueError(f"unknown label in {row!r}")
    return Example(
        row["text"], row["language"], row["type"], row["sentiment"], row.get("template", "")
    )


def read_jsonl(path: Path) -> list[dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_corpus(path: Path = CORPUS) -> list[Example]:
    return [example_from(row) for row in read_jsonl(path)]
