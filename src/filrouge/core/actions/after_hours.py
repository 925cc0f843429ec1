"""After-hours honesty: a customer who writes while the team is closed is told, once, when it
opens and when to expect an answer, both computed from the calendar and the service level.

Opt-in per channel (``after_hours_ack: true`` in its settings); the words are the
catalogue's, in the channel's ``language`` (``fr`` by default), unless the channel gives its own
(``after_hours_text_fr``, ``after_hours_text_en``, with ``{opens}`` and ``{answer_by}``). The
message is automatic and unsigned (flag ``auto_reply``, no author): it never counts as a
person's first response. It is never sent twice in a row (nothing goes out if anything went out
since the customer began waiting), never for a message no person wrote (an out-of-office, a
bounce: they start no wait), and never for a message that is no longer recent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from babel.dates import format_datetime
from sqlalchemy.orm import Session

from filrouge.channels.registry import adapter_for
from filrouge.core.actions.replies import reply_identity
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import DomainError
from filrouge.core.events import publish_after_commit
from filrouge.core.hours import BadHours, OpeningHours, hours_in_settings
from filrouge.core.models import ChannelAccount, Conversation, Message
from filrouge.core.models.enums import DeliveryStatus, Direction, MessageFlag, Visibility
from filrouge.core.sla import Run, Step
from filrouge.i18n import LOCALES, N_, translate

RECENT = timedelta(minutes=30)  # an older message is not answered by an acknowledgement
DEFAULT_TEXT = N_(
    "Thank you for your message. We are closed at the moment: we open {opens} and will answer "
    "you by {answer_by}."
)


def acknowledge_after_hours(
    session: Session,
    conversation: Conversation,
    channel: ChannelAccount | None,
    run: Run,
    due_at: datetime | None,
    calendar: OpeningHours,
    steps: Sequence[Step],
    now: datetime,
) -> Message | None:
    """Queue the acknowledgement when the wait ``run`` began while the channel was closed."""
    if channel is None or not (channel.settings or {}).get("after_hours_ack"):
        return None
    hours = channel_hours(channel, calendar)
    if not _should_acknowledge(run, hours, steps, now):
        return None
    opens = hours.next_opening(run.started_at)
    if opens is None or due_at is None:
        return None
    return _queue(session, conversation, channel, _text(channel, hours, opens, due_at), now)


def channel_hours(channel: ChannelAccount, calendar: OpeningHours) -> OpeningHours:
    """The channel's own hours (live chat keeps some), else the team's calendar."""
    settings = channel.settings or {}
    if "hours" not in settings:
        return calendar
    try:
        return hours_in_settings(settings)
    except BadHours:
        return calendar


def _should_acknowledge(
    run: Run, hours: OpeningHours, steps: Sequence[Step], now: datetime
) -> bool:
    if run.ended_at is not None or now - run.started_at > RECENT:
        return False
    if hours.is_open(run.started_at) or hours.is_open(now):
        return False
    answered = any(s.direction == Direction.OUTBOUND and s.at >= run.started_at for s in steps)
    return not answered


def _text(channel: ChannelAccount, hours: OpeningHours, opens: datetime, due: datetime) -> str:
    settings = channel.settings or {}
    language = str(settings.get("language") or "fr")
    locale = language if language in LOCALES else "fr"
    moments = {
        "opens": _moment(opens, hours, locale),
        "answer_by": _moment(due, hours, locale),
    }
    own = settings.get(f"after_hours_text_{locale}")
    filled = _filled(own, moments) if isinstance(own, str) and own.strip() else None
    return filled or translate(DEFAULT_TEXT, locale, **moments)


def _filled(text: str, moments: dict[str, str]) -> str | None:
    """The channel's own words filled in; None when they name something else (checked when
    saved, so only words saved before that check): the default words go instead."""
    try:
        return text.format(**moments)
    except (KeyError, IndexError, ValueError):
        return None


def _moment(moment: datetime, hours: OpeningHours, locale: str) -> str:
    pattern = "EEEE d MMMM 'à' HH:mm" if locale == "fr" else "EEEE d MMMM 'at' h:mm a"
    return format_datetime(moment.astimezone(hours.zone), pattern, locale=locale)


def _queue(
    session: Session, conversation: Conversation, channel: ChannelAccount, text: str, now: datetime
) -> Message | None:
    adapter = adapter_for(channel.kind)
    if adapter is None or adapter.logs_only or not channel.active:
        return None
    try:
        identity = reply_identity(session, conversation, channel, adapter)
    except DomainError:  # a closed messaging window, no reachable identity
        return None
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.OUTBOUND,
        identity_id=None if identity is None else identity.id,
        text=text,
        status=DeliveryStatus.QUEUED,
        visibility=Visibility.PRIVATE,
        flag=MessageFlag.AUTO_REPLY,
        details={"after_hours": True},
        occurred_at=now,
    )
    session.add(message)
    session.flush()
    record_event(
        session,
        conversation.workspace_id,
        Actor.system(),
        ("conversation", conversation.id),
        "acknowledgement.after_hours",
        after={"message_id": message.id, "channel_id": channel.id},
    )
    publish_after_commit(session, "message.queued", message_id=message.id)
    return message
