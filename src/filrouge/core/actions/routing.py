"""Where a new conversation goes: to the customer's concierge first, else by the teams' skills
and strategies (team_routing.py).

The pipeline stages each conversation it opens (``stage_new_conversation``); just before the
transaction commits, one query reads, for all the conversations staged in it (a whole batch),
the channel kind, the customer's language and owner and whether routing may count on them
(``core/presence.py``):

- owner available (active, an answering role, online and active lately): the conversation is
  theirs (``conversation.assignee_changed`` with the reason ``concierge``), and they are told;
- owner not available: the owner is told why, and the conversation is routed like the others;
- then every conversation goes to the team whose skills fit (none: unassigned, as before),
  and to an agent by the team's strategy; contributors whose expertise it matches are offered
  it (offers.py).

A conversation that continues keeps its assignee: only new ones are staged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from filrouge.core.actions.notifications import notify_many
from filrouge.core.actions.offers import offer_to_contributors
from filrouge.core.actions.team_routing import CONCIERGE, route_new
from filrouge.core.actions.triage import triage_staged
from filrouge.core.audit import Actor, record_event, write_staged_events
from filrouge.core.events import publish_after_commit
from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    Customer,
    Message,
    MessageTriage,
    User,
)
from filrouge.core.presence import ANSWERING_ROLES, Availability, Presence, available
from filrouge.core.routing.skills import Facts
from filrouge.settings import Settings

_STAGED_KEY = "filrouge_new_conversations"


def stage_new_conversation(
    session: Session,
    conversation_id: int,
    settings: Settings,
    text: str = "",
    triage_type: str | None = None,
) -> None:
    """Route ``conversation_id`` when the transaction commits (``text``: its first message's,
    for its language and topics; ``triage_type``: that message's type, when triaged)."""
    staged = session.info.setdefault(_STAGED_KEY, {"ids": [], "settings": settings, "first": {}})
    staged["ids"].append(conversation_id)
    staged["first"][conversation_id] = (text, triage_type)


def route_staged(session: Session) -> None:
    """Route what was staged (done for you before every commit): one query for the batch,
    then a few statements for the assignments, events and notifications."""
    staged = session.info.pop(_STAGED_KEY, None)
    if not staged:
        return
    triage_staged(session)  # the first messages' types, before the router reads them
    settings: Settings = staged["settings"]
    triaged = _first_triage(session, staged["ids"])
    found = session.execute(_owners_query(staged["ids"], settings.presence_idle))
    rows = [row for row in found if row.assignee_id is None]  # nobody took it meanwhile
    owned = [row for row in rows if row.owner_id is not None]
    mine = [row for row in owned if row.owner_available]
    if mine:
        _give_to_owners(session, mine)
    notify_many(session, [_notification(row) for row in owned])
    facts = [_facts(row, staged["first"], triaged.get(row.id)) for row in rows]
    concierge = {row.id for row in mine}
    route_new(session, facts, settings.presence_idle, settings.languages, concierge)
    offer_to_contributors(session, facts)
    write_staged_events(session)


def _first_triage(session: Session, conversation_ids: Any) -> dict[int, tuple[str, str | None]]:
    """Conversation → (type, language) of its first triaged customer message, in one query
    (the language only when triage was sure of it)."""
    rows = session.execute(
        select(
            Message.conversation_id,
            MessageTriage.type,
            MessageTriage.language,
            MessageTriage.signals,
        )
        .join(MessageTriage, MessageTriage.message_id == Message.id)
        .where(Message.conversation_id.in_(list(conversation_ids)))
        .order_by(Message.id.desc())  # the first message written last, so it stays
    )
    return {
        conversation_id: (kind, None if "language_uncertain" in (signals or []) else language)
        for conversation_id, kind, language, signals in rows
    }


def _facts(
    row: Any, first: dict[int, tuple[str, str | None]], triaged: tuple[str, str | None] | None
) -> Facts:
    """What the router knows of a new conversation. Its language: the customer's own
    attribute, else what triage read in the first message (the router detects it itself when
    neither is known)."""
    text, triage_type = first.get(row.id, ("", None))
    language = (row.attributes or {}).get("language")
    if not (isinstance(language, str) and language) and triaged is not None:
        language = triaged[1]
    return Facts(
        conversation_id=row.id,
        workspace_id=row.workspace_id,
        channel_kind=row.channel_kind,
        customer_id=row.customer_id,
        language=language.lower() if isinstance(language, str) and language else None,
        triage_type=triage_type or (triaged[0] if triaged else None),
        text=text,
    )


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
            ChannelAccount.kind.label("channel_kind"),
            Customer.attributes,
            Customer.owner_id,
            User.active,
            User.role,
            User.presence,
            available(idle).label("owner_available"),
        )
        .join(ChannelAccount, ChannelAccount.id == Conversation.channel_id)
        .join(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(User, User.id == Customer.owner_id)
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
