"""The shipped classifier: language (lingua) → type and sentiment (text model) → signals →
priority. ``classify`` takes a batch; the pipeline will call it with one message and its
context. Bad input (empty, emoji only, another language) gets defaults, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from filrouge.triage.language import LanguageIdentifier, has_letters
from filrouge.triage.model import TextModel
from filrouge.triage.priority import priority_of
from filrouge.triage.signals import context_signals, text_signals
from filrouge.triage.store import load_model
from filrouge.triage.types import Context, Triage, contexts_for

MAX_CHARS = 5_000  # enough to classify an email; the rest is not read


class LinearTriage:
    """Implements ``types.Classifier`` with n-gram linear models and lexicons."""

    def __init__(self, model: TextModel, languages: Sequence[str] = ("fr", "en")) -> None:
        self.model = model
        self.identifier = LanguageIdentifier(languages)

    @classmethod
    def from_data_dir(cls, data_dir: Path, languages: Sequence[str] = ("fr", "en")) -> LinearTriage:
        return cls(load_model(data_dir, ("fr", "en")), languages)

    def classify(
        self, texts: Sequence[str], context: Context | Sequence[Context] | None = None
    ) -> list[Triage]:
        contexts = contexts_for(texts, context)
        cleaned = [" ".join(text[:MAX_CHARS].split()) for text in texts]
        detected = self.identifier.detect(cleaned)
        readable = [i for i, text in enumerate(cleaned) if text]
        predictions = dict(
            zip(
                readable,
                self.model.predict(
                    [cleaned[i] for i in readable], [detected[i].language for i in readable]
                ),
                strict=True,
            )
        )
        results = []
        for i, text in enumerate(cleaned):
            signals = text_signals(text) + context_signals(contexts[i])
            if detected[i].uncertain:
                signals.append("language_uncertain")
            guess = predictions.get(i)
            kind, mood, score = (
                (guess.type, guess.sentiment, guess.sentiment_score)
                if guess
                else ("other", "neutral", 0.0)
            )
            if not has_letters(text) and kind not in ("other", "compliment", "complaint"):
                kind = "other"
            results.append(
                Triage(
                    detected[i].language,
                    kind,
                    mood,
                    score,
                    priority_of(kind, mood, score, signals),
                    tuple(signals),
                )
            )
        return results
