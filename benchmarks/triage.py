"""Triage benchmark: the whole ``classify`` (language, type, sentiment, signals, priority) on one
core, in batches, after a warm-up; then each stage alone, so the slow one is named.

Messages: the committed corpus's texts, and the shared tweets when ../shared/data/triage is there
(speed only: nothing is scored here; `make eval-triage` scores). Goal: ≥ 5,000 messages/s.

    make bench            # or: .venv/bin/python benchmarks/triage.py --batch 256 --runs 3
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from filrouge.triage.classifier import LinearTriage
from filrouge.triage.corpus import load_corpus
from filrouge.triage.evaluate import read_complaints, read_sentiment, shared_triage_dir
from filrouge.triage.signals import text_signals

GOAL = 5_000


def messages() -> list[str]:
    texts = [example.text for example in load_corpus()]
    root = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "triage"
    root = root if root.is_dir() else shared_triage_dir()
    if root.is_dir():
        texts += read_complaints(root).texts
        for language in ("fr", "en"):
            texts += read_sentiment(root, language, "train").texts
    return texts


def per_second(
    work: Callable[[Sequence[str]], object], texts: list[str], batch: int, runs: int
) -> float:
    """Messages per second of this process's CPU time (one thread: one core), best run.

    CPU time rather than the wall clock, so a busy shared machine does not cut the figure;
    the wall clock's figure is printed too (``wall_messages/s``) for the whole classify."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for start in range(0, len(texts), batch):
            work(texts[start : start + batch])
        best = min(best, time.process_time() - started)
    return len(texts) / best


def wall_per_second(work: Callable[[Sequence[str]], object], texts: list[str], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        work(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    texts = messages()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.process_time()
        classifier = LinearTriage.from_data_dir(Path(scratch))
        training = time.process_time() - started
        started = time.process_time()
        LinearTriage.from_data_dir(Path(scratch))
        cached = time.process_time() - started
    classifier.classify(texts[:1000])  # warm-up: lingua's models load lazily
    whole = per_second(classifier.classify, texts, args.batch, args.runs)
    wall = wall_per_second(classifier.classify, texts, args.batch)
    languages = [found.language for found in classifier.identifier.detect(texts)]
    language = per_second(classifier.identifier.detect, texts, args.batch, args.runs)
    model = per_second(
        lambda b: classifier.model.predict(b, languages[: len(b)]), texts, args.batch, args.runs
    )
    signals = per_second(lambda b: [text_signals(t) for t in b], texts, args.batch, args.runs)
    print(
        f"BENCH triage messages/s={whole:.0f} goal={GOAL} met={'yes' if whole >= GOAL else 'no'} "
        f"wall_messages/s={wall:.0f} load={os.getloadavg()[0]:.1f} "
        f"messages={len(texts)} batch={args.batch} language/s={language:.0f} model/s={model:.0f} "
        f"signals/s={signals:.0f} train_cpu_s={training:.1f} load_cached_cpu_s={cached:.3f}"
    )


if __name__ == "__main__":
    main()
