"""Routing to teams and agents: the writes.

``route_new`` takes the facts of new conversations (a whole batch, just before commit):
the team by skills (core/routing/skills.py), then, for the teams that assign, the agent by
strategy (core/routing/agents.py); ``manual`` teams and teams where nobody can take one keep
it in their queue, unassigned, until someone comes online or frees room (rerouting.py).
Every decision is one ``conversation.routed`` event saying to whom and why, and the agent
given one is told. A handful of statements per batch, whatever its size.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from filrouge.core.actions.notifications import notify_many
from filrouge.core.audit import Actor, record_event
from filrouge.core.events import publish_after_commit
from filrouge.core.models import Conversation, Team
from filrouge.core.routing.agents import Choice, Pool
from filrouge.core.routing.skills import (
    AUTOMATIC,
    ROUTED,
    Facts,
    TeamSkills,
    choose_team,
    matched_topic,
    needs_language,
)
from filrouge.triage.language import LanguageIdentifier

ASSIGNED, NOBODY, MANUAL = "assigned", "nobody_available", "manual"
CONCIERGE = "concierge"


@dataclass(frozen=True)
class Route:
    """One decision: the conversation's team, its agent (or none) and why."""

    facts: Facts
    team: TeamSkills
    choice: Choice | None
    why: str
    previous_id: int | None = None
    matched: dict[str, str] = field(default_factory=dict)

    @property
    def assignee_id(self) -> int | None:
        return self.choice.user_id if self.choice else None


def routed_teams(session: Session, workspace_ids: Collection[int]) -> list[TeamSkills]:
    """The teams that take part in routing (strategy not ``off``); their members are not
    needed to choose a team (the pool reads the available ones)."""
    rows = session.execute(
        select(
            Team.id,
            Team.workspace_id,
            Team.strategy,
            Team.languages,
            Team.channel_kinds,
            Team.topics,
        )
        .where(Team.workspace_id.in_(sorted(set(workspace_ids))), Team.strategy.in_(ROUTED))
        .order_by(Team.id)
    )
    return [
        TeamSkills(
            id=row.id,
            workspace_id=row.workspace_id,
            strategy=row.strategy,
            languages=frozenset(row.languages or []),
            channel_kinds=frozenset(row.channel_kinds or []),
            topics=tuple(row.topics or []),
        )
        for row in rows
    ]


def skills_of(team: Team) -> TeamSkills:
    return TeamSkills(
        id=team.id,
        workspace_id=team.workspace_id,
        strategy=team.strategy,
        languages=frozenset(team.languages or []),
        channel_kinds=frozenset(team.channel_kinds or []),
        topics=tuple(team.topics or []),
        members=tuple(sorted(u.id for u in team.members)),
    )


def route_new(
    session: Session,
    facts: Sequence[Facts],
    idle: timedelta,
    languages: Sequence[str],
    concierge: Collection[int] = (),
) -> list[Route]:
    """Route new conversations (``concierge``: already given to their owner, team only)."""
    teams = routed_teams(session, {f.workspace_id for f in facts}) if facts else []
    if not teams:
        return []
    if needs_language(teams):
        facts = with_languages(facts, languages)
    placed = [(f, team) for f in facts if (team := choose_team(teams, f)) is not None]
    auto = {
        t.id for f, t in placed if t.strategy in AUTOMATIC and f.conversation_id not in concierge
    }
    pool = Pool.load(session, auto, idle)
    routes = [
        _decide(pool, f, t) if f.conversation_id not in concierge else Route(f, t, None, CONCIERGE)
        for f, t in placed
    ]
    write_routes(session, routes, pool)
    return routes


def with_languages(facts: Sequence[Facts], languages: Sequence[str]) -> list[Facts]:
    """Each conversation's language: the customer's, else its first message's (detected; none
    when the detector is unsure, e.g. a message made only of emoji)."""
    unknown = [f for f in facts if f.language is None]
    detected = LanguageIdentifier(languages or ["fr"]).detect([f.text for f in unknown])
    found = {
        f.conversation_id: None if d.uncertain else d.language
        for f, d in zip(unknown, detected, strict=True)
    }
    return [replace(f, language=found.get(f.conversation_id, f.language)) for f in facts]


def decide_in_team(pool: Pool, facts: Facts, team: TeamSkills, previous: int | None) -> Route:
    return replace(_decide(pool, facts, team), previous_id=previous)


def _decide(pool: Pool, facts: Facts, team: TeamSkills) -> Route:
    matched = _matched(team, facts)
    if team.strategy not in AUTOMATIC:
        return Route(facts, team, None, MANUAL, matched=matched)
    choice = pool.pick(team.id, team.strategy, facts.channel_kind)
    return Route(facts, team, choice, ASSIGNED if choice else NOBODY, matched=matched)


def _matched(team: TeamSkills, facts: Facts) -> dict[str, str]:
    matched = {}
    if team.languages and facts.language:
        matched["language"] = facts.language
    if team.channel_kinds:
        matched["channel"] = facts.channel_kind
    topic = matched_topic(team.topics, facts) if team.topics else None
    if topic:
        matched["topic"] = topic
    return matched


_ASSIGN = (
    update(Conversation)
    .where(Conversation.id == bindparam("cid"))
    .values(team_id=bindparam("team"), assignee_id=bindparam("assignee"))
)
_TEAM_ONLY = (
    update(Conversation)
    .where(Conversation.id == bindparam("cid"))
    .values(team_id=bindparam("team"))
)
_CURSOR = (
    update(Team).where(Team.id == bindparam("tid")).values(round_robin_last_id=bindparam("last"))
)


def write_routes(
    session: Session, routes: Sequence[Route], pool: Pool, action: str = "conversation.routed"
) -> None:
    """The decisions, in a few statements: conversations, cursors, events, notifications."""
    if not routes:
        return
    connection = session.connection()
    rows = [_row(r) for r in routes if r.why != CONCIERGE]
    if rows:
        connection.execute(_ASSIGN, rows)
    kept = [
        {"cid": r.facts.conversation_id, "team": r.team.id} for r in routes if r.why == CONCIERGE
    ]
    if kept:
        connection.execute(_TEAM_ONLY, kept)
    if pool.moved_cursors:
        cursors = [{"tid": t, "last": pool.cursors[t]} for t in sorted(pool.moved_cursors)]
        connection.execute(_CURSOR, cursors)
    for route in routes:
        _record(session, route, action)
    notify_many(session, [n for r in routes for n in _notifications(r, action)])


def _row(route: Route) -> dict[str, Any]:
    return {
        "cid": route.facts.conversation_id,
        "team": route.team.id,
        "assignee": route.assignee_id,
    }


def _record(session: Session, route: Route, action: str) -> None:
    after: dict[str, Any] = {
        "team_id": route.team.id,
        "assignee_id": route.assignee_id,
        "why": route.why,
        "strategy": route.team.strategy,
        "matched": route.matched,
    }
    if route.choice:
        after.update(
            kind_class=route.choice.kind_class,
            load=route.choice.load,
            capacity=route.choice.capacity,
        )
    before = {"assignee_id": route.previous_id} if route.previous_id else None
    cid = route.facts.conversation_id
    record_event(
        session,
        route.facts.workspace_id,
        Actor.system(),
        ("conversation", cid),
        action,
        before,
        after,
    )
    publish_after_commit(session, "conversation.updated", conversation_id=cid)


def _notifications(route: Route, action: str) -> Iterable[dict[str, Any]]:
    told = {"conversation_id": route.facts.conversation_id, "customer_id": route.facts.customer_id}
    if route.assignee_id:
        yield {**told, "user_id": route.assignee_id, "kind": "routing.assigned"}
    if route.previous_id:
        yield {**told, "user_id": route.previous_id, "kind": "routing.taken_back"}
        others = [m for m in route.team.members if m not in (route.previous_id, route.assignee_id)]
        yield from ({**told, "user_id": m, "kind": "routing.rerouted"} for m in others)
