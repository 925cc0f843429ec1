"""The priority rule: points for the type, a negative mood and each signal; thresholds.

| what | points |            | priority | points |
|---|---|---|---|---|
| complaint | 2 | | urgent | ≥ 7 |
| question, purchase_intent, information | 1 | | high | 4–6 |
| compliment, other | 0 | | normal | 1–3 |
| negative sentiment (score ≤ −0.6: one more) | 1 (2) | | low | 0 |
| safety | 7 | | | |
| legal | 5 | | | |
| threat_to_go_public | 3 | | | |
| threat_to_leave, high_reach, vip | 2 | | | |
| public, repeat_contact | 1 | | | |

So a safety word is always urgent; a complaint with a lawyer is urgent (a question about one
is high); an angry complaint that threatens to leave or to go public is high, and urgent from
a VIP or on a public post; a plain question is normal; thanks are low. docs/TRIAGE.md
repeats the table.
"""

from __future__ import annotations

from collections.abc import Iterable

TYPE_POINTS = {
    "complaint": 2,
    "question": 1,
    "purchase_intent": 1,
    "information": 1,
    "compliment": 0,
    "other": 0,
}
SIGNAL_POINTS = {
    "safety": 7,
    "legal": 5,
    "threat_to_go_public": 3,
    "threat_to_leave": 2,
    "high_reach": 2,
    "vip": 2,
    "public": 1,
    "repeat_contact": 1,
}
THRESHOLDS = ((7, "urgent"), (4, "high"), (1, "normal"))
VERY_NEGATIVE = -0.6


def priority_points(kind: str, sentiment: str, score: float, signals: Iterable[str]) -> int:
    points = TYPE_POINTS.get(kind, 0) + sum(SIGNAL_POINTS.get(code, 0) for code in signals)
    if sentiment == "negative":
        points += 2 if score <= VERY_NEGATIVE else 1
    return points


def priority_of(kind: str, sentiment: str, score: float, signals: Iterable[str]) -> str:
    points = priority_points(kind, sentiment, score, signals)
    return next((name for floor, name in THRESHOLDS if points >= floor), "low")
