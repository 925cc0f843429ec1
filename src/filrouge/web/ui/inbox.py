"""The inbox: every conversation from every channel, by view, with search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.segments import segment_filter, visible_segments
from filrouge.core.actions.sla import sla_views
from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    Customer,
    MessageTriage,
    User,
    team_members,
)
from filrouge.core.models.enums import AUTOMATIC_FLAGS, Role
from filrouge.core.queries import (
    ConversationFilters,
    channels_used,
    last_messages,
    list_conversations,
    list_sla_due,
)
from filrouge.core.sla import SlaView
from filrouge.core.triage_reads import latest_triage
from filrouge.db import transaction
from filrouge.lib.timeutil import utcnow
from filrouge.web.deps import FactoryDep
from filrouge.web.permissions import is_allowed
from filrouge.web.schemas import IdQuery, TextQuery
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import render

router = APIRouter(include_in_schema=False)
VIEWS = ("all", "mine", "concierge", "unassigned", "team", "public", "sla")
PAGE_SIZE = 50


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    customer_name: str
    channel_ids: list[int]
    excerpt: str
    waiting_since: datetime | None
    assignee_name: str | None
    flag: str | None = None
    owner_name: str | None = None  # the customer's concierge
    sla: SlaView | None = None
    triage: MessageTriage | None = None  # the latest customer message's


@router.get("/")
def home() -> Response:
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox")
def inbox(
    request: Request,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("inbox:view")],
    view: Annotated[str, Query(pattern="^(" + "|".join(VIEWS) + ")$")] = "all",
    status: TextQuery = None,
    channel_id: IdQuery = None,
    q: TextQuery = None,
    cursor: TextQuery = None,
    erased: IdQuery = None,
    closed: Annotated[str, Query(max_length=2000, pattern="^[0-9,]*$")] = "",
    segment: IdQuery = None,
) -> Response:
    with transaction(factory) as session:
        filters = _filters(session, visitor.user, view, status, channel_id, q)
        filters.segment = segment_filter(session, visitor.user, segment)
        if view == "sla":
            page = list_sla_due(session, visitor.user, filters, PAGE_SIZE)
        else:
            page = list_conversations(session, visitor.user, filters, PAGE_SIZE, cursor)
        rows = inbox_rows(session, page.items)
        channels = _channels(session, visitor.user.workspace_id)
        segments = (
            visible_segments(session, visitor.user)
            if is_allowed(visitor.user.role, "segments:list")
            else []
        )
    context: dict[str, Any] = {
        "rows": rows,
        "next_cursor": page.next_cursor,
        "view": view,
        "views": VIEWS,
        "status": status,
        "channel_id": channel_id,
        "q": q or "",
        "channels": channels,
        "segments": segments,  # saved segments, as views
        "segment": segment,
        "erased": erased,  # a customer just erased from the panel, and what it closed
        "closed": [int(i) for i in closed.split(",") if i],
        "disconnected": [c for c in channels.values() if c.needs_reconnection_at is not None]
        if visitor.user.role == Role.ADMIN
        else [],
    }
    return render(request, "inbox.html", context, visitor)


def inbox_rows(session: Session, conversations: list[Conversation]) -> list[InboxRow]:
    """Everything a row shows, in four queries for the whole page."""
    ids = [c.id for c in conversations]
    customers = _customers(session, {c.customer_id for c in conversations})
    owner_ids = {owner for _, owner in customers.values() if owner}
    people = _names(
        session, User, {c.assignee_id for c in conversations if c.assignee_id} | owner_ids
    )
    used, last = channels_used(session, ids), last_messages(session, ids)
    levels = sla_views(session, conversations, utcnow())
    triaged = latest_triage(session, ids)
    rows = []
    for conversation in conversations:
        latest = last.get(conversation.id)
        person = latest is not None and latest.flag not in AUTOMATIC_FLAGS
        waiting = (
            latest.occurred_at if latest and person and latest.direction == "inbound" else None
        )
        rows.append(
            InboxRow(
                conversation=conversation,
                customer_name=customers.get(conversation.customer_id, (None, None))[0] or "—",
                channel_ids=used.get(conversation.id, [conversation.channel_id]),
                excerpt=(latest.text if latest else "")[:140],
                waiting_since=waiting if conversation.status in ("new", "open") else None,
                assignee_name=people.get(conversation.assignee_id or 0),
                flag=latest.flag if latest else None,
                owner_name=people.get(customers.get(conversation.customer_id, (None, 0))[1] or 0),
                sla=levels.get(conversation.id),
                triage=triaged.get(conversation.id),
            )
        )
    return rows


def _filters(
    session: Session,
    user: User,
    view: str,
    status: str | None,
    channel_id: int | None,
    q: str | None,
) -> ConversationFilters:
    filters = ConversationFilters(status=status or None, channel_id=channel_id, q=q)
    if view == "mine":
        filters.assignee_id = user.id
    elif view == "concierge":
        filters.owner_id = user.id
    elif view == "unassigned":
        filters.unassigned = True
    elif view == "team":
        filters.team_ids = list(
            session.scalars(select(team_members.c.team_id).where(team_members.c.user_id == user.id))
        )
    elif view == "public":
        filters.visibility = "public"
    elif view == "sla" and not status:  # targets running, not paused (see list_sla_due)
        filters.statuses = ["new", "open"]
    return filters


def _customers(session: Session, ids: set[int]) -> dict[int, tuple[str | None, int | None]]:
    """Each customer's name and concierge."""
    if not ids:
        return {}
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.owner_id).where(Customer.id.in_(ids))
    )
    return {row.id: (row.name, row.owner_id) for row in rows}


def _names(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        row.id: row.name
        for row in session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    }


def _channels(session: Session, workspace_id: int) -> dict[int, ChannelAccount]:
    return {
        c.id: c
        for c in session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.workspace_id == workspace_id)
            .order_by(ChannelAccount.id)
        )
    }
