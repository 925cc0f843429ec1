"""What a chat visitor may see and change: their own messages on this channel, their name and
email, and whether the team is there. The visitor token proves the visitor id and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from filrouge.channels.chat.hours import channel_hours
from filrouge.core.actions.conversations import ConversationChanges, update_conversation
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import DomainError, NotFound
from filrouge.core.identity import normalise_email
from filrouge.core.models import (
    ChannelAccount,
    Conversation,
    Customer,
    Identity,
    Message,
    Survey,
    User,
    WebSession,
    Workspace,
)
from filrouge.core.models.enums import (
    ActorKind,
    ChannelKind,
    DeliveryStatus,
    Direction,
    IdentityKind,
    Role,
)
from filrouge.core.surveys import SurveyAnswer
from filrouge.lib.timeutil import isoformat, utcnow

FOLLOW_UP_TAG = "suivi-email"
AGENT_IDLE = timedelta(minutes=15)  # default; a channel's "agent_idle_minutes" overrides it
SHOWN_REPLIES = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.READ,
)
HISTORY_LIMIT = 200
EMAIL_ATTRIBUTE = "chat_email"  # an address already known as someone else's identity


@dataclass(frozen=True)
class Availability:
    online: bool
    reason: str | None  # "closed" (outside hours), "no_agent" (nobody signed in), or None
    next_open: datetime | None

    def public(self) -> dict[str, Any]:
        return {"online": self.online, "reason": self.reason, "next": isoformat(self.next_open)}


def chat_channel(session: Session, channel_id: int) -> ChannelAccount | None:
    """The channel if it is an active chat channel; None otherwise (unknown, other kind, off)."""
    channel = session.get(ChannelAccount, channel_id)
    if channel is None or not channel.active or channel.kind != ChannelKind.CHAT:
        return None
    return channel


def visitor_identity(session: Session, workspace_id: int, visitor_id: str) -> Identity | None:
    return session.scalar(
        select(Identity).where(
            Identity.workspace_id == workspace_id,
            Identity.kind == IdentityKind.CHAT_VISITOR,
            Identity.value == visitor_id,
        )
    )


def visitor_messages(
    session: Session, channel: ChannelAccount, visitor_id: str, after_id: int = 0
) -> list[Message]:
    """The visitor's messages and the replies to them on this channel, oldest first: never
    notes, never replies waiting for approval or rejected, never other channels."""
    identity = visitor_identity(session, channel.workspace_id, visitor_id)
    if identity is None:
        return []
    rows = session.scalars(
        select(Message)
        .where(
            Message.channel_id == channel.id,
            Message.identity_id == identity.id,
            Message.id > after_id,
            or_(
                Message.direction == Direction.INBOUND,
                (Message.direction == Direction.OUTBOUND) & Message.status.in_(SHOWN_REPLIES),
            ),
        )
        .order_by(Message.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return list(reversed(list(rows)))


def message_frame(session: Session, message: Message, visitor_id: str) -> dict[str, Any]:
    """A message as the widget shows it; an agent is named by first name only."""
    author = None if message.author_id is None else session.get(User, message.author_id)
    prefix = f"chat:{visitor_id}:"
    provider_id = message.provider_message_id or ""
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "from": "visitor" if message.direction == Direction.INBOUND else "agent",
        "author": None if author is None else author.first_name,
        "text": message.text,
        "at": isoformat(message.occurred_at),
        "client_id": provider_id.removeprefix(prefix) if provider_id.startswith(prefix) else None,
        "attachments": [
            {"id": a.id, "filename": a.filename, "content_type": a.content_type}
            for a in message.attachments
        ],
        **_survey_of(session, message),
    }


def _survey_of(session: Session, message: Message) -> dict[str, Any]:
    """A satisfaction request shows its rating buttons (until it is answered)."""
    if (message.details or {}).get("automatic") != "survey":
        return {}
    survey = session.scalar(select(Survey).where(Survey.message_id == message.id))
    if survey is None:
        return {}
    return {"survey": {"answered": survey.answered_at is not None, "csat": survey.csat}}


def rate_survey(
    session: Session, channel: ChannelAccount, visitor_id: str, message_id: int, csat: int
) -> Survey:
    """The visitor's rating of the survey in one of their own messages (the token stays on
    the server: the visitor's signed token is the credential). Raises ``DomainError``."""
    identity = visitor_identity(session, channel.workspace_id, visitor_id)
    message = session.get(Message, message_id)
    if (
        identity is None
        or message is None
        or message.channel_id != channel.id
        or message.identity_id != identity.id
        or (message.details or {}).get("automatic") != "survey"
    ):
        raise NotFound("survey_not_found", "This survey link is not valid.")
    from filrouge.core.actions.surveys import answer_survey  # surveys send through channels

    token = str((message.details or {}).get("survey_token") or "")
    return answer_survey(session, token, SurveyAnswer(csat=csat))


def visitor_contact(session: Session, workspace_id: int, visitor_id: str) -> dict[str, Any]:
    """The name and email the visitor gave, to fill the widget's fields again."""
    identity = visitor_identity(session, workspace_id, visitor_id)
    if identity is None:
        return {"name": None, "email": None}
    customer = session.get_one(Customer, identity.customer_id)
    emails = [i.value for i in customer.identities if i.kind == IdentityKind.EMAIL]
    email = emails[0] if emails else (customer.attributes or {}).get(EMAIL_ATTRIBUTE)
    return {"name": customer.name, "email": email}


def remember_contact(
    session: Session, channel: ChannelAccount, identity: Identity, name: str, email: str
) -> None:
    """Keep what the visitor typed. The email is a claim, never proof: it becomes an
    *unverified* identity of the visitor's customer (so an agent can answer by email), or, when
    that address already belongs to someone, only an attribute, so nobody gets in a history
    by typing an address."""
    customer = session.get_one(Customer, identity.customer_id)
    actor = Actor(ActorKind.CHANNEL, channel.id)
    if name and not customer.name:
        customer.name = name
        identity.display_name = identity.display_name or name
    if email:
        _remember_email(session, customer, normalise_email(email), actor)


def _remember_email(session: Session, customer: Customer, email: str, actor: Actor) -> None:
    owner = session.scalar(
        select(Identity).where(
            Identity.workspace_id == customer.workspace_id,
            Identity.kind == IdentityKind.EMAIL,
            Identity.value == email,
        )
    )
    if owner is not None:
        if owner.customer_id != customer.id:
            customer.attributes = {**(customer.attributes or {}), EMAIL_ATTRIBUTE: email}
        return
    identity = Identity(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        kind=IdentityKind.EMAIL,
        value=email,
        verified=False,
    )
    session.add(identity)
    session.flush()
    record_event(
        session,
        customer.workspace_id,
        actor,
        ("customer", customer.id),
        "identity.added",
        after={"identity_id": identity.id, "kind": "email", "value": email, "verified": False},
    )


def ask_follow_up_by_email(session: Session, conversation_id: int, channel_id: int) -> None:
    """Nobody could answer live: tag the conversation so an agent follows up by email."""
    conversation = session.get_one(Conversation, conversation_id)
    if FOLLOW_UP_TAG in conversation.tags:
        return
    changes = ConversationChanges(tags=[*conversation.tags, FOLLOW_UP_TAG])
    update_conversation(session, conversation, changes, Actor(ActorKind.CHANNEL, channel_id))


def availability(
    session: Session, channel: ChannelAccount, region: str, now: datetime | None = None
) -> Availability:
    """Open when inside the channel's hours and an agent was seen in the last minutes."""
    now = now or utcnow()
    workspace = session.get_one(Workspace, channel.workspace_id)
    settings = channel.settings or {}
    try:
        hours = channel_hours(settings, (workspace.settings or {}).get("timezone"), region)
    except DomainError:  # a misconfigured channel stays reachable rather than silent
        hours = None
    if hours is not None and not hours.is_open(now):
        return Availability(False, "closed", hours.next_opening(now))
    if not agents_online(session, channel.workspace_id, _idle(settings), now):
        return Availability(False, "no_agent", None)
    return Availability(True, None, None)


def agents_online(session: Session, workspace_id: int, idle: timedelta, now: datetime) -> bool:
    """Someone who can answer has a live session seen within ``idle``."""
    found = session.scalar(
        select(WebSession.id)
        .join(User, User.id == WebSession.user_id)
        .where(
            User.workspace_id == workspace_id,
            User.active,
            User.role != Role.CONTRIBUTOR,
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
            WebSession.last_seen_at >= now - idle,
        )
        .limit(1)
    )
    return found is not None


def _idle(settings: dict[str, Any]) -> timedelta:
    minutes = settings.get("agent_idle_minutes")
    if isinstance(minutes, int) and 0 < minutes <= 24 * 60:
        return timedelta(minutes=minutes)
    return AGENT_IDLE
