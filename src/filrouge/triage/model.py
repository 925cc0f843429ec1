"""The text model: character and word n-grams plus lexicon polarity → two linear classifiers.

One model for both languages (the language is a feature), trained in a few seconds from the
committed corpus and the agents' corrections; deterministic (lbfgs, fixed inputs). Every
setting below was chosen on held-out parts of our own corpus (``select.py``), never on the
public evaluation data (docs/TRIAGE.md).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from filrouge.triage.corpus import Example
from filrouge.triage.lone import LoneScorer, Unhashable, softmax
from filrouge.triage.polarity import polarity

LEXICON_WEIGHT = 2.0
C_TYPE = 10.0  # held-out mean over 0.3…30: flat from 3 on
C_SENTIMENT = 3.0  # held-out mean over 0.01…10: rises to 3, flat after
CORRECTION_WEIGHT = 20.0  # a correction counts as this many corpus examples
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    """Links, @mentions and numbers become placeholders: what they say is not their digits."""
    text = _URL.sub(" http ", text)
    text = _MENTION.sub(" @user ", text)
    return _DIGITS.sub("0", text)


CHAR_RANGE: tuple[int, int] | None = (3, 5)  # hashed, so no vocabulary to look up
PREFIX = 5
NEGATE = True
_TOKENS = re.compile(r"\w+|[^\w\s]")
# A word after one of these, up to the next punctuation mark, is also counted as negated
# ("not happy" → "¬happy"), so "happy" and "not happy" pull apart.
_NEGATOR_WORDS = (
    "pas jamais aucun aucune rien ni guère sans not no never nothing nobody nor without"
    " dont don doesnt didnt isnt wasnt cant couldnt wont wouldnt havent hasnt aint"
    " t"  # the "t" of "don't", cut off by the tokenizer
)
NEGATORS = frozenset(_NEGATOR_WORDS.split())


def negated(tokens: Sequence[str]) -> list[str]:
    """``¬word`` for each word in the scope of a negation (from a negator to punctuation)."""
    marked, scope = [], False
    for token in tokens:
        if not token[0].isalnum():
            scope = False
        elif token in NEGATORS:
            scope = True
        elif scope:
            marked.append(f"¬{token}")
    return marked


def word_features(text: str) -> list[str]:
    """Words, pairs of words, the first letters of long words (résilier ~ résiliation) and the
    negated words."""
    tokens = _TOKENS.findall(text.lower())
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
    stems = [f"{t[:PREFIX]}~" for t in tokens if len(t) > PREFIX] if PREFIX else []
    return tokens + pairs + stems + (negated(tokens) if NEGATE else [])


def _vectorizer() -> FeatureUnion:
    parts: list[tuple[str, Any]] = [
        ("words", TfidfVectorizer(analyzer=word_features, sublinear_tf=True, dtype=np.float32))
    ]
    if CHAR_RANGE:
        chars = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=CHAR_RANGE,
            n_features=2**18,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )
        parts.append(("chars", make_pipeline(chars, TfidfTransformer(sublinear_tf=True))))
    return FeatureUnion(parts)


@dataclass(frozen=True, slots=True)
class Prediction:
    type: str
    sentiment: str
    sentiment_score: float  # P(positive) − P(negative)


class TextModel:
    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        self.vectorizer = _vectorizer()
        self.type_model = LogisticRegression(C=C_TYPE, max_iter=3000, class_weight="balanced")
        self.sentiment_prior = np.ones(3)
        # Corrected texts, word for word: the same text again gets the agents' labels even
        # where one weighted example is not enough to move the regularised model.
        self.remembered: dict[str, tuple[str, str]] = {}
        self.sentiment_model = LogisticRegression(
            C=C_SENTIMENT, max_iter=3000, class_weight="balanced"
        )

    def _extra(self, texts: Sequence[str], languages: Sequence[str]) -> csr_matrix:
        rows = [
            self._extra_row(text, language) for text, language in zip(texts, languages, strict=True)
        ]
        return csr_matrix(np.asarray(rows, dtype=np.float32).reshape(len(rows), -1))

    def _extra_row(self, text: str, language: str) -> list[float]:
        """The lexicon's polarity and the language, the columns after the n-grams."""
        mood = polarity(text, language)
        flags = [float(language == code) for code in self.languages]
        return [
            mood.compound * LEXICON_WEIGHT,
            mood.positive * LEXICON_WEIGHT,
            mood.negative * LEXICON_WEIGHT,
            *flags,
        ]

    def features(
        self, texts: Sequence[str], languages: Sequence[str], fit: bool = False
    ) -> csr_matrix:
        cleaned = [normalise(text) for text in texts]
        if fit:
            grams = self.vectorizer.fit_transform(cleaned)
        else:  # FeatureUnion.transform without its joblib round trip (a message at a time)
            parts = self.vectorizer.transformer_list
            grams = hstack([part.transform(cleaned) for _, part in parts], format="csr")
        return hstack([grams, self._extra(texts, languages)], format="csr")

    def fit(self, examples: Sequence[Example], weights: Sequence[float] | None = None) -> TextModel:
        self.__dict__.pop("_lone", None)  # a lone text's scorer reads the fitted numbers
        matrix = self.features([e.text for e in examples], [e.language for e in examples], fit=True)
        weight = None if weights is None else np.asarray(weights)
        self.type_model.fit(matrix, [e.type for e in examples], sample_weight=weight)
        self.sentiment_model.fit(matrix, [e.sentiment for e in examples], sample_weight=weight)
        # Regularisation leaves the probabilities leaning to the classes' priors; dividing by
        # each class's mean probability on the training set takes the lean out (a neutral text
        # scores about 0).
        self.sentiment_prior = self.sentiment_model.predict_proba(matrix).mean(axis=0)
        return self

    def predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        # The inputs are ours and checked once at training: scikit-learn's per-call checks
        # cost a sixth of a lone message's classification.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return self._predict(texts, languages)

    def _predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[Prediction]:
        scored = self._scored_alone(texts[0], languages[0]) if len(texts) == 1 else None
        if scored is not None:
            kinds, moods = scored
        else:
            matrix = self.features(texts, languages)
            kinds = self.type_model.predict(matrix)
            moods = self.sentiment_model.predict_proba(matrix)
        remembered = [self.remembered.get(_key(text)) for text in texts]
        moods = moods / self.sentiment_prior
        moods /= moods.sum(axis=1, keepdims=True)
        classes = list(self.sentiment_model.classes_)
        negative, positive = classes.index("negative"), classes.index("positive")
        found = [
            Prediction(
                str(kind), str(classes[int(np.argmax(row))]), float(row[positive] - row[negative])
            )
            for kind, row in zip(kinds, moods, strict=True)
        ]
        return [
            _as_corrected(guess, labels) if labels else guess
            for guess, labels in zip(found, remembered, strict=True)
        ]

    def _scored_alone(self, text: str, language: str) -> tuple[np.ndarray, np.ndarray] | None:
        """One text's type (an array of one label) and sentiment probabilities (one row), as
        scikit-learn's ``predict`` and ``predict_proba`` give them, without their per-call
        machinery (``lone.py``); None when the text must take scikit-learn's path."""
        if min(len(self.type_model.classes_), len(self.sentiment_model.classes_)) <= 2:
            return None  # a binary model has one row of coefficients, not one per class
        scorer = self.__dict__.get("_lone")
        if scorer is None:
            scorer = self.__dict__["_lone"] = LoneScorer(self)
        try:
            kind, mood = scorer.decisions(normalise(text), self._extra_row(text, language))
        except Unhashable:
            return None
        return self.type_model.classes_[[int(np.argmax(kind))]], softmax(mood)[np.newaxis, :]

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_lone"}


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _as_corrected(guess: Prediction, labels: tuple[str, str]) -> Prediction:
    kind, mood = labels
    score = guess.sentiment_score
    if mood != guess.sentiment:  # the score agrees with the corrected sentiment
        score = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}[mood] * max(abs(score), 0.5)
    return Prediction(kind, mood, score)


def train(
    examples: Sequence[Example],
    corrections: Sequence[Example] = (),
    languages: Sequence[str] = ("fr", "en"),
) -> TextModel:
    weights = [1.0] * len(examples) + [CORRECTION_WEIGHT] * len(corrections)
    model = TextModel(languages).fit([*examples, *corrections], weights)
    model.remembered = {_key(e.text): (e.type, e.sentiment) for e in corrections}
    return model
