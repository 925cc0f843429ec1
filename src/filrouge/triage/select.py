"""Model selection on our own corpus, never on the public evaluation data.

``python -m filrouge.triage.select`` trains on part of the corpus and prints, per language,
type macro-F1, complaint F1 (complaint against every other type, as the public complaints data
is scored) and sentiment macro-F1 on the rest, for two splits:
- ``templates``: one template in five held out (all its variants, so a held-out line was never
  seen even in another spelling);
- ``register``: trained on the first batch of templates, scored on the second (shorter,
  tweet-like, more off-topic moods: templates/*.txt after ``# batch 2``), a test of how the model
  carries over to messages written in a register it has not seen.
Every choice of features and settings in ``model.py`` is made on these figures (their mean);
the public data is read only by ``evaluate.py``, to report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from sklearn.metrics import f1_score

from filrouge.triage.corpus import Example, load_corpus
from filrouge.triage.corpus.build import second_batch_start
from filrouge.triage.model import train

HELD_OUT_EVERY = 5  # one template in five


def template_number(example: Example) -> int:
    return int(example.group.rsplit("-", 1)[-1]) if example.group else 0


def one_in_five(example: Example) -> bool:
    return template_number(example) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1


def second_batch(example: Example) -> bool:
    return template_number(example) >= second_batch_start(example.language)


SPLITS: dict[str, Callable[[Example], bool]] = {"templates": one_in_five, "register": second_batch}


def split(
    corpus: Sequence[Example], held_out: Callable[[Example], bool]
) -> tuple[list[Example], list[Example]]:
    return [e for e in corpus if not held_out(e)], [e for e in corpus if held_out(e)]


def held_out_figures(
    corpus: Sequence[Example], held: Callable[[Example], bool] = one_in_five
) -> dict[str, float]:
    training, held_out = split(corpus, held)
    model = train(training)
    figures: dict[str, float] = {}
    for language in ("fr", "en"):
        rows = [e for e in held_out if e.language == language]
        found = model.predict([e.text for e in rows], [language] * len(rows))
        kinds = [e.type for e in rows]
        guessed = [p.type for p in found]
        figures[f"type_macro_f1_{language}"] = f1_score(kinds, guessed, average="macro")
        figures[f"complaint_f1_{language}"] = f1_score(
            [k == "complaint" for k in kinds], [g == "complaint" for g in guessed]
        )
        figures[f"sentiment_macro_f1_{language}"] = f1_score(
            [e.sentiment for e in rows], [p.sentiment for p in found], average="macro"
        )
    return figures


def all_figures(corpus: Sequence[Example]) -> dict[str, float]:
    figures = {}
    for name, held in SPLITS.items():
        figures.update(
            {f"{name} {key}": value for key, value in held_out_figures(corpus, held).items()}
        )
    figures["mean"] = sum(figures.values()) / len(figures)
    return figures


def main() -> int:
    for name, value in all_figures(load_corpus()).items():
        print(f"{name:<34} {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
