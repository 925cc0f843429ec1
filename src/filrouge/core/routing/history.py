"""Who a conversation was routed to and why, said as sentences for its page.

Read from the event log (``conversation.routed``, ``conversation.rerouted`` and the concierge's
``conversation.assignee_changed``); names of agents and teams are read when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.models import Event, Team, User
from filrouge.i18n import N_, translate

ACTIONS = ("conversation.routed", "conversation.rerouted", "conversation.assignee_changed")
WHY = {
    "round_robin": N_("Routed to {agent} ({team}): round robin, {load}/{capacity} {unit}."),
    "least_loaded": N_("Routed to {agent} ({team}): least loaded, {load}/{capacity} {unit}."),
    "nobody_available": N_("Left in the queue of {team}: nobody available."),
    "manual": N_("Left in the queue of {team}: assigned by hand."),
    "concierge_team": N_("Team {team}; the customer's concierge takes it."),
    "concierge": N_("Routed to {agent}: the customer's concierge."),
}
UNITS = {
    "chat": N_("chats"),
    "email": N_("emails"),
    "social": N_("social messages"),
    "other": N_("conversations"),
}
GONE = N_("{agent} is no longer available.")


@dataclass(frozen=True)
class RoutingStep:
    at: datetime
    text: str


def routing_history(session: Session, conversation_id: int, locale: str) -> list[RoutingStep]:
    found = list(
        session.scalars(
            select(Event)
            .where(
                Event.subject_type == "conversation",
                Event.subject_id == conversation_id,
                Event.action.in_(ACTIONS),
            )
            .order_by(Event.id)
        )
    )
    found = [e for e in found if e.action != ACTIONS[2] or (e.after or {}).get("reason")]
    names = _names(session, found)
    return [RoutingStep(e.occurred_at, _sentence(e, names, locale)) for e in found]


def _names(session: Session, found: list[Event]) -> dict[tuple[str, int], str]:
    users = {v for e in found for v in _ids(e, "assignee_id")}
    teams = {v for e in found for v in _ids(e, "team_id")}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(users or {0}))).all()
    team_rows = session.execute(select(Team.id, Team.name).where(Team.id.in_(teams or {0}))).all()
    return {**{("user", r.id): r.name for r in rows}, **{("team", r.id): r.name for r in team_rows}}


def _ids(event: Event, key: str) -> set[int]:
    values = ((event.before or {}).get(key), (event.after or {}).get(key))
    return {int(v) for v in values if v}


def _sentence(event: Event, names: dict[tuple[str, int], str], locale: str) -> str:
    after: dict[str, Any] = event.after or {}
    why = str(after.get("reason") or after.get("why") or "")
    if why == "assigned":
        why = str(after.get("strategy"))
    elif why == "concierge" and event.action != ACTIONS[2]:
        why = "concierge_team"
    params = {
        "agent": names.get(("user", int(after.get("assignee_id") or 0)), "?"),
        "team": names.get(("team", int(after.get("team_id") or 0)), "?"),
        "load": after.get("load", ""),
        "capacity": after.get("capacity", ""),
        "unit": translate(UNITS.get(str(after.get("kind_class")), UNITS["other"]), locale),
    }
    text = translate(WHY[why], locale, **params) if why in WHY else event.action
    previous = (event.before or {}).get("assignee_id")
    if event.action == ACTIONS[1] and previous:
        gone = translate(GONE, locale, agent=names.get(("user", int(previous)), "?"))
        text = f"{gone} {text}"
    return text
