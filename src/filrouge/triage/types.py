"""What triage says about a message, what the pipeline tells it, and the classifier protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

TYPES = ("question", "complaint", "compliment", "information", "purchase_intent", "other")
SENTIMENTS = ("negative", "neutral", "positive")
PRIORITIES = ("low", "normal", "high", "urgent")
SIGNALS = (
    "threat_to_leave",
    "threat_to_go_public",
    "legal",
    "safety",
    "public",
    "high_reach",
    "vip",
    "repeat_contact",
    "language_uncertain",
)
FIELDS = ("language", "type", "sentiment", "sentiment_score", "priority", "signals")


@dataclass(frozen=True, slots=True)
class Context:
    """What the pipeline knows about a message beyond its text (all optional)."""

    public: bool = False  # a public post or comment, not a private message
    followers: int = 0  # the author's audience on that network
    vip: bool = False
    recent_contacts: int = 0  # the customer's messages in the last days, this one excluded


@dataclass(frozen=True, slots=True)
class Triage:
    """One message's triage. ``sentiment_score`` is in −1…1: P(positive) − P(negative)."""

    language: str
    type: str
    sentiment: str
    sentiment_score: float
    priority: str
    signals: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """The API's and the CLI's shape: exactly ``FIELDS``."""
        return {
            "language": self.language,
            "type": self.type,
            "sentiment": self.sentiment,
            "sentiment_score": round(self.sentiment_score, 3),
            "priority": self.priority,
            "signals": list(self.signals),
        }


class Classifier(Protocol):
    """Anything that triages a batch of texts; a transformer can take this place later."""

    def classify(
        self, texts: Sequence[str], context: Context | Sequence[Context] | None = None
    ) -> list[Triage]: ...


def contexts_for(
    texts: Sequence[str], context: Context | Sequence[Context] | None
) -> list[Context]:
    """One context per text: none given → empty ones; one given → the same for every text."""
    if context is None:
        return [Context()] * len(texts)
    if isinstance(context, Context):
        return [context] * len(texts)
    if len(context) != len(texts):
        raise ValueError("one context per text, or a single one for all")
    return list(context)
