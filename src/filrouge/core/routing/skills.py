"""What a conversation is, for routing, and the team whose skills fit it best.

A team takes part in routing unless its strategy is ``off``. Each skill it lists (languages,
channel kinds, topics) must match; a skill left empty matches anything. Among the teams that
match, the one that lists the most skills wins (the most specific), then the oldest.
Topics match a conversation's tags, its first message's triage type, or a word of its first
message ("livraison" in "Ma livraison est en retard").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache


class Strategy(StrEnum):
    OFF = "off"  # reached only by hand or by rules
    MANUAL = "manual"  # the team's queue; a person assigns
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"


AUTOMATIC = (Strategy.ROUND_ROBIN, Strategy.LEAST_LOADED)
ROUTED = (Strategy.MANUAL, *AUTOMATIC)


@dataclass(frozen=True)
class Facts:
    """What routing knows of one conversation."""

    conversation_id: int
    workspace_id: int
    channel_kind: str
    customer_id: int | None = None
    language: str | None = None
    tags: frozenset[str] = frozenset()
    triage_type: str | None = None
    text: str = ""


@dataclass(frozen=True)
class TeamSkills:
    id: int
    workspace_id: int
    strategy: str
    languages: frozenset[str] = frozenset()
    channel_kinds: frozenset[str] = frozenset()
    topics: tuple[str, ...] = ()
    members: tuple[int, ...] = field(default_factory=tuple)

    @property
    def specificity(self) -> int:
        return sum(bool(s) for s in (self.languages, self.channel_kinds, self.topics))


def matched_topic(topics: Sequence[str], facts: Facts) -> str | None:
    """The first of ``topics`` the conversation is about (tag, triage type or word)."""
    for topic in topics:
        if topic in facts.tags or topic == facts.triage_type:
            return topic
    words = _words_pattern(tuple(topics))
    found = words.search(facts.text.lower()) if words and facts.text else None
    return found.group(1) if found else None


@lru_cache(maxsize=256)
def _words_pattern(topics: tuple[str, ...]) -> re.Pattern[str] | None:
    if not topics:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(topics, key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)")


def fits(team: TeamSkills, facts: Facts) -> bool:
    if team.workspace_id != facts.workspace_id or team.strategy not in ROUTED:
        return False
    if team.languages and facts.language not in team.languages:
        return False
    if team.channel_kinds and facts.channel_kind not in team.channel_kinds:
        return False
    return not team.topics or matched_topic(team.topics, facts) is not None


def choose_team(teams: Iterable[TeamSkills], facts: Facts) -> TeamSkills | None:
    """The matching team that lists the most skills; the oldest among equals."""
    best: TeamSkills | None = None
    for team in teams:
        if fits(team, facts) and (best is None or _better(team, best)):
            best = team
    return best


def _better(team: TeamSkills, than: TeamSkills) -> bool:
    return (team.specificity, -team.id) > (than.specificity, -than.id)


def needs_language(teams: Iterable[TeamSkills]) -> bool:
    return any(team.languages for team in teams)
