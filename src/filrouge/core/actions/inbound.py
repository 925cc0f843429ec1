"""Receiving: the one code path every channel's inbound messages take.

In one transaction: idempotency, identity resolution, threading, persisting the message,
updating the conversation and appending events; ``message.received`` is published after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.base import IncomingAttachment, NormalisedInbound
from filrouge.core.actions.identities import resolve_sender
from filrouge.core.actions.threading import ThreadChoice, choose_conversation, find_thread_key
from filrouge.core.audit import Actor, record_event
from filrouge.core.blobs import BlobStore
from filrouge.core.errors import Invalid, NotFound, TooLarge
from filrouge.core.events import publish_after_commit
from filrouge.core.models import (
    Attachment,
    ChannelAccount,
    Conversation,
    Customer,
    Identity,
    Message,
    ThreadKey,
)
from filrouge.core.models.enums import (
    ActorKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Visibility,
)
from filrouge.lib.html import sanitise_html
from filrouge.lib.timeutil import as_utc, utcnow
from filrouge.settings import Settings

log = logging.getLogger(__name__)
_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class InboundResult:
    message_id: int
    conversation_id: int
    customer_id: int
    duplicate: bool


def receive_message(
    factory: sessionmaker[Session], inbound: NormalisedInbound, settings: Settings
) -> InboundResult:
    """Store ``inbound`` exactly once. Concurrent deliveries of the same message are retried
    and then answered as duplicates; nothing is ever half-written."""
    check_inbound_limits(inbound, settings)
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            with factory() as session, session.begin():
                return receive_in_session(session, inbound, settings)
        except IntegrityError:
            if attempt == _MAX_ATTEMPTS:
                raise
            log.info("inbound race on channel %s, retrying", inbound.channel_id)
    raise AssertionError("unreachable")


def check_inbound_limits(inbound: NormalisedInbound, settings: Settings) -> None:
    if len(inbound.text.encode()) > settings.max_text_bytes:
        raise TooLarge(
            "text_too_large",
            "The text is longer than {limit} bytes.",
            field="text",
            limit=settings.max_text_bytes,
        )
    for index, attachment in enumerate(inbound.attachments):
        if (
            attachment.content is not None
            and len(attachment.content) > settings.max_attachment_bytes
        ):
            raise TooLarge(
                "attachment_too_large",
                "An attachment is larger than {limit} bytes.",
                field=f"attachments.{index}",
                limit=settings.max_attachment_bytes,
            )


def receive_in_session(
    session: Session, inbound: NormalisedInbound, settings: Settings
) -> InboundResult:
    channel = active_channel(session, inbound.channel_id)
    existing = find_duplicate(session, inbound)
    if existing is not None:
        return existing
    actor = Actor(ActorKind.CHANNEL, channel.id)
    sender = resolve_sender(
        session, channel.workspace_id, inbound.sender, settings.default_region, actor
    )
    occurred_at = as_utc(inbound.occurred_at) if inbound.occurred_at else utcnow()
    choice = choose_conversation(
        session, channel, sender.customer.id, inbound, occurred_at, settings.thread_window
    )
    conversation = choice.conversation or _open_conversation(
        session, channel, sender.customer, inbound, occurred_at, choice
    )
    _remember_thread_key(session, channel, conversation, inbound.thread_key)
    message = _store_message(session, channel, conversation, sender.identity, inbound, occurred_at)
    _store_attachments(session, message, inbound.attachments, BlobStore(settings.attachments_dir))
    _advance_conversation(session, conversation, channel, message, actor)
    record_event(
        session,
        channel.workspace_id,
        actor,
        ("conversation", conversation.id),
        "message.received",
        after={"message_id": message.id, "channel_id": channel.id, "threaded_by": choice.reason},
    )
    publish_after_commit(
        session,
        "message.received",
        message_id=message.id,
        conversation_id=conversation.id,
        customer_id=sender.customer.id,
    )
    return InboundResult(message.id, conversation.id, sender.customer.id, duplicate=False)


def active_channel(session: Session, channel_id: int) -> ChannelAccount:
    channel = session.get(ChannelAccount, channel_id)
    if channel is None or not channel.active:
        raise NotFound(
            "unknown_channel",
            "There is no active channel {channel_id}.",
            field="channel_id",
            channel_id=channel_id,
        )
    return channel


def find_duplicate(session: Session, inbound: NormalisedInbound) -> InboundResult | None:
    if not inbound.provider_message_id:
        return None
    row = session.execute(
        select(Message.id, Message.conversation_id, Conversation.customer_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.channel_id == inbound.channel_id,
            Message.provider_message_id == inbound.provider_message_id,
        )
    ).first()
    return None if row is None else InboundResult(row[0], row[1], row[2], duplicate=True)


def _open_conversation(
    session: Session,
    channel: ChannelAccount,
    customer: Customer,
    inbound: NormalisedInbound,
    occurred_at: datetime,
    choice: ThreadChoice,
) -> Conversation:
    conversation = Conversation(
        workspace_id=channel.workspace_id,
        customer_id=customer.id,
        origin_channel_id=channel.id,
        channel_id=channel.id,
        status=ConversationStatus.NEW,
        visibility=inbound.visibility,
        subject=(inbound.subject or None) and inbound.subject[:500],
        first_inbound_at=occurred_at,
        last_activity_at=occurred_at,
    )
    session.add(conversation)
    session.flush()
    record_event(
        session,
        channel.workspace_id,
        Actor(ActorKind.CHANNEL, channel.id),
        ("conversation", conversation.id),
        "conversation.created",
        after={
            "customer_id": customer.id,
            "channel_id": channel.id,
            "visibility": str(inbound.visibility),
            "follow_up_of": choice.follow_up_of,
        },
    )
    return conversation


def _remember_thread_key(
    session: Session, channel: ChannelAccount, conversation: Conversation, key: str | None
) -> None:
    if not key:
        return
    row = find_thread_key(session, channel.id, key)
    if row is None:
        session.add(ThreadKey(channel_id=channel.id, key=key, conversation_id=conversation.id))
    elif row.conversation_id != conversation.id:  # the old thread was closed: follow up here
        row.conversation_id = conversation.id


def _store_message(
    session: Session,
    channel: ChannelAccount,
    conversation: Conversation,
    identity: Identity,
    inbound: NormalisedInbound,
    occurred_at: datetime,
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.INBOUND,
        identity_id=identity.id,
        text=inbound.text,
        html=sanitise_html(inbound.html),
        provider_message_id=inbound.provider_message_id or None,
        status=DeliveryStatus.RECEIVED,
        visibility=inbound.visibility,
        occurred_at=occurred_at,
    )
    session.add(message)
    session.flush()
    return message


def _store_attachments(
    session: Session,
    message: Message,
    attachments: tuple[IncomingAttachment, ...],
    blobs: BlobStore,
) -> None:
    for item in attachments:
        if item.content is None and not item.url:
            raise Invalid(
                "attachment_empty",
                "An attachment has neither content nor url.",
                field="attachments",
            )
        session.add(
            Attachment(
                message_id=message.id,
                filename=item.filename[:500],
                content_type=item.content_type,
                size=None if item.content is None else len(item.content),
                sha256=None if item.content is None else blobs.put(item.content),
                url=item.url,
            )
        )


def _advance_conversation(
    session: Session,
    conversation: Conversation,
    channel: ChannelAccount,
    message: Message,
    actor: Actor,
) -> None:
    """Move the conversation to where the customer is now and wake it up if it slept."""
    workspace_id, subject = channel.workspace_id, ("conversation", conversation.id)
    if conversation.channel_id != channel.id:
        record_event(
            session,
            workspace_id,
            actor,
            subject,
            "conversation.channel_switched",
            before={"channel_id": conversation.channel_id},
            after={"channel_id": channel.id, "message_id": message.id},
        )
        conversation.channel_id = channel.id
    if message.visibility == Visibility.PRIVATE and conversation.visibility == Visibility.PUBLIC:
        record_event(
            session,
            workspace_id,
            actor,
            subject,
            "conversation.moved_to_private",
            before={"visibility": "public"},
            after={"visibility": "private"},
        )
        conversation.visibility = Visibility.PRIVATE
    if conversation.status in (ConversationStatus.RESOLVED, ConversationStatus.PENDING):
        record_event(
            session,
            workspace_id,
            actor,
            subject,
            "conversation.reopened",
            before={"status": conversation.status},
            after={"status": "open"},
        )
        conversation.status = ConversationStatus.OPEN
    occurred = message.occurred_at
    conversation.first_inbound_at = min(conversation.first_inbound_at or occurred, occurred)
    conversation.last_inbound_at = max(conversation.last_inbound_at or occurred, occurred)
    conversation.last_activity_at = max(conversation.last_activity_at, occurred)
