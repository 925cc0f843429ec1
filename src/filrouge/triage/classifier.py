"""The shipped classifier: language (lingua) → type and sentiment (text model) → signals →
priority. ``classify`` takes a batch; the pipeline will call it with one message and its
context. Bad input (empty, emoji only, another language) gets defaults, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from filrouge.triage.language import Detected, LanguageIdentifier, has_letters
from filrouge.triage.model import Prediction, TextModel
from filrouge.triage.priority import priority_of
from filrouge.triage.signals import context_signals, text_signals
from filrouge.triage.store import load_model
from filrouge.triage.types import Context, Triage, contexts_for

MAX_CHARS = 5_000  # enough to classify an email; the rest is not read


NOTHING = Prediction("other", "neutral", 0.0)  # an empty message
WORDLESS_TYPES = frozenset({"other", "compliment", "complaint"})  # what emoji alone can say
MODEL_LANGUAGES = ("fr", "en")  # the corpus's languages; others are read as English


class LinearTriage:
    """Implements ``types.Classifier`` with n-gram linear models and lexicons."""

    def __init__(self, model: TextModel, languages: Sequence[str] = ("fr", "en")) -> None:
        self.model = model
        self.identifier = LanguageIdentifier(languages)

    @classmethod
    def from_data_dir(cls, data_dir: Path, languages: Sequence[str] = ("fr", "en")) -> LinearTriage:
        return cls(load_model(data_dir, MODEL_LANGUAGES), languages)

    def classify(
        self, texts: Sequence[str], context: Context | Sequence[Context] | None = None
    ) -> list[Triage]:
        contexts = contexts_for(texts, context)
        cleaned = [" ".join(text[:MAX_CHARS].split()) for text in texts]
        detected = self.identifier.detect(cleaned)
        guesses = self._predict(cleaned, [found.language for found in detected])
        return [_triage(*row) for row in zip(cleaned, detected, guesses, contexts, strict=True)]

    def _predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[Prediction]:
        readable = [i for i, text in enumerate(texts) if text]
        found = self.model.predict([texts[i] for i in readable], [languages[i] for i in readable])
        guesses = [NOTHING] * len(texts)
        for i, guess in zip(readable, found, strict=True):
            guesses[i] = guess
        return guesses


def _triage(text: str, detected: Detected, guess: Prediction, context: Context) -> Triage:
    signals = text_signals(text) + context_signals(context)
    if detected.uncertain:
        signals.append("language_uncertain")
    kind = guess.type if has_letters(text) or guess.type in WORDLESS_TYPES else "other"
    score = guess.sentiment_score
    priority = priority_of(kind, guess.sentiment, score, signals)
    return Triage(detected.language, kind, guess.sentiment, score, priority, tuple(signals))
