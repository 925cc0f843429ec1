"""The callback queue: what agents must call, by due time; calling, and logging the outcome."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from filrouge.core.actions.callback_calls import (
    CallbackOutcome,
    callback_queue,
    log_outcome,
    places_calls,
    start_call,
)
from filrouge.core.actions.callbacks import config_of, offered_slots
from filrouge.core.errors import DomainError
from filrouge.core.models import ChannelAccount, User
from filrouge.core.models.enums import ChannelKind
from filrouge.db import transaction
from filrouge.i18n import N_
from filrouge.jobs.callbacks import place_call
from filrouge.web.deps import FactoryDep
from filrouge.web.schemas import IdPath
from filrouge.web.ui.auth import PageAllowed, Visitor
from filrouge.web.ui.templating import render

router = APIRouter(include_in_schema=False)
Handler = Annotated[Visitor, PageAllowed("callbacks:handle")]
OUTCOME_LABELS = {
    "reached": N_("Reached"),
    "no_answer": N_("No answer"),
    "wrong_number": N_("Wrong number"),
    "rescheduled": N_("Reschedule"),
    "cancelled": N_("Cancel the callback"),
}
STATE_LABELS = {
    "upcoming": N_("upcoming"),
    "due": N_("due"),
    "overdue": N_("overdue"),
    "retry": N_("retry planned"),
    "requested": N_("requested"),
    "calling": N_("calling"),
    "rescheduled": N_("rescheduled"),
    "no_answer": N_("no answer"),
}


@router.get("/callbacks")
def callbacks_page(
    request: Request,
    factory: FactoryDep,
    visitor: Annotated[Visitor, PageAllowed("callbacks:view")],
) -> Response:
    with transaction(factory) as session:
        rows = callback_queue(session, visitor.user)
        channels = _callback_channels(session, visitor.user)
        slots = {c.id: _slots(session, c) for c in channels}
    context: dict[str, Any] = {
        "rows": rows,
        "channels": channels,
        "slots": slots,
        "outcomes": [(o.value, OUTCOME_LABELS[o.value]) for o in CallbackOutcome],
        "states": STATE_LABELS,
        "base_url": str(request.base_url).rstrip("/"),
    }
    return render(request, "callbacks.html", context, visitor)


@router.post("/callbacks/{callback_id}/call")
def call(callback_id: IdPath, factory: FactoryDep, visitor: Handler) -> Response:
    with transaction(factory) as session:
        callback = start_call(session, visitor.user, callback_id)
        placed = places_calls(session, callback)
    if placed:  # after commit: the job finds the row in "calling"
        place_call(callback_id)
    return _back(callback_id)


@router.post("/callbacks/{callback_id}/outcome")
def outcome(
    callback_id: IdPath,
    factory: FactoryDep,
    visitor: Handler,
    outcome: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=2000)] = "",
    slot: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    with transaction(factory) as session:
        log_outcome(session, visitor.user, callback_id, outcome, note, slot or None)
    return _back(callback_id)


def _back(callback_id: int) -> Response:
    return RedirectResponse(f"/callbacks#callback-{callback_id}", status_code=303)


def _callback_channels(session: Session, user: User) -> list[ChannelAccount]:
    return list(
        session.scalars(
            select(ChannelAccount)
            .where(
                ChannelAccount.workspace_id == user.workspace_id,
                ChannelAccount.kind == ChannelKind.CALLBACK,
                ChannelAccount.active,
            )
            .order_by(ChannelAccount.id)
        )
    )


def _slots(session: Session, channel: ChannelAccount) -> list[tuple[str, str]]:
    """(value, label) of the slots an agent may reschedule to; none if the settings are bad."""
    try:
        config = config_of(channel)
        found = offered_slots(session, channel)
    except DomainError:
        return []
    return [
        (
            slot.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            slot.start.astimezone(config.zone).strftime("%d/%m %H:%M"),
        )
        for slot in found
    ]
