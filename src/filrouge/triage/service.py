"""The classifier as the rest of Filrouge uses it: one per process, never raising.

Training takes seconds, loading the cached model milliseconds, so a classifier is kept per
(languages, corrections file as last seen): data directories that hold the same corrections
(every test's, or none) share one, and ``filrouge triage retrain`` is picked up by a running
process at its next batch (one ``stat`` per batch). ``classify_safely`` answers ``None`` for a
batch the classifier could not read, and says why in the log: the pipeline stores the messages
anyway, untriaged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filrouge.triage.types import Context, Triage

if TYPE_CHECKING:  # scikit-learn and lingua are imported when the model is first needed
    from filrouge.triage.classifier import LinearTriage

log = logging.getLogger(__name__)
_lock = threading.Lock()
KEPT = 3


@dataclass(frozen=True)
class Loaded:
    classifier: LinearTriage
    version: str  # MODEL_VERSION and the digest of what it was trained from


_loaded: dict[tuple[tuple[str, ...], tuple[int, int]], Loaded] = {}


def _corrections_stamp(data_dir: Path) -> tuple[Path, tuple[int, int]]:
    path = data_dir / "triage" / "corrections.jsonl"  # store.triage_dir, CORRECTIONS_FILE
    try:
        found = path.stat()
    except FileNotFoundError:
        return path, (0, 0)
    return path, (found.st_mtime_ns, found.st_size)


def loaded_classifier(data_dir: Path, languages: Sequence[str]) -> Loaded:
    """This process's classifier for ``data_dir``'s corrections and these languages."""
    path, stamp = _corrections_stamp(data_dir)
    key = (tuple(languages), stamp)
    found = _loaded.get(key)
    if found is not None:
        return found
    with _lock:  # one thread trains; the others wait for it rather than train again
        if key not in _loaded:
            from filrouge.triage.classifier import MODEL_LANGUAGES, LinearTriage
            from filrouge.triage.store import MODEL_VERSION, _digest

            raw = path.read_bytes() if stamp != (0, 0) else b""
            version = f"{MODEL_VERSION}-{_digest(MODEL_LANGUAGES, raw)}"
            classifier = LinearTriage.from_data_dir(data_dir, languages)
            while len(_loaded) >= KEPT:  # the oldest goes (a model is tens of megabytes)
                _loaded.pop(next(iter(_loaded)))
            _loaded[key] = Loaded(classifier, version)
        return _loaded[key]


def classify_safely(
    data_dir: Path, languages: Sequence[str], texts: Sequence[str], contexts: Sequence[Context]
) -> tuple[list[Triage], str] | None:
    """Each text's triage and the model's version, or ``None`` (logged) if it failed."""
    try:
        loaded = loaded_classifier(data_dir, languages)
        return loaded.classifier.classify(list(texts), list(contexts)), loaded.version
    except Exception:  # the pipeline must store the messages whatever happens here
        log.exception("triage failed for a batch of %d messages; stored untriaged", len(texts))
        return None


def warm_up(data_dir: Path, languages: Sequence[str]) -> None:
    """Load the model and build the language detectors now (``filrouge serve`` at start)."""
    classify_safely(data_dir, languages, ["Bonjour, merci"], [Context()])
