"""Lexicon polarity of a text: VADER for English, a fast VADER-like scorer for French.

A ``Polarity`` has ``compound`` in −1…1 (VADER's normalisation) and the shares of positive and
negative words. The classifier uses them as features next to the n-grams, so the model knows
words its corpus never saw. English is VADER itself (``vaderSentiment``, MIT, its lexicon
inside). French words are vader_FR's plus ours, scored with VADER's main rules (negation,
boosters, « mais », capitals, exclamation marks); emoji score as VADER scores their English
description. Lexicons and their licences: lexicons/README.md. The same French scorer run with
VADER's English lexicon was measured too: 0.01 macro-F1 lower on English tweets (TRIAGE.md).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vaderSentiment import vaderSentiment

LEXICONS = Path(__file__).parent / "lexicons"
NEGATION_FACTOR = -0.74
BOOST = 0.293
NORMALISER = 15.0
CAPS_BOOST = 0.733
TOKEN = re.compile(
    r"[:;=8xX][-'^o]?[()\[\]dDpP/\\|*@$3{}]+|<3|[^\W\d_]+(?:'t)?|[^\w\s]", re.UNICODE
)


@dataclass(frozen=True, slots=True)
class Polarity:
    compound: float
    positive: float
    negative: float


NEUTRAL = Polarity(0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Rules:
    words: dict[str, float]
    negators: frozenset[str]
    boosters: frozenset[str]
    contrast: str  # what comes after it counts more (« mais », "but")


def _accent_table() -> dict[int, str]:
    table = {}
    for code in range(0xC0, 0x250):  # Latin-1 and Latin Extended-A/B: é → e, ç → c
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    return table


_ACCENTS = _accent_table()


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def strip_accents(text: str) -> str:
    """Latin letters without their accents (a table: far faster than decomposing)."""
    return text.translate(_ACCENTS)


def _read_tsv(path: Path) -> dict[str, float]:
    words: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, value = line.split("\t")[:2]
            words[word.lower()] = float(value)
    return words


@cache
def _vader() -> vaderSentiment.SentimentIntensityAnalyzer:
    return vaderSentiment.SentimentIntensityAnalyzer()


@cache
def emoji_valences() -> dict[str, float]:
    """Each emoji's valence: VADER's words of its English description, added up."""
    words = _vader().lexicon
    return {
        emoji: sum(words.get(word, 0.0) for word in description.split())
        for emoji, description in _vader().emojis.items()
    }


def _with_emoji(words: dict[str, float]) -> dict[str, float]:
    merged = dict(words)
    merged.update((emoji, value) for emoji, value in emoji_valences().items() if value)
    return merged


@cache
def rules(language: str) -> Rules:
    """The French rules (kept per language, so another language can be added beside)."""
    if language == "fr":
        lexicon = _read_tsv(LEXICONS / "fr_vader_fr.tsv")
        lexicon.update(_read_tsv(LEXICONS / "fr_filrouge.tsv"))
        for word, value in list(lexicon.items()):
            lexicon.setdefault(strip_accents(word), value)
        return Rules(
            _with_emoji(lexicon),
            words("pas jamais plus aucun aucune rien sans ni personne guère"),
            words(
                "très tres trop vraiment super tellement hyper grave vachement si complètement"
                " totalement absolument extrêmement"
            ),
            "mais",
        )
    raise ValueError(f"no polarity rules for {language!r}")


def _negated(tokens: list[str], index: int, negators: frozenset[str]) -> bool:
    before = tokens[max(0, index - 3) : index]
    return any(word in negators or word.endswith("n't") for word in before)


def polarity(text: str, language: str) -> Polarity:
    """French rules for ``fr``; VADER for every other language."""
    if language != "fr":
        scores = _vader().polarity_scores(text)
        return Polarity(scores["compound"], scores["pos"], scores["neg"])
    rule = rules("fr")
    raw = TOKEN.findall(text.replace("’", "'"))
    tokens = [token.lower() for token in raw]
    shouting = not text.isupper()
    scores = []
    for index, token in enumerate(tokens):
        value = rule.words.get(token)
        if not value:
            continue
        if index and tokens[index - 1] in rule.boosters:
            value += BOOST if value > 0 else -BOOST
        if shouting and len(token) > 1 and raw[index].isupper():
            value += CAPS_BOOST if value > 0 else -CAPS_BOOST
        if _negated(tokens, index, rule.negators):
            value *= NEGATION_FACTOR
        scores.append((index, value))
    if not scores:
        return NEUTRAL
    if rule.contrast in tokens:
        pivot = tokens.index(rule.contrast)
        scores = [(i, v * (0.5 if i < pivot else 1.5)) for i, v in scores]
    values = [v for _, v in scores]
    total = sum(values)
    if total:
        total += math.copysign(min(text.count("!"), 4) * 0.292, total)
    positive = sum(v + 1 for v in values if v > 0)  # VADER's shares: each word counts one more
    negative = -sum(v - 1 for v in values if v < 0)
    spread = positive + negative + len(tokens) - len(values)
    return Polarity(
        compound=total / math.sqrt(total * total + NORMALISER),
        positive=positive / spread,
        negative=negative / spread,
    )
