"""The customer's journey page: one person, every channel, in the order it happened — messages,
calls and store visits logged by hand, channel switches, callbacks, orders, merges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.access import access_customer_by_id
from filrouge.core.models import (
    CallbackRequest,
    ChannelAccount,
    Event,
    Message,
    Order,
    Survey,
    User,
)
from filrouge.core.models.enums import ActorKind
from filrouge.core.queries import customer_conversations, customer_timeline
from filrouge.db import transaction
from filrouge.i18n import N_
from filrouge.lib.timeutil import utcnow
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import render, zone_of

router = APIRouter(include_in_schema=False)
KINDS = ("message", "event", "order", "callback", "survey")
KIND_LABELS = {
    "message": N_("Messages, calls and visits"),
    "event": N_("Channel switches and merges"),
    "order": N_("Orders"),
    "callback": N_("Callbacks"),
    "survey": N_("Satisfaction"),
}
CALLBACK_LABELS = {
    "requested": N_("requested"),
    "calling": N_("calling"),
    "reached": N_("reached"),
    "no_answer": N_("no answer"),
    "wrong_number": N_("wrong number"),
    "rescheduled": N_("rescheduled"),
    "cancelled": N_("cancelled"),
}
# What an inbound contact logged by hand was, on the journey.
LOGGED_LABELS = {
    "phone": N_("The customer called"),
    "in_person": N_("The customer came to the store"),
    "postal": N_("The customer wrote a letter"),
}


@dataclass(frozen=True)
class JourneyDay:
    day: date
    entries: list[tuple[str, Any]]


@router.get("/customers/{customer_id}")
def journey_page(
    request: Request,
    customer_id: IdPath,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("customers:read")],
    channel_id: Annotated[int | None, Query(ge=1)] = None,
    kind: Annotated[str | None, Query(pattern="^(" + "|".join(KINDS) + ")$")] = None,
) -> Response:
    with transaction(factory) as session:  # rendered inside: the page reads relations
        customer = access_customer_by_id(session, visitor.user, customer_id)
        if customer.merged_into_id is not None:
            return RedirectResponse(f"/customers/{customer.merged_into_id}", status_code=303)
        entries = customer_timeline(session, visitor.user, customer.id, limit=1000)
        channels = _channels(session, visitor.user.workspace_id)
        conversations = customer_conversations(session, visitor.user, customer.id)
        context = {
            "customer": customer,
            "identities": list(customer.identities),
            "conversations": conversations,
            "channels": channels,
            "used": _channels_used(entries),
            "first_contact": _first_contact(entries),
            "days": days_of(_kept(entries, channel_id, kind), zone_of(visitor.user)),
            "authors": _authors(session, entries),
            "channel_id": channel_id,
            "kind": kind,
            "kinds": KINDS,
            "journey_kind_labels": KIND_LABELS,
            "callback_labels": CALLBACK_LABELS,
            "logged_labels": LOGGED_LABELS,
            "now": utcnow(),
        }
        return render(request, "customer.html", context, visitor)


def days_of(entries: list[tuple[str, Any]], zone: Any) -> list[JourneyDay]:
    """Entries grouped by day in the agent's time zone, the latest day first and, within a
    day, the latest entry first."""
    days: dict[date, list[tuple[str, Any]]] = {}
    for kind, item in reversed(entries):
        days.setdefault(moment_of(kind, item).astimezone(zone).date(), []).append((kind, item))
    return [JourneyDay(day, items) for day, items in days.items()]


def moment_of(kind: str, item: Any) -> datetime:
    if isinstance(item, Message):
        return item.occurred_at
    if isinstance(item, Order):
        return item.ordered_at
    if isinstance(item, Survey):
        return item.sent_at
    return item.created_at if isinstance(item, CallbackRequest) else item.occurred_at


def _kept(
    entries: list[tuple[str, Any]], channel_id: int | None, kind: str | None
) -> list[tuple[str, Any]]:
    kept = [(k, item) for k, item in entries if kind is None or k == kind]
    if channel_id is None:
        return kept
    return [(k, item) for k, item in kept if getattr(item, "channel_id", None) == channel_id]


def _channels_used(entries: list[tuple[str, Any]]) -> list[int]:
    used: list[int] = []
    for kind, item in entries:
        if kind == "message" and item.channel_id not in used:
            used.append(item.channel_id)
    return used


def _first_contact(entries: list[tuple[str, Any]]) -> datetime | None:
    moments = [item.occurred_at for kind, item in entries if kind == "message"]
    return min(moments) if moments else None


def _authors(session: Session, entries: list[tuple[str, Any]]) -> dict[int, User]:
    ids = {item.author_id for _, item in entries if isinstance(item, Message) and item.author_id}
    ids |= {
        item.agent_id for _, item in entries if isinstance(item, CallbackRequest) and item.agent_id
    }
    ids |= {
        item.actor_id
        for _, item in entries
        if isinstance(item, Event) and item.actor_kind == ActorKind.USER and item.actor_id
    }
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def _channels(session: Session, workspace_id: int) -> dict[int, ChannelAccount]:
    return {
        c.id: c
        for c in session.scalars(
            select(ChannelAccount).where(ChannelAccount.workspace_id == workspace_id)
        )
    }
