"""Where a new conversation goes: to the customer's concierge when they are available.

The pipeline stages each conversation it opens (``stage_new_conversation``); just before the
transaction commits, one query reads, for all the conversations staged in it (a whole batch),
the customer's owner and whether routing may count on them (``core/presence.py``):

- available (active, an answering role, online and active lately): the conversation is theirs
  (``conversation.assignee_changed`` with the reason ``concierge``), and they are told;
- otherwise it stays with the team (unassigned) as before, and the owner is told why.

A conversation that continues keeps its assignee: only new ones are staged. Later routing rules
(capacity, re-routing when someone goes offline) belong here too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from filrouge.core.actions.notifications import notify_many
from filrouge.core.audit import Actor, record_event, write_staged_events
from filrouge.core.events import publish_after_commit
from filrouge.core.models import Conversation, Customer, User
from filrouge.core.presence import ANSWERING_ROLES, Availability, Presence, available

_STAGED_KEY = "filrouge_new_conversations"
CONCIERGE = "concierge"


def stage_new_conversation(session: Session, conversation_id: int, idle: timedelta) -> None:
    """Route ``conversation_id`` when the transaction commits (idle: ``presence_idle``)."""
    staged = session.info.setdefault(_STAGED_KEY, {"ids": [], "idle": idle})
    staged["ids"].append(conversation_id)


def route_staged(session: Session) -> None:
    """Route what was staged (done for you before every commit): one query for the batch,
    then one statement for the assignments and one for the notifications."""
    staged = session.info.pop(_STAGED_KEY, None)
    if not staged:
        return
    found = session.execute(_owners_query(staged["ids"], staged["idle"]))
    rows = [row for row in found if row.assignee_id is None]  # nobody took it meanwhile
    mine = [row for row in rows if row.owner_available]
    if mine:
        _give_to_owners(session, mine)
    notify_many(session, [_notification(row) for row in rows])
    write_staged_events(session)


def _notification(row: Any) -> dict[str, Any]:
    told = {"user_id": row.owner_id, "conversation_id": row.id, "customer_id": row.customer_id}
    if row.owner_available:
        return {**told, "kind": "concierge.assigned"}
    return {**told, "kind": "concierge.unavailable", "payload": {"absence": _absence(row)}}


def _owners_query(ids: list[int], idle: timedelta) -> Any:
    return (
        select(
            Conversation.id,
            Conversation.workspace_id,
            Conversation.customer_id,
            Conversation.assignee_id,
            Customer.owner_id,
            User.active,
            User.role,
            User.presence,
            available(idle).label("owner_available"),
        )
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(User, User.id == Customer.owner_id)
        .where(Conversation.id.in_(ids))
        .order_by(Conversation.id)
    )


def _give_to_owners(session: Session, rows: list[Any]) -> None:
    session.execute(
        update(Conversation),
        [{"id": row.id, "assignee_id": row.owner_id} for row in rows],
        execution_options={"synchronize_session": False},
    )
    for row in rows:
        record_event(
            session,
            row.workspace_id,
            Actor.system(),
            ("conversation", row.id),
            "conversation.assignee_changed",
            before={"assignee_id": None},
            after={"assignee_id": row.owner_id, "reason": CONCIERGE},
        )
        publish_after_commit(session, "conversation.updated", conversation_id=row.id)


def _absence(row: Any) -> str:
    if not row.active or row.role not in ANSWERING_ROLES:
        return Availability.INACTIVE
    return Availability.OFFLINE if row.presence == Presence.OFFLINE else Availability.AWAY


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    route_staged(session)


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_STAGED_KEY, None)
