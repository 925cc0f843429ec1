"""Where the trained model lives: rebuilt from the corpus and the corrections, cached on disk.

Nothing opaque is committed: the model is trained from ``corpus.jsonl`` (and the agents'
corrections, ``<data_dir>/triage/corrections.jsonl``) the first time it is needed, and kept as
``<data_dir>/triage/model-<digest>.pickle``. The digest covers the corpus, the lexicons, the
corrections, the model's code, ``MODEL_VERSION`` and scikit-learn's version, so any change retrains.
The pickle is only ever read from the installation's own data directory, which it wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Sequence
from pathlib import Path

import sklearn

from filrouge.triage.corpus import CORPUS, Example, load_corpus, read_jsonl
from filrouge.triage.model import TextModel, train
from filrouge.triage.polarity import LEXICONS
from filrouge.triage.types import SENTIMENTS, TYPES

MODEL_VERSION = "1"
CODE = tuple(Path(__file__).parent / name for name in ("model.py", "polarity.py", "store.py"))
CORRECTIONS_FILE = "corrections.jsonl"


class CorrectionError(ValueError):
    """A corrections file line that cannot be used (said with its line number)."""


def triage_dir(data_dir: Path) -> Path:
    return data_dir / "triage"


def read_corrections(path: Path) -> list[dict[str, str]]:
    """Lines of ``{"text", "type"?, "sentiment"?, "language"?}``; at least one label each."""
    rows = []
    for number, row in enumerate(read_jsonl(path), start=1):
        if not isinstance(row, dict) or not str(row.get("text", "")).strip():
            raise CorrectionError(f"{path}:{number}: a correction needs a text")
        if row.get("type") not in (None, *TYPES) or row.get("sentiment") not in (None, *SENTIMENTS):
            raise CorrectionError(f"{path}:{number}: unknown type or sentiment")
        if row.get("type") is None and row.get("sentiment") is None:
            raise CorrectionError(f"{path}:{number}: give a type, a sentiment or both")
        rows.append(row)
    return rows


def _digest(languages: Sequence[str], corrections: bytes) -> str:
    sha = hashlib.sha256(f"{MODEL_VERSION}|{sklearn.__version__}|{','.join(languages)}".encode())
    sha.update(CORPUS.read_bytes())
    for source in (*sorted(LEXICONS.glob("*.tsv")), *CODE):
        sha.update(source.read_bytes())
    sha.update(corrections)
    return sha.hexdigest()[:16]


def _write_atomically(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(payload)
    os.replace(temporary, path)


def _needs_base(rows: Sequence[dict[str, str]]) -> bool:
    """No corrections, or one naming a single label: the corpus-only model is needed first."""
    return not rows or any(not (row.get("type") and row.get("sentiment")) for row in rows)


def complete_corrections(
    rows: Sequence[dict[str, str]], base: TextModel | None, languages: Sequence[str]
) -> list[Example]:
    """A correction that names one label keeps the base model's answer for the other."""
    from filrouge.triage.language import LanguageIdentifier

    detected = LanguageIdentifier(languages).detect([row["text"] for row in rows])
    codes = [
        row.get("language") or found.language for row, found in zip(rows, detected, strict=True)
    ]
    if base is None:
        return [
            Example(row["text"], code, row["type"], row["sentiment"])
            for row, code in zip(rows, codes, strict=True)
        ]
    guesses = base.predict([row["text"] for row in rows], codes)
    return [
        Example(
            row["text"],
            code,
            row.get("type") or guess.type,
            row.get("sentiment") or guess.sentiment,
        )
        for row, code, guess in zip(rows, codes, guesses, strict=True)
    ]


def load_model(data_dir: Path, languages: Sequence[str] = ("fr", "en")) -> TextModel:
    """The cached model for this corpus and these corrections; trained and cached when missing."""
    folder = triage_dir(data_dir)
    corrections_path = folder / CORRECTIONS_FILE
    raw = corrections_path.read_bytes() if corrections_path.exists() else b""
    cached = folder / f"model-{_digest(languages, raw)}.pickle"
    if cached.exists():
        model = pickle.loads(cached.read_bytes())
        if isinstance(model, TextModel):
            return model
    corpus = load_corpus()
    rows = read_corrections(corrections_path) if raw else []
    if not rows:
        model = train(corpus, languages=languages)
    else:
        base = train(corpus, languages=languages) if _needs_base(rows) else None
        model = train(corpus, complete_corrections(rows, base, languages), languages)
    _write_atomically(cached, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    for stale in folder.glob("model-*.pickle"):
        if stale != cached:
            stale.unlink(missing_ok=True)
    return model


def save_corrections(data_dir: Path, source: Path) -> int:
    """Check a corrections file and make it the one every later model is trained with."""
    rows = read_corrections(source)
    payload = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    _write_atomically(triage_dir(data_dir) / CORRECTIONS_FILE, payload.encode("utf-8"))
    return len(rows)
