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

from filrouge.core.actions.notifications import notify
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
    """Route what was staged (done for you before every commit)."""
    staged = session.info.pop(_STAGED_KEY, None)
    if not staged:
        return
    for row in session.execute(_owners_query(staged["ids"], staged["idle"])):
        if row.owner_available:
            _give_to_owner(session, row)
        else:
            notify(
                session,
                row.owner_id,
                "concierge.unavailable",
                conversation_id=row.id,
                customer_id=row.customer_id,
                payload={"absence": _absence(row)},
            )
    write_staged_events(session)


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


def _give_to_owner(session: Session, row: Any) -> None:
    if row.assignee_id is not None:
        return
    session.execute(
        update(Conversation).where(Conversation.id == row.id).values(assignee_id=row.owner_id),
        execution_options={"synchronize_session": False},
    )
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
    notify(
        session,
        row.owner_id,
        "concierge.assigned",
        conversation_id=row.id,
        customer_id=row.customer_id,
    )


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
