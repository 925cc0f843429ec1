"""Calling back: the agents' queue (by due time), calling (the telephony provider places the
call after commit, or the agent dials), the outcome, and the retries of missed calls.

The ``callback_requests`` row is the truth: the queue is a query on it, and the sweeper
(``jobs/callbacks.py``) puts missed callbacks whose next attempt is due back in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.base import DeliveryError
from filrouge.channels.callback.hours import (
    BadCallbackSettings,
    CallbackConfig,
    next_open_moment,
    read_config,
    retry_delay,
)
from filrouge.channels.callback.telephony import OutboundCall, telephony_for
from filrouge.core.access import conversation_scope
from filrouge.core.actions.callbacks import MAX_NOTE, config_of, local_time, slot_start
from filrouge.core.actions.replies import add_note
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, NotFound, check_choice
from filrouge.core.events import publish_after_commit
from filrouge.core.models import CallbackRequest, ChannelAccount, Conversation, Customer, User
from filrouge.core.models.callback import WAITING_STATUSES, CallbackStatus
from filrouge.db import transaction
from filrouge.i18n import N_, translate
from filrouge.lib.timeutil import isoformat, utcnow

_FINAL = (CallbackStatus.REACHED, CallbackStatus.WRONG_NUMBER, CallbackStatus.CANCELLED)
# An agent can call these: waiting ones, and a missed one before its retry is due.
_CALLABLE = (*WAITING_STATUSES, CallbackStatus.NO_ANSWER)
OUTCOME_NOTES = {
    "reached": N_("Callback: reached."),
    "no_answer": N_("Callback: no answer."),
    "wrong_number": N_("Callback: wrong number."),
    "rescheduled": N_("Callback: rescheduled to {when}."),
    "cancelled": N_("Callback: cancelled."),
}


class CallbackOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


# --- calling ------------------------------------------------------------------------


def access_callback_by_id(session: Session, user: User, callback_id: int) -> CallbackRequest:
    callback = session.scalar(
        select(CallbackRequest)
        .join(Conversation, Conversation.id == CallbackRequest.conversation_id)
        .where(CallbackRequest.id == callback_id, conversation_scope(user))
    )
    if callback is None:
        raise NotFound("callback_not_found", N_("There is no callback {id}."), id=callback_id)
    return callback


def start_call(session: Session, agent: User, callback_id: int) -> CallbackRequest:
    """The agent calls: one more attempt. Placing the call (Twilio) happens after commit."""
    callback = access_callback_by_id(session, agent, callback_id)
    if callback.status not in _CALLABLE or _finished(callback):
        raise _closed(callback)
    before = {"status": callback.status, "attempts": callback.attempts}
    callback.status = CallbackStatus.CALLING
    callback.attempts += 1
    callback.agent_id = agent.id
    callback.next_attempt_at = None
    callback.call_id = callback.call_error = None
    after = {"status": callback.status, "attempts": callback.attempts}
    _log(session, callback, Actor.user(agent.id), "callback.calling", before, after)
    return callback


def places_calls(session: Session, callback: CallbackRequest) -> bool:
    """Whether a telephony provider places this callback's calls (else the agent dials)."""
    channel = session.get_one(ChannelAccount, callback.channel_id)
    return telephony_for(config_of(channel).telephony).places_calls


def log_outcome(
    session: Session,
    agent: User,
    callback_id: int,
    outcome: str,
    note: str = "",
    slot: str | None = None,
    now: datetime | None = None,
) -> CallbackRequest:
    """Record how the call went; a missed call is given its next attempt per the policy."""
    check_choice(outcome, CallbackOutcome, "outcome")
    now = now or utcnow()
    callback = access_callback_by_id(session, agent, callback_id)
    if _finished(callback):
        raise _closed(callback)
    channel = session.get_one(ChannelAccount, callback.channel_id)
    config = config_of(channel)
    before = {"status": callback.status, "due_at": isoformat(callback.due_at)}
    if outcome in _NEEDS_A_CALL and callback.status != CallbackStatus.CALLING:
        callback.attempts += 1  # dialled by hand without pressing "Call"
    if outcome == CallbackOutcome.RESCHEDULED:
        callback.due_at = slot_start(session, channel, config, slot or "", now)
    if outcome == CallbackOutcome.NO_ANSWER:
        delay = retry_delay(config, callback.attempts)
        callback.next_attempt_at = None if delay is None else next_open_moment(config, now + delay)
    callback.status = outcome
    callback.agent_id = agent.id
    callback.outcome_note = note.strip()[:MAX_NOTE] or callback.outcome_note
    after = {
        "status": callback.status,
        "due_at": isoformat(callback.due_at),
        "next_attempt_at": isoformat(callback.next_attempt_at),
    }
    _log(session, callback, Actor.user(agent.id), "callback.outcome", before, after)
    _note_outcome(session, agent, callback, config, note)
    return callback


_NEEDS_A_CALL = (CallbackOutcome.REACHED, CallbackOutcome.NO_ANSWER, CallbackOutcome.WRONG_NUMBER)


def _finished(callback: CallbackRequest) -> bool:
    if callback.status in _FINAL:
        return True
    return callback.status == CallbackStatus.NO_ANSWER and callback.next_attempt_at is None


def _closed(callback: CallbackRequest) -> Conflict:
    return Conflict(
        "callback_closed",
        N_("This callback is closed ({state})."),
        state=callback.status,
    )


def _note_outcome(
    session: Session, agent: User, callback: CallbackRequest, config: CallbackConfig, note: str
) -> None:
    """The outcome, as an internal note in the conversation: the history stays whole."""
    locale = agent.locale
    when = local_time(config, callback.due_at, locale)
    text = translate(OUTCOME_NOTES[callback.status], locale, when=when)
    if callback.next_attempt_at is not None:
        retry = local_time(config, callback.next_attempt_at, locale)
        text += " " + translate(N_("Next attempt: {when}."), locale, when=retry)
    if note.strip():
        text += f"\n\n{note.strip()[:MAX_NOTE]}"
    add_note(session, session.get_one(Conversation, callback.conversation_id), agent, text)


def _log(
    session: Session,
    callback: CallbackRequest,
    actor: Actor,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record_event(
        session, callback.workspace_id, actor, ("callback", callback.id), action, before, after
    )
    publish_after_commit(
        session, action, callback_id=callback.id, conversation_id=callback.conversation_id
    )


def requeue_due_retries(session: Session, now: datetime | None = None) -> list[int]:
    """Missed callbacks whose next attempt is due go back to the queue (the sweeper)."""
    now = now or utcnow()
    rows = session.scalars(
        select(CallbackRequest)
        .where(
            CallbackRequest.status == CallbackStatus.NO_ANSWER,
            CallbackRequest.next_attempt_at <= now,
        )
        .order_by(CallbackRequest.next_attempt_at)
        .with_for_update()
    ).all()
    for callback in rows:
        assert callback.next_attempt_at is not None
        callback.status = CallbackStatus.REQUESTED
        callback.due_at = callback.next_attempt_at
        callback.next_attempt_at = None
        after = {"status": callback.status, "due_at": isoformat(callback.due_at)}
        _log(session, callback, Actor.system(), "callback.retry_due", after=after)
    return [callback.id for callback in rows]


def place_callback_call(factory: sessionmaker[Session], callback_id: int) -> str | None:
    """Ask the channel's telephony provider to place the call, outside any transaction;
    store the call's id, or why it could not be placed (the agent can dial by hand)."""
    with transaction(factory) as session:
        callback = session.get(CallbackRequest, callback_id)
        if callback is None or callback.status != CallbackStatus.CALLING:
            return None
        channel = session.get_one(ChannelAccount, callback.channel_id)
        telephony = telephony_for(config_of(channel).telephony)
        call = OutboundCall(callback.id, callback.phone, dict(channel.settings or {}))
        attempt = callback.attempts
    if not telephony.places_calls:
        return None
    call_id, error = None, None
    try:
        call_id = telephony.place_call(call)
    except DeliveryError as exc:
        error = str(exc)
    _store_call(factory, callback_id, attempt, call_id, error)
    return call_id


def _store_call(
    factory: sessionmaker[Session],
    callback_id: int,
    attempt: int,
    call_id: str | None,
    error: str | None,
) -> None:
    with transaction(factory) as session:
        callback = session.get_one(CallbackRequest, callback_id)
        if callback.attempts != attempt:  # a later attempt started meanwhile
            return
        callback.call_id, callback.call_error = call_id, error
        action = "callback.call_failed" if error else "callback.call_placed"
        after = {"call_id": call_id, "error": error}
        _log(session, callback, Actor.system(), action, after=after)


# --- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    callback: CallbackRequest
    customer_name: str
    channel: ChannelAccount
    state: str  # "upcoming", "due", "overdue" (its slot is over), "retry" (waiting to retry)


def callback_queue(session: Session, user: User, now: datetime | None = None) -> list[QueueRow]:
    """Callbacks still to make, by due time (then retries, by next attempt)."""
    now = now or utcnow()
    query = (
        select(CallbackRequest, Customer.name, ChannelAccount)
        .join(Conversation, Conversation.id == CallbackRequest.conversation_id)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(ChannelAccount, ChannelAccount.id == CallbackRequest.channel_id)
        .where(
            CallbackRequest.workspace_id == user.workspace_id,
            conversation_scope(user),
            CallbackRequest.status.in_(_CALLABLE),
        )
        .order_by(CallbackRequest.due_at, CallbackRequest.id)
    )
    rows = [
        QueueRow(callback, name or callback.phone, channel, _state(callback, channel, now))
        for callback, name, channel in session.execute(query)
        if not _finished(callback)
    ]
    waiting = [row for row in rows if row.state != "retry"]
    retries = [row for row in rows if row.state == "retry"]
    retries.sort(key=lambda row: row.callback.next_attempt_at or now)
    return waiting + retries


def _state(callback: CallbackRequest, channel: ChannelAccount, now: datetime) -> str:
    if callback.status == CallbackStatus.NO_ANSWER:
        return "retry"
    if callback.due_at > now:
        return "upcoming"
    try:
        slot = read_config(dict(channel.settings or {})).slot
    except BadCallbackSettings:
        slot = timedelta(minutes=30)
    return "overdue" if now >= callback.due_at + slot else "due"
