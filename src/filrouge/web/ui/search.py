"""The search page: messages, customers and orders matching what was typed, best first, with
the matches highlighted and links to the conversation, the customer's panel or the order."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from filrouge.core.access import conversation_scope
from filrouge.core.errors import DomainError
from filrouge.core.models import Conversation, User
from filrouge.core.search import KINDS, Hit, SearchFilters, search
from filrouge.db import transaction
from filrouge.web.deps import FactoryDep, SettingsDep
from filrouge.web.schemas import IdQuery, TextQuery
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.inbox import _channels
from filrouge.web.ui.templating import locale_for, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
DateQuery = Annotated[date | None, Query()]


@router.get("/search")
def search_page(
    request: Request,
    factory: FactoryDep,
    settings: SettingsDep,
    visitor: Annotated[Visitor, PageAllowed("search:use")],
    q: Annotated[str, Query(max_length=2000)] = "",
    kind: Annotated[str, Query(pattern="^(|messages|customers|orders)$")] = "",
    channel_id: IdQuery = None,
    status: TextQuery = None,
    since: DateQuery = None,
    until: DateQuery = None,
    cursor: TextQuery = None,
) -> Response:
    filters = SearchFilters(
        kinds=(kind,) if kind else KINDS,
        channel_id=channel_id,
        status=status or None,
        since=_midnight(since),
        until=_midnight(until + timedelta(days=1)) if until else None,
    )
    context: dict[str, Any] = {
        "q": q,
        "kind": kind,
        "channel_id": channel_id,
        "status": status or "",
        "since_day": since.isoformat() if since else "",
        "until_day": until.isoformat() if until else "",
        "results": [],
        "next_cursor": None,
        "refusal": None,
    }
    with transaction(factory) as session:
        context["channels"] = _channels(session, visitor.user.workspace_id)
        if q.strip():
            try:
                found = search(
                    session, visitor.user, q, filters, PAGE_SIZE, cursor, settings.default_region
                )
            except DomainError as refusal:
                context["refusal"] = refusal.message_in(locale_for(request, visitor.user))
            else:
                _link_customers(session, visitor.user, found.hits)
                context["results"], context["next_cursor"] = found.hits, found.next_cursor
    return render(request, "search.html", context, visitor)


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def _link_customers(session: Session, user: User, hits: list[Hit]) -> None:
    """Customers and orders open on the customer's latest conversation (its panel)."""
    customers = {hit.customer_id for hit in hits if hit.kind != "message" and hit.customer_id}
    if not customers:
        return
    rows = session.execute(
        select(Conversation.customer_id, func.max(Conversation.id))
        .where(Conversation.customer_id.in_(customers), conversation_scope(user))
        .group_by(Conversation.customer_id)
    )
    latest: dict[int, int] = {}
    for customer_id, latest_id in rows:
        latest[customer_id] = latest_id
    for hit in hits:
        if hit.kind != "message" and hit.customer_id in latest:
            hit.conversation_id = latest[hit.customer_id]
