"""Evaluate the shipped classifier on the public labelled data (never trained on).

``make eval-triage`` runs ``python -m filrouge.triage.evaluate``. The data is read where it is,
``$FILROUGE_SHARED_DATA/triage`` (default ``../shared/data/triage``), never copied here:
- ``en_complaints_preotiuc2019/complaints-data.csv``: English tweets to companies, complaint 1/0
  (our ``complaint`` type → 1, every other type → 0);
- ``fr_en_tweet_sentiment_umsab_xlmt/{english,french}/{train,val}_{text,labels}.txt``: tweets,
  0 negative / 1 neutral / 2 positive; also the language of each tweet (fr or en).
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import f1_score, precision_recall_fscore_support

from filrouge.triage.classifier import LinearTriage
from filrouge.triage.types import SENTIMENTS, Classifier

GOALS = {"complaint_f1": 0.80, "sentiment_macro_f1": 0.65, "language_accuracy": 0.99}
SENTIMENT_SETS = {"en": "english", "fr": "french"}


def shared_triage_dir() -> Path:
    root = os.environ.get("FILROUGE_SHARED_DATA") or str(Path("..") / "shared" / "data")
    return Path(root) / "triage"


@dataclass(frozen=True, slots=True)
class Labelled:
    texts: list[str]
    labels: list[str]


def read_complaints(root: Path) -> Labelled:
    path = root / "en_complaints_preotiuc2019" / "complaints-data.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row and row[0].isdigit()]
    return Labelled(
        [row[1] for row in rows], ["complaint" if row[2] == "1" else "not" for row in rows]
    )


def read_sentiment(root: Path, language: str, split: str) -> Labelled:
    folder = root / "fr_en_tweet_sentiment_umsab_xlmt" / SENTIMENT_SETS[language]
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    return Labelled(texts, [SENTIMENTS[int(label)] for label in labels])


@dataclass(frozen=True, slots=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


def per_class(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> list[ClassScores]:
    p, r, f, s = precision_recall_fscore_support(
        gold, predicted, labels=list(labels), zero_division=0
    )
    return [ClassScores(label, *values) for label, *values in zip(labels, p, r, f, s, strict=True)]


def format_table(title: str, scores: Sequence[ClassScores]) -> str:
    lines = [title, f"  {'class':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>6}"]
    lines += [
        f"  {s.label:<12} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.support:>6}"
        for s in scores
    ]
    return "\n".join(lines)


def evaluate(
    classifier: Classifier, root: Path, splits: Sequence[str] = ("val", "train")
) -> dict[str, float]:
    """Print every table; return the headline figures (keys ``GOALS``' and a few more)."""
    figures: dict[str, float] = {}
    complaints = read_complaints(root)
    found = classifier.classify(complaints.texts)
    predicted = ["complaint" if t.type == "complaint" else "not" for t in found]
    print(
        format_table(
            "Complaints (English tweets, preotiuc2019):",
            per_class(complaints.labels, predicted, ["complaint", "not"]),
        )
    )
    figures["complaint_f1"] = f1_score(complaints.labels, predicted, pos_label="complaint")
    language_hits = language_total = 0
    for language in SENTIMENT_SETS:
        for split in splits:
            data = read_sentiment(root, language, split)
            found = classifier.classify(data.texts)
            moods = [t.sentiment for t in found]
            macro = f1_score(data.labels, moods, average="macro")
            print(
                format_table(
                    f"Sentiment {language} {split} (macro-F1 {macro:.3f}):",
                    per_class(data.labels, moods, SENTIMENTS),
                )
            )
            figures[f"sentiment_macro_f1_{language}_{split}"] = macro
            language_hits += sum(t.language == language for t in found)
            language_total += len(found)
    figures["language_accuracy"] = language_hits / language_total
    print(
        f"Language: {language_hits}/{language_total} tweets right "
        f"({figures['language_accuracy']:.4f})"
    )
    return figures


def goals_met(figures: dict[str, float]) -> dict[str, bool]:
    return {
        "complaint_f1": figures["complaint_f1"] >= GOALS["complaint_f1"],
        "sentiment_macro_f1_en": figures["sentiment_macro_f1_en_val"]
        >= GOALS["sentiment_macro_f1"],
        "sentiment_macro_f1_fr": figures["sentiment_macro_f1_fr_val"]
        >= GOALS["sentiment_macro_f1"],
        "language_accuracy": figures["language_accuracy"] >= GOALS["language_accuracy"],
    }


def main() -> int:
    root = shared_triage_dir()
    if not root.is_dir():
        print(f"error: no evaluation data at {root} (set FILROUGE_SHARED_DATA)", file=sys.stderr)
        return 1
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:  # the corpus alone, no one's corrections
        classifier = LinearTriage.from_data_dir(Path(scratch))
        figures = evaluate(classifier, root)
    for goal, met in goals_met(figures).items():
        print(f"GOAL {goal}: {'met' if met else 'NOT met'}")
    print(f"({time.perf_counter() - started:.1f} s, training included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
