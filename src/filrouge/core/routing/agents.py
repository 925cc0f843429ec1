"""Who may take a conversation now, and which of them gets it.

An agent may take one when they are available (``core/presence.available``: active, an
answering role, online and active lately) and under their capacity for that kind of work,
counted as their open (new or open) conversations on that kind of channel. Everything is read
once per batch (``Pool.load``): the teams are locked first (``FOR UPDATE`` on PostgreSQL;
SQLite's writers already take turns), so two processes never give the same turn twice nor
count the same load; then the available members, and their loads in one ``GROUP BY``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.models import ChannelAccount, Conversation, Team, User, team_members
from filrouge.core.models.enums import ConversationStatus
from filrouge.core.presence import available
from filrouge.core.routing.capacity import DEFAULT_CAPACITY, capacity_class
from filrouge.core.routing.skills import Strategy

OPEN = (ConversationStatus.NEW, ConversationStatus.OPEN)


@dataclass(frozen=True)
class Choice:
    """An agent chosen, and why: the strategy, their load on that kind once given this one."""

    user_id: int
    strategy: str
    kind_class: str
    load: int
    capacity: int


@dataclass
class Pool:
    members: dict[int, list[int]]  # team → available members, by id
    capacity: dict[int, dict[str, int]]  # agent → their own figures
    loads: Counter[tuple[int, str]]  # (agent, kind of work) → open conversations
    cursors: dict[int, int | None]  # team → last agent given one by round-robin
    moved_cursors: set[int]

    @classmethod
    def load(cls, session: Session, team_ids: Collection[int], idle: timedelta) -> Pool:
        ids = sorted(set(team_ids))
        cursors = _lock_teams(session, ids)  # first: the loads read next are then current
        members, capacity = _available_members(session, ids, idle)
        return cls(members, capacity, _open_loads(session, capacity), cursors, set())

    def pick(self, team_id: int, strategy: str, channel_kind: str) -> Choice | None:
        """Give one conversation of ``channel_kind`` to an agent of the team, if anyone can."""
        kind_class = capacity_class(channel_kind)
        free = [u for u in self.members.get(team_id, []) if self._room(u, kind_class) > 0]
        if not free:
            return None
        if strategy == Strategy.ROUND_ROBIN:
            chosen = _after(free, self.cursors.get(team_id))
            self.cursors[team_id] = chosen
            self.moved_cursors.add(team_id)
        else:
            chosen = min(free, key=lambda u: self._rank(u, kind_class))
        self.loads[(chosen, kind_class)] += 1
        return Choice(
            chosen,
            strategy,
            kind_class,
            self.loads[(chosen, kind_class)],
            self._capacity(chosen, kind_class),
        )

    def _room(self, user_id: int, kind_class: str) -> int:
        return self._capacity(user_id, kind_class) - self.loads[(user_id, kind_class)]

    def _rank(self, user_id: int, kind_class: str) -> tuple[float, int, int]:
        load = self.loads[(user_id, kind_class)]
        return (load / self._capacity(user_id, kind_class), load, user_id)

    def _capacity(self, user_id: int, kind_class: str) -> int:
        own = self.capacity[user_id]
        return own[kind_class] if kind_class in own else DEFAULT_CAPACITY[kind_class]


def _after(ordered: list[int], cursor: int | None) -> int:
    """The first agent after the cursor, going round."""
    return next((u for u in ordered if cursor is None or u > cursor), ordered[0])


def _available_members(
    session: Session, team_ids: list[int], idle: timedelta
) -> tuple[dict[int, list[int]], dict[int, dict[str, int]]]:
    members: dict[int, list[int]] = {}
    capacity: dict[int, dict[str, int]] = {}
    if not team_ids:
        return members, capacity
    rows = session.execute(
        select(team_members.c.team_id, User.id, User.capacity)
        .join(User, User.id == team_members.c.user_id)
        .where(team_members.c.team_id.in_(team_ids), available(idle))
        .order_by(team_members.c.team_id, User.id)
    )
    for row in rows:
        members.setdefault(row.team_id, []).append(row.id)
        capacity[row.id] = dict(row.capacity or {})
    return members, capacity


def _open_loads(session: Session, agents: Collection[int]) -> Counter[tuple[int, str]]:
    loads: Counter[tuple[int, str]] = Counter()
    if not agents:
        return loads
    rows = session.execute(
        select(Conversation.assignee_id, ChannelAccount.kind, func.count())
        .join(ChannelAccount, ChannelAccount.id == Conversation.channel_id)
        .where(Conversation.assignee_id.in_(sorted(agents)), Conversation.status.in_(OPEN))
        .group_by(Conversation.assignee_id, ChannelAccount.kind)
    )
    for assignee_id, kind, count in rows:
        loads[(assignee_id, capacity_class(kind))] += count
    return loads


def _lock_teams(session: Session, team_ids: list[int]) -> dict[int, int | None]:
    """Lock the teams (in id order) until commit: routing to one team takes turns, so its
    round-robin cursor and its agents' loads are never read by two transactions at once."""
    if not team_ids:
        return {}
    rows = session.execute(
        select(Team.id, Team.round_robin_last_id)
        .where(Team.id.in_(team_ids))
        .order_by(Team.id)
        .with_for_update()
    )
    return {row.id: row.round_robin_last_id for row in rows}
