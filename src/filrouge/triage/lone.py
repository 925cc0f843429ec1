"""A lone message's scores read straight from the fitted model's numbers.

Most messages arrive one at a time (a webhook, a mail), and for one text scikit-learn's
transformers and classifiers spend most of their time on per-call machinery: checking the
input, building and sorting a sparse matrix, stacking three of them, checking it again in
each classifier. That was about 0.9 ms of the 1.2 ms a lone prediction took, while the text's
words and character n-grams cost 15 µs. ``LoneScorer`` takes the fitted numbers (the word
vocabulary, both idf vectors, the hashing's width, the classifiers' coefficients) and
computes the same features for one text — counted, sublinear tf × idf, unit length per part,
then the lexicon's columns — and the same decisions, on the few columns the text has.
Batches keep scikit-learn's path; ``tests/test_triage.py`` holds the two to the same scores
over the whole corpus. The features are computed in double precision where scikit-learn uses
single, so two types whose decision values tie to within 1e-5 may fall either way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.utils import murmurhash3_32

UNHASHABLE = -(2**31)  # scikit-learn maps this hash specially: such a text takes its path


class Unhashable(ValueError):
    """An n-gram hashed to ``UNHASHABLE``: the text is left to scikit-learn."""


class LoneScorer:
    """The type and sentiment classifiers' decision values for one text, from ``model`` (a
    fitted ``model.TextModel``)."""

    def __init__(self, model: Any) -> None:
        words = model.vectorizer.transformer_list[0][1]
        self.word_features: Callable[[str], list[str]] = words.build_analyzer()
        self.vocabulary: dict[str, int] = words.vocabulary_
        self.word_idf = np.asarray(words.idf_, dtype=np.float64)
        self.chars: tuple[Callable[[str], list[str]], int, np.ndarray] | None = None
        offset = len(self.vocabulary)
        if len(model.vectorizer.transformer_list) > 1:
            hashing, tfidf = (step for _, step in model.vectorizer.transformer_list[1][1].steps)
            idf = np.asarray(tfidf.idf_, dtype=np.float64)
            self.chars = (hashing.build_analyzer(), hashing.n_features, idf)
            offset += hashing.n_features
        self.extra_offset = offset  # the lexicon's and the languages' columns come last
        self.type_coef, self.type_intercept = _linear(model.type_model)
        self.sentiment_coef, self.sentiment_intercept = _linear(model.sentiment_model)

    def decisions(self, cleaned: str, extra: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """(type decision per class, sentiment decision per class) for ``cleaned`` (the
        normalised text) and ``extra`` (its lexicon and language columns); ``Unhashable`` for
        a text scikit-learn would hash differently."""
        columns, values = _unit_tfidf(
            [self.vocabulary[f] for f in self.word_features(cleaned) if f in self.vocabulary],
            self.word_idf,
        )
        parts = [(columns, values)]
        if self.chars is not None:
            analyse, width, idf = self.chars
            hashed = []
            for gram in analyse(cleaned):
                code = murmurhash3_32(gram, seed=0)
                if code == UNHASHABLE:
                    raise Unhashable(gram)
                hashed.append(abs(code) % width)
            columns, values = _unit_tfidf(hashed, idf)
            parts.append((columns + len(self.vocabulary), values))
        extra_columns = np.arange(len(extra)) + self.extra_offset
        parts.append((extra_columns, np.asarray(extra, dtype=np.float64)))
        all_columns = np.concatenate([columns for columns, _ in parts])
        all_values = np.concatenate([values for _, values in parts])
        return (
            self.type_coef[:, all_columns] @ all_values + self.type_intercept,
            self.sentiment_coef[:, all_columns] @ all_values + self.sentiment_intercept,
        )


def _unit_tfidf(indices: list[int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The columns a text has and their weights: (1 + ln count) × idf, scaled to unit length
    (``TfidfTransformer(sublinear_tf=True)``, norm l2)."""
    if not indices:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    counted = Counter(indices)
    columns = np.fromiter(counted.keys(), dtype=np.intp, count=len(counted))
    counts = np.fromiter(counted.values(), dtype=np.float64, count=len(counted))
    weights = (np.log(counts) + 1.0) * idf[columns]
    length = float(np.sqrt(weights @ weights))
    return columns, (weights / length if length else weights)


def _linear(classifier: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(classifier.coef_, dtype=np.float64), np.asarray(
        classifier.intercept_, dtype=np.float64
    )


def softmax(decision: np.ndarray) -> np.ndarray:
    """The multinomial model's probabilities from its decision values (as ``predict_proba``)."""
    shifted = np.exp(decision - decision.max())
    return shifted / shifted.sum()
