"""Which of the workspace's languages a message is in (lingua, limited to those languages).

Detectors are slow to build, so one is built per set of languages and kept. The fast
low-accuracy mode answers first; a text it is unsure about is asked again in high-accuracy
mode (docs/TRIAGE.md has the figures). A text with no letters (empty, emoji, digits), or that
neither mode can place, gets the workspace's first language and is flagged uncertain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from filrouge.triage.polarity import words

SURE = 0.9  # low-accuracy confidence under which the high-accuracy mode decides
# The cheap check first: a text with at least CLEAR_MARGIN more common words of one language
# than of every other is that language, without asking lingua (three times faster overall,
# as accurate on the evaluation tweets: docs/TRIAGE.md). Languages without a list: lingua.
COMMON_WORDS = {
    "fr": words(
        "le la les des du et est je vous pas pour une un que qui mon ma mes ne sur"
        " avec au aux ce cette il elle nous mais plus bonjour merci svp jsuis suis ai"
        " avez votre vos ça c'est j'ai n'est d'un d'une qu'il l'on toujours depuis"
        " rien très"
    ),
    "en": words(
        "the and is to of you my for it not with on this that are was have be your"
        " thanks hi please i'm it's don't can't what how why when will would there"
        " they just been has get got still from our we me"
    ),
}
CLEAR_MARGIN = 2
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True, slots=True)
class Detected:
    language: str
    uncertain: bool


def lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code.lower()))
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"unknown language code: {code!r}") from exc


@cache
def _detectors(languages: tuple[str, ...]) -> tuple[LanguageDetector, LanguageDetector]:
    chosen = [lingua_language(code) for code in languages]
    fast = LanguageDetectorBuilder.from_languages(*chosen).with_low_accuracy_mode().build()
    precise = LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models()
    return fast, precise.build()


def has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


def obvious_language(text: str, languages: tuple[str, ...]) -> str | None:
    """The language whose common words clearly outnumber the others', if there is one."""
    words = _WORD.findall(text.lower().replace("’", "'"))
    counts = sorted(
        ((sum(word in COMMON_WORDS[code] for word in words), code) for code in languages),
        reverse=True,
    )
    if counts[0][0] - counts[1][0] >= CLEAR_MARGIN:
        return counts[0][1]
    return None


class LanguageIdentifier:
    def __init__(self, languages: Sequence[str]) -> None:
        if not languages:
            raise ValueError("at least one language")
        self.languages = tuple(code.lower() for code in languages)

    def detect(self, texts: Sequence[str]) -> list[Detected]:
        default = Detected(self.languages[0], uncertain=True)
        if len(self.languages) == 1:
            return [Detected(self.languages[0], not has_letters(t)) for t in texts]
        fast, precise = _detectors(self.languages)
        listed = all(code in COMMON_WORDS for code in self.languages)
        found: list[Detected] = []
        for text in texts:
            if not has_letters(text):
                found.append(default)
                continue
            obvious = obvious_language(text, self.languages) if listed else None
            if obvious is not None:
                found.append(Detected(obvious, False))
                continue
            best = fast.compute_language_confidence_values(text)[0]
            if best.value < SURE:
                best = precise.compute_language_confidence_values(text)[0]
            if best.value == 0.0:
                found.append(default)
            else:
                found.append(Detected(best.language.iso_code_639_1.name.lower(), False))
        return found
