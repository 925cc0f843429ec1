"""Sending queued replies through their channel's adapter, and recording what happened.

The message row is the source of truth: it stays ``queued`` until an adapter call succeeds
(``sent``) or fails for good (``failed`` with the reason). The provider is called outside any
database transaction so that a slow provider never holds a lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.base import (
    DeliveryError,
    IncomingAttachment,
    OutboundMessage,
    Recipient,
    Sent,
)
from filrouge.channels.registry import adapter_for
from filrouge.core.actions.reached import link_reached_identity
from filrouge.core.actions.receipts import apply_early_receipts
from filrouge.core.audit import Actor, record_event
from filrouge.core.blobs import BlobStore
from filrouge.core.events import publish_after_commit
from filrouge.core.models import ChannelAccount, Conversation, Identity, Message
from filrouge.core.models.enums import AUTOMATIC_FLAGS, DeliveryStatus, Direction, Visibility
from filrouge.lib.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _FileRef:
    filename: str
    content_type: str
    sha256: str | None
    url: str | None


@dataclass(frozen=True)
class _Pending:
    """A queued message read from the database; its files are read after the transaction."""

    outbound: OutboundMessage
    channel_id: int
    channel_kind: str
    files: tuple[_FileRef, ...]


def deliver_message(factory: sessionmaker[Session], message_id: int, blobs: BlobStore) -> str:
    """Try to send one queued message (with its attachments' bytes, read from ``blobs``);
    return its status afterwards.

    Raises ``DeliveryError`` (not permanent) when the caller should retry later.
    """
    with factory() as session, session.begin():
        pending = _prepare(session, message_id)
    if pending is None:
        return "skipped"
    adapter = adapter_for(pending.channel_kind)
    if adapter is None:
        return DeliveryStatus.QUEUED
    try:
        outbound = replace(pending.outbound, attachments=_attachments(pending.files, blobs))
        started = utcnow()
        sent = adapter.send(outbound)
    except DeliveryError as exc:
        if not exc.permanent:
            log.warning("delivery of message %s failed, will retry: %s", message_id, exc)
            raise
        if exc.reconnect:
            flag_reconnection(factory, pending.channel_id, str(exc))
        return _record_outcome(factory, message_id, DeliveryStatus.FAILED, None, str(exc))
    if not isinstance(sent, Sent):
        sent = Sent(sent)
    return _record_outcome(
        factory, message_id, DeliveryStatus.SENT, sent.provider_message_id, None, started, sent
    )


def stale_queued_ids(session: Session, older_than: timedelta) -> list[int]:
    """Messages still queued after ``older_than``: their job was lost and must be re-enqueued."""
    cutoff = utcnow() - older_than
    return list(
        session.scalars(
            select(Message.id)
            .where(Message.status == DeliveryStatus.QUEUED, Message.occurred_at < cutoff)
            .order_by(Message.id)
            .limit(1000)
        )
    )


def note_retry(factory: sessionmaker[Session], message_id: int, error: str) -> None:
    """The reply stays queued for another attempt; agents see why it has not gone yet."""
    with factory() as session, session.begin():
        message = session.get(Message, message_id)
        if message is not None and message.status == DeliveryStatus.QUEUED:
            message.error = error[:2000]


def flag_reconnection(factory: sessionmaker[Session], channel_id: int, reason: str) -> None:
    """The provider refused the channel's credentials: admins must connect it again."""
    with factory() as session, session.begin():
        channel = session.get_one(ChannelAccount, channel_id)
        first_time = channel.needs_reconnection_at is None
        channel.needs_reconnection_at = channel.needs_reconnection_at or utcnow()
        channel.reconnection_reason = reason[:2000]
        if first_time:
            record_event(
                session,
                channel.workspace_id,
                Actor.system(),
                ("channel", channel.id),
                "channel.needs_reconnection",
                after={"reason": channel.reconnection_reason},
            )
            publish_after_commit(session, "channel.needs_reconnection", channel_id=channel.id)
    log.error("channel %s needs reconnecting: %s", channel_id, reason)


def give_up(factory: sessionmaker[Session], message_id: int, reason: str) -> str:
    """Retries are exhausted: the reply visibly failed."""
    return _record_outcome(factory, message_id, DeliveryStatus.FAILED, None, reason)


def _prepare(session: Session, message_id: int) -> _Pending | None:
    message = session.get(Message, message_id)
    if message is None or message.status != DeliveryStatus.QUEUED:
        return None
    channel = session.get_one(ChannelAccount, message.channel_id)
    identity = None if message.identity_id is None else session.get(Identity, message.identity_id)
    replied_to = (
        None if message.in_reply_to_id is None else session.get(Message, message.in_reply_to_id)
    )
    outbound = OutboundMessage(
        message_id=message.id,
        conversation_id=message.conversation_id,
        channel_settings=dict(channel.settings or {}),
        recipient=Recipient("none", "")
        if identity is None
        else Recipient(identity.kind, identity.value, identity.display_name),
        text=message.text,
        html=message.html,
        visibility=Visibility(message.visibility),
        in_reply_to=None if replied_to is None else replied_to.provider_message_id,
        subject=session.get_one(Conversation, message.conversation_id).subject,
        references=thread_references(session, message),
        customer_last_message_at=last_inbound_at(session, message.channel_id, message.identity_id),
        options=dict((message.details or {}).get("options") or {}),
    )
    files = tuple(
        _FileRef(a.filename, a.content_type, a.sha256, a.url) for a in message.attachments
    )
    return _Pending(outbound, channel.id, channel.kind, files)


def last_inbound_at(session: Session, channel_id: int, identity_id: int | None) -> datetime | None:
    """When this identity last wrote on this channel (the messaging window's start); a
    message no person wrote (a network's notice, an auto-reply) opens no window."""
    if identity_id is None:
        return None
    return session.scalar(
        select(func.max(Message.occurred_at)).where(
            Message.channel_id == channel_id,
            Message.identity_id == identity_id,
            Message.direction == Direction.INBOUND,
            Message.flag.is_(None) | Message.flag.not_in(AUTOMATIC_FLAGS),
        )
    )


def thread_references(session: Session, message: Message, limit: int = 20) -> tuple[str, ...]:
    """Provider ids of the conversation's earlier messages on the same channel, oldest first:
    what a mail's References header names so that clients keep the thread together."""
    ids = session.scalars(
        select(Message.provider_message_id)
        .where(
            Message.conversation_id == message.conversation_id,
            Message.channel_id == message.channel_id,
            Message.id != message.id,
            Message.provider_message_id.is_not(None),
        )
        .order_by(Message.occurred_at.desc(), Message.id.desc())
        .limit(limit)
    )
    return tuple(reversed([i for i in ids if i]))


def _attachments(files: tuple[_FileRef, ...], blobs: BlobStore) -> tuple[IncomingAttachment, ...]:
    """The files to send, with their bytes; a file gone from the store fails the delivery."""
    loaded = []
    for file in files:
        content = None
        if file.sha256 is not None:
            try:
                content = blobs.get(file.sha256)
            except (OSError, ValueError) as exc:
                raise DeliveryError(
                    f"attachment {file.filename!r} is missing from the store", permanent=True
                ) from exc
        loaded.append(
            IncomingAttachment(file.filename, file.content_type, content=content, url=file.url)
        )
    return tuple(loaded)


def _record_outcome(
    factory: sessionmaker[Session],
    message_id: int,
    status: DeliveryStatus,
    provider_id: str | None,
    error: str | None,
    sent_at: datetime | None = None,
    sent: Sent | None = None,
) -> str:
    try:
        return _save_outcome(factory, message_id, status, provider_id, error, sent_at, sent)
    except IntegrityError:  # the provider's id is already taken on this channel
        log.warning(
            "provider id %r of message %s is not unique; kept without it", provider_id, message_id
        )
        return _save_outcome(factory, message_id, status, None, error, sent_at, sent)


def _save_outcome(
    factory: sessionmaker[Session],
    message_id: int,
    status: DeliveryStatus,
    provider_id: str | None,
    error: str | None,
    sent_at: datetime | None = None,
    sent: Sent | None = None,
) -> str:
    """Record what the provider said; the send happened, so this must not raise for retry."""
    with factory() as session, session.begin():
        message = session.get_one(Message, message_id)
        if message.status != DeliveryStatus.QUEUED:
            return message.status
        channel = session.get_one(ChannelAccount, message.channel_id)
        message.status = status
        message.provider_message_id = provider_id or message.provider_message_id
        message.error = error
        record_event(
            session,
            channel.workspace_id,
            Actor.system(),
            ("conversation", message.conversation_id),
            f"message.{status}",
            before={"status": "queued"},
            after={"message_id": message.id, "status": status, "error": error},
        )
        publish_after_commit(
            session,
            f"message.{status}",
            message_id=message.id,
            conversation_id=message.conversation_id,
            channel_id=message.channel_id,
        )
        if status == DeliveryStatus.SENT:
            apply_early_receipts(session, message, sent_at)
            if sent is not None and sent.reached is not None:
                link_reached_identity(session, message, sent.reached)
    return status
