"""Callbacks asked for: a customer leaves a number to be called back, now or in a slot of the
opening hours (agents' side: ``callback_calls.py``).

The request goes through the one inbound pipeline (``receive_in_session``) in the same
transaction as its ``CallbackRequest`` row, so a refused request writes nothing. Slots,
capacity and retries are read from the channel's settings (``channels/callback/hours.py``).
The row is the truth: the queue is a query, and the sweeper (``jobs/callbacks.py``) puts due
retries back in it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from babel.dates import format_datetime
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.base import NormalisedInbound, Sender
from filrouge.channels.callback.hours import (
    BadCallbackSettings,
    CallbackConfig,
    current_slot,
    read_config,
    slot_starts,
)
from filrouge.channels.registry import adapter_for
from filrouge.core.actions.inbound import check_inbound_limits, receive_in_session
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Conflict, Invalid, NotFound, TooMany
from filrouge.core.events import publish_after_commit
from filrouge.core.models import (
    CallbackRequest,
    ChannelAccount,
    Message,
    User,
)
from filrouge.core.models.callback import WAITING_STATUSES, CallbackStatus
from filrouge.core.models.enums import (
    ActorKind,
    ChannelKind,
    DeliveryStatus,
    Direction,
    IdentityKind,
    Role,
    Visibility,
)
from filrouge.i18n import N_, translate
from filrouge.lib.timeutil import as_utc, isoformat, utcnow
from filrouge.settings import Settings

ASAP = "now"
MAX_NAME = 200
MAX_NOTE = 2000
_MAX_ATTEMPTS = 3
_STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


@dataclass(frozen=True)
class CallbackAsk:
    """What the public form posted."""

    channel_id: int
    phone: str
    when: str  # ASAP, or the start of an offered slot (ISO 8601)
    name: str = ""
    note: str = ""
    ip: str | None = None


@dataclass(frozen=True)
class CallbackAccepted:
    callback_id: int
    conversation_id: int
    due_at: datetime
    asap: bool


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime


# --- the channel and its rules ---------------------------------------------------------------


def public_channel(session: Session, channel_id: int, *, lock: bool = False) -> ChannelAccount:
    """An active callback channel (locked for update while a request is written: capacity)."""
    query = select(ChannelAccount).where(ChannelAccount.id == channel_id)
    channel = session.scalar(query.with_for_update() if lock else query)
    if channel is None or not channel.active or channel.kind != ChannelKind.CALLBACK:
        raise NotFound(
            "unknown_channel",
            "There is no active channel {channel_id}.",
            field="channel_id",
            channel_id=channel_id,
        )
    return channel


def config_of(channel: ChannelAccount) -> CallbackConfig:
    try:
        return read_config(dict(channel.settings or {}))
    except BadCallbackSettings as exc:
        raise Invalid(
            "callback_settings_invalid",
            N_("This callback line is not set up correctly: {reason}."),
            reason=str(exc),
        ) from exc


def slot_capacity(session: Session, channel: ChannelAccount, config: CallbackConfig) -> int:
    """Callbacks per slot: ``capacity_per_slot`` for each agent available."""
    agents = config.agents
    if agents is None:
        agents = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.workspace_id == channel.workspace_id, User.active, User.role.in_(_STAFF))
        )
    return config.capacity_per_slot * max(agents or 0, 1)


def _booked(session: Session, channel_id: int, start: datetime, end: datetime) -> list[datetime]:
    return list(
        session.scalars(
            select(CallbackRequest.due_at).where(
                CallbackRequest.channel_id == channel_id,
                CallbackRequest.status.in_(WAITING_STATUSES),
                CallbackRequest.due_at >= start,
                CallbackRequest.due_at < end,
            )
        )
    )


def offered_slots(
    session: Session, channel: ChannelAccount, now: datetime | None = None
) -> list[Slot]:
    """The slots a customer may choose: open, ahead of ``now``, and not full."""
    now = now or utcnow()
    config = config_of(channel)
    starts = list(slot_starts(config, now))
    if not starts:
        return []
    capacity = slot_capacity(session, channel, config)
    taken: Counter[datetime] = Counter()
    for due in _booked(session, channel.id, starts[0], starts[-1] + config.slot):
        index = bisect_right(starts, due) - 1
        if index >= 0 and due < starts[index] + config.slot:
            taken[starts[index]] += 1
    return [Slot(s, s + config.slot) for s in starts if taken[s] < capacity]


def can_call_now(session: Session, channel: ChannelAccount, now: datetime | None = None) -> bool:
    """Open right now, with room in the current slot."""
    now = now or utcnow()
    config = config_of(channel)
    start = current_slot(config, now)
    if start is None:
        return False
    booked = _booked(session, channel.id, start, start + config.slot)
    return len(booked) < slot_capacity(session, channel, config)


# --- the customer's request ------------------------------------------------------------------


def callback_phone(value: str, region: str) -> str:
    """A number we can call, in E.164 (national numbers read in ``region``), or ``Invalid``."""
    cleaned = value.strip()
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid(
            "invalid_phone",
            N_("{value} is not a phone number we can call."),
            field="phone",
            value=cleaned[:64],
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def request_callback(
    factory: sessionmaker[Session],
    ask: CallbackAsk,
    settings: Settings,
    now: datetime | None = None,
) -> CallbackAccepted:
    """Store one request and its conversation in one transaction, or refuse and write nothing.
    A race on the customer's identity (two requests at once) is retried like the pipeline's."""
    phone = callback_phone(ask.phone, settings.default_region)
    if len(ask.note) > MAX_NOTE:
        raise Invalid("note_too_long", N_("The note is too long."), field="note")
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            with factory() as session, session.begin():
                return _request_in_session(session, ask, phone, settings, now or utcnow())
        except IntegrityError:
            if attempt == _MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _request_in_session(
    session: Session, ask: CallbackAsk, phone: str, settings: Settings, now: datetime
) -> CallbackAccepted:
    channel = public_channel(session, ask.channel_id, lock=True)
    config = config_of(channel)
    _check_rate(session, channel.id, ask.ip, config, now)
    due_at, asap = _due_time(session, channel, config, ask.when, now)
    locale = settings.default_locale
    inbound = NormalisedInbound(
        channel_id=channel.id,
        provider_message_id=None,
        sender=Sender(IdentityKind.PHONE, phone, ask.name.strip()[:MAX_NAME] or None),
        text=_request_text(config, due_at, asap, ask.note, locale),
        occurred_at=now,
        subject=translate(N_("Callback request"), locale),
    )
    check_inbound_limits(inbound, settings)
    received = receive_in_session(session, inbound, settings)
    callback = CallbackRequest(
        workspace_id=channel.workspace_id,
        channel_id=channel.id,
        conversation_id=received.conversation_id,
        phone=phone,
        due_at=due_at,
        status=CallbackStatus.REQUESTED,
        attempts=0,
        requester_ip=ask.ip,
        created_at=now,
    )
    session.add(callback)
    session.flush()
    actor = Actor(ActorKind.CHANNEL, channel.id)
    after = {"conversation_id": received.conversation_id, "due_at": isoformat(due_at)}
    record_event(
        session,
        channel.workspace_id,
        actor,
        ("callback", callback.id),
        "callback.requested",
        after=after,
    )
    if config.sms_confirmation:
        _confirm_by_sms(session, callback, received.message_id, config, locale)
    publish_after_commit(
        session,
        "callback.requested",
        callback_id=callback.id,
        conversation_id=received.conversation_id,
    )
    return CallbackAccepted(callback.id, received.conversation_id, due_at, asap)


def _check_rate(
    session: Session, channel_id: int, ip: str | None, config: CallbackConfig, now: datetime
) -> None:
    if not ip:
        return
    recent = session.scalar(
        select(func.count())
        .select_from(CallbackRequest)
        .where(
            CallbackRequest.channel_id == channel_id,
            CallbackRequest.requester_ip == ip,
            CallbackRequest.created_at >= now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= config.max_requests_per_ip_per_hour:
        raise TooMany(
            "too_many_callbacks",
            N_("Too many callback requests from your network: please try again later."),
        )


def _due_time(
    session: Session, channel: ChannelAccount, config: CallbackConfig, when: str, now: datetime
) -> tuple[datetime, bool]:
    if when == ASAP:
        if current_slot(config, now) is None:
            raise Invalid(
                "callback_closed_now",
                N_("We are closed right now: please choose a time slot."),
                field="when",
            )
        if not can_call_now(session, channel, now):
            raise Conflict(
                "callback_busy_now",
                N_("All our agents are busy right now: please choose a time slot."),
                field="when",
            )
        return now, True
    return slot_start(session, channel, config, when, now), False


def slot_start(
    session: Session, channel: ChannelAccount, config: CallbackConfig, when: str, now: datetime
) -> datetime:
    start = parse_slot(when)
    if start not in set(slot_starts(config, now)):
        raise Invalid(
            "slot_closed",
            N_("This time slot is not offered: it is outside our opening hours or already past."),
            field="when",
        )
    booked = _booked(session, channel.id, start, start + config.slot)
    if len(booked) >= slot_capacity(session, channel, config):
        raise Conflict(
            "slot_full", N_("This time slot is full: please choose another one."), field="when"
        )
    return start


def parse_slot(value: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(value.strip()))
    except ValueError as exc:
        raise Invalid(
            "invalid_slot", N_("{value} is not a time slot."), field="when", value=value[:64]
        ) from exc


def local_time(config: CallbackConfig, moment: datetime, locale: str) -> str:
    """``lundi 1 juin, 09:30`` in the channel's time zone."""
    return format_datetime(moment, "EEEE d MMMM, HH:mm", tzinfo=config.zone, locale=locale)


def _request_text(
    config: CallbackConfig, due_at: datetime, asap: bool, note: str, locale: str
) -> str:
    if asap:
        text = translate(N_("Callback requested: as soon as possible."), locale)
    else:
        when = local_time(config, due_at, locale)
        text = translate(N_("Callback requested for {when}."), locale, when=when)
    return f"{text}\n\n{note.strip()}" if note.strip() else text


def _confirm_by_sms(
    session: Session,
    callback: CallbackRequest,
    inbound_message_id: int,
    config: CallbackConfig,
    locale: str,
) -> None:
    """Queue an SMS on a channel that can send one; else record that none could be sent."""
    sms = _sms_channel(session, callback.workspace_id)
    actor = Actor(ActorKind.CHANNEL, callback.channel_id)
    if sms is None:
        callback.confirmation = "unavailable"
        record_event(
            session,
            callback.workspace_id,
            actor,
            ("callback", callback.id),
            "callback.confirmation_not_sent",
            after={"reason": "no SMS channel can send"},
        )
        return
    identity_id = session.scalar(
        select(Message.identity_id).where(Message.id == inbound_message_id)
    )
    when = local_time(config, callback.due_at, locale)
    message = Message(
        conversation_id=callback.conversation_id,
        channel_id=sms.id,
        direction=Direction.OUTBOUND,
        identity_id=identity_id,
        text=translate(N_("We will call you back: {when}."), locale, when=when),
        status=DeliveryStatus.QUEUED,
        visibility=Visibility.PRIVATE,
        occurred_at=utcnow(),
    )
    session.add(message)
    session.flush()
    callback.confirmation = "queued"
    record_event(
        session,
        callback.workspace_id,
        actor,
        ("callback", callback.id),
        "callback.confirmation_queued",
        after={"message_id": message.id},
    )
    publish_after_commit(session, "message.queued", message_id=message.id)


def _sms_channel(session: Session, workspace_id: int) -> ChannelAccount | None:
    channels = session.scalars(
        select(ChannelAccount)
        .where(
            ChannelAccount.workspace_id == workspace_id,
            ChannelAccount.kind == ChannelKind.SMS,
            ChannelAccount.active,
        )
        .order_by(ChannelAccount.id)
    )
    for channel in channels:
        adapter = adapter_for(channel.kind)
        if adapter is not None and IdentityKind.PHONE in adapter.identity_kinds:
            return channel
    return None
