"""Receiving: the one code path every channel's inbound messages take.

In one transaction: idempotency, identity resolution, threading, persisting the message,
updating the conversation and appending events; ``message.received`` is published after commit.
The hot path runs prebuilt statements (``inbound_sql``) on the session's connection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.base import IncomingAttachment, NormalisedInbound
from filrouge.core.actions import inbound_sql as sql
from filrouge.core.actions.bounces import bounced_replies, fail_bounced
from filrouge.core.actions.identities import add_sender_aliases, resolve_sender
from filrouge.core.actions.routing import stage_new_conversation
from filrouge.core.actions.threading import ThreadChoice, choose_conversation, find_thread_key
from filrouge.core.actions.triage import stage_triage
from filrouge.core.audit import Actor, record_event
from filrouge.core.blobs import BlobStore
from filrouge.core.errors import DomainError, Invalid, NotFound, TooLarge
from filrouge.core.events import publish_after_commit
from filrouge.core.models.enums import (
    AUTOMATIC_FLAGS,
    ActorKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Priority,
    Visibility,
)
from filrouge.core.triage_context import TriageItem
from filrouge.lib.html import sanitise_html
from filrouge.lib.timeutil import as_utc, utcnow
from filrouge.settings import Settings

log = logging.getLogger(__name__)
_MAX_ATTEMPTS = 3
_KNOWN_KEY = "filrouge_known_provider_ids"
_CHANNELS_KEY = "filrouge_channels"
_WAKES_UP = (ConversationStatus.RESOLVED, ConversationStatus.PENDING)


@dataclass(frozen=True)
class InboundResult:
    message_id: int
    conversation_id: int
    customer_id: int
    duplicate: bool


@dataclass(frozen=True)
class _Context:
    """What every step of one delivery needs to know."""

    session: Session
    conn: Connection
    workspace_id: int
    channel_id: int
    actor: Actor
    inbound: NormalisedInbound
    occurred_at: datetime


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


def receive_messages(
    factory: sessionmaker[Session], batch: list[NormalisedInbound], settings: Settings
) -> list[InboundResult | DomainError]:
    """Store a batch (a webhook that carries several messages, a mailbox poll, an import).

    The batch commits once, which is what makes bulk ingestion fast. If any message is
    refused, the batch is rolled back whole and each message is taken on its own, so good
    messages are stored and each refusal is answered with its own error.
    """
    try:
        for inbound in batch:
            check_inbound_limits(inbound, settings)
        with factory() as session, session.begin():
            if len(batch) > 1:  # one alone is looked up with its channel, in one statement
                _look_up_duplicates(session, batch)
            return [receive_in_session(session, inbound, settings) for inbound in batch]
    except (DomainError, IntegrityError):
        log.info("a batch of %d was refused, taking its messages one by one", len(batch))
    return [_receive_or_refusal(factory, inbound, settings) for inbound in batch]


def _receive_or_refusal(
    factory: sessionmaker[Session], inbound: NormalisedInbound, settings: Settings
) -> InboundResult | DomainError:
    try:
        return receive_message(factory, inbound, settings)
    except DomainError as refusal:
        return refusal


def check_inbound_limits(inbound: NormalisedInbound, settings: Settings) -> None:
    if len((inbound.html or "").encode()) > settings.max_html_bytes:
        raise TooLarge(
            "html_too_large",
            "The HTML is longer than {limit} bytes.",
            field="html",
            limit=settings.max_html_bytes,
        )
    if len(inbound.text.encode()) > settings.max_text_bytes:
        raise TooLarge(
            "text_too_large",
            "The text is longer than {limit} bytes.",
            field="text",
            limit=settings.max_text_bytes,
        )
    for index, attachment in enumerate(inbound.attachments):
        if attachment.content is None and not attachment.url:
            raise Invalid(
                "attachment_empty",
                "An attachment has neither content nor url.",
                field=f"attachments.{index}",
            )
        if len(attachment.content or b"") > settings.max_attachment_bytes:
            raise TooLarge(
                "attachment_too_large",
                "An attachment is larger than {limit} bytes.",
                field=f"attachments.{index}",
                limit=settings.max_attachment_bytes,
            )


def receive_in_session(
    session: Session, inbound: NormalisedInbound, settings: Settings
) -> InboundResult:
    conn = session.connection()
    channel, existing = _channel_and_duplicate(session, conn, inbound)
    if existing is not None:
        return existing
    occurred_at = _when(inbound)
    actor = Actor(ActorKind.CHANNEL, channel.id)
    ctx = _Context(session, conn, channel.workspace_id, channel.id, actor, inbound, occurred_at)
    if inbound.bounced_provider_ids:
        replies = bounced_replies(conn, ctx.workspace_id, inbound.bounced_provider_ids)
        if replies:
            return _store_bounce(ctx, replies, settings)
    sender = resolve_sender(
        session, ctx.workspace_id, inbound.sender, settings.default_region, actor
    )
    if inbound.sender_aliases and sender.trusted:
        add_sender_aliases(
            session,
            ctx.workspace_id,
            sender.customer_id,
            inbound.sender_aliases,
            settings.default_region,
            actor,
        )
    choice = choose_conversation(
        conn, sender.customer_id, inbound, occurred_at, settings.thread_window, sender.trusted
    )
    state = choice.conversation
    if state is not None:
        conversation_id = state.id
    else:
        conversation_id = _open(ctx, sender.customer_id, choice)
        stage_new_conversation(session, conversation_id, settings, inbound.text)
    if sender.trusted:
        _remember_thread_key(ctx, sender.customer_id, conversation_id)
    message_id = _store_message(ctx, conversation_id, sender.identity_id)
    _stage_triage(
        ctx, message_id, conversation_id, sender.customer_id, sender.identity_id, settings
    )
    if state is not None:
        _continue(ctx, state, message_id)
    _store_attachments(ctx, message_id, BlobStore(settings.attachments_dir))
    result = InboundResult(message_id, conversation_id, sender.customer_id, duplicate=False)
    _received(ctx, result, choice.reason)
    return result


def _store_bounce(ctx: _Context, replies: list[Row[Any]], settings: Settings) -> InboundResult:
    """A bounce of our own replies: they fail, and the report joins their conversation."""
    reason = ctx.inbound.text.strip()[:2000] or "bounced"
    fail_bounced(ctx.session, ctx.workspace_id, replies, reason, ctx.actor)
    first = replies[0]
    message_id = _store_message(ctx, first.conversation_id, None)
    _stage_triage(ctx, message_id, first.conversation_id, first.customer_id, None, settings)
    _store_attachments(ctx, message_id, BlobStore(settings.attachments_dir))
    result = InboundResult(message_id, first.conversation_id, first.customer_id, duplicate=False)
    _received(ctx, result, "bounce")
    return result


def _received(ctx: _Context, result: InboundResult, threaded_by: str) -> None:
    record_event(
        ctx.session,
        ctx.workspace_id,
        ctx.actor,
        ("conversation", result.conversation_id),
        "message.received",
        after={
            "message_id": result.message_id,
            "channel_id": ctx.channel_id,
            "threaded_by": threaded_by,
        },
    )
    publish_after_commit(
        ctx.session,
        "message.received",
        message_id=result.message_id,
        conversation_id=result.conversation_id,
        customer_id=result.customer_id,
        channel_id=ctx.channel_id,
    )
    _remember_received(ctx.session, ctx.inbound, result)


def _channel_and_duplicate(
    session: Session, conn: Connection, inbound: NormalisedInbound
) -> tuple[Row[Any], InboundResult | None]:
    """The message's channel (refused unless active), and the message itself if it was
    already received. A batch usually comes from one channel: it is read once per
    transaction; a message alone reads both in one statement."""
    known: dict[int, Row[Any]] = session.info.setdefault(_CHANNELS_KEY, {})
    channel_id = inbound.channel_id
    if channel_id in known or not inbound.provider_message_id or _KNOWN_KEY in session.info:
        if channel_id not in known:
            known[channel_id] = active_channel(conn, channel_id)
        return known[channel_id], _known_duplicate(session, inbound)
    channel = _active(
        conn.execute(
            sql.CHANNEL_AND_DUPLICATE,
            {"channel_id": channel_id, "provider_message_id": inbound.provider_message_id},
        ).first(),
        channel_id,
    )
    known[channel_id] = channel
    return channel, _duplicate_of(channel)


def active_channel(conn: Connection, channel_id: int) -> Row[Any]:
    return _active(conn.execute(sql.CHANNEL, {"channel_id": channel_id}).first(), channel_id)


def _active(channel: Row[Any] | None, channel_id: int) -> Row[Any]:
    if channel is None or not channel.active:
        raise NotFound(
            "unknown_channel",
            "There is no active channel {channel_id}.",
            field="channel_id",
            channel_id=channel_id,
        )
    return channel


def _duplicate_of(row: Row[Any]) -> InboundResult | None:
    if row.duplicate_id is None:
        return None
    return InboundResult(
        row.duplicate_id, row.duplicate_conversation_id, row.duplicate_customer_id, duplicate=True
    )


def _look_up_duplicates(session: Session, batch: list[NormalisedInbound]) -> None:
    """One query per channel tells which messages of a batch were already received."""
    wanted: dict[int, set[str]] = {}
    for inbound in batch:
        if inbound.provider_message_id:
            wanted.setdefault(inbound.channel_id, set()).add(inbound.provider_message_id)
    known: dict[tuple[int, str], InboundResult | None] = {}
    for channel_id, provider_ids in wanted.items():
        known.update({(channel_id, provider_id): None for provider_id in provider_ids})
        rows = session.connection().execute(
            sql.DUPLICATES_IN,
            {"channel_id": channel_id, "provider_message_ids": sorted(provider_ids)},
        )
        for row in rows:
            known[(channel_id, row.provider_message_id)] = InboundResult(
                row.id, row.conversation_id, row.customer_id, duplicate=True
            )
    session.info[_KNOWN_KEY] = known


def _known_duplicate(session: Session, inbound: NormalisedInbound) -> InboundResult | None:
    known = session.info.get(_KNOWN_KEY)
    key = (inbound.channel_id, inbound.provider_message_id or "")
    if known is not None and key in known:
        return known[key]
    return find_duplicate(session.connection(), inbound)


def _remember_received(session: Session, inbound: NormalisedInbound, result: InboundResult) -> None:
    """A second copy later in the same batch is then answered as a duplicate."""
    known = session.info.get(_KNOWN_KEY)
    if known is not None and inbound.provider_message_id:
        known[(inbound.channel_id, inbound.provider_message_id)] = InboundResult(
            result.message_id, result.conversation_id, result.customer_id, duplicate=True
        )


def find_duplicate(conn: Connection, inbound: NormalisedInbound) -> InboundResult | None:
    if not inbound.provider_message_id:
        return None
    row = conn.execute(
        sql.DUPLICATE,
        {"channel_id": inbound.channel_id, "provider_message_id": inbound.provider_message_id},
    ).first()
    return (
        None
        if row is None
        else InboundResult(row.id, row.conversation_id, row.customer_id, duplicate=True)
    )


def _open(ctx: _Context, customer_id: int, choice: ThreadChoice) -> int:
    inbound, at = ctx.inbound, ctx.occurred_at
    conversation_id: int = ctx.conn.execute(
        sql.INSERT_CONVERSATION,
        {
            "workspace_id": ctx.workspace_id,
            "customer_id": customer_id,
            "origin_channel_id": ctx.channel_id,
            "channel_id": ctx.channel_id,
            "status": ConversationStatus.NEW,
            "priority": Priority.NORMAL,
            "visibility": inbound.visibility,
            "subject": (inbound.subject or "")[:500] or None,
            "first_inbound_at": at,
            "last_inbound_at": at,
            "last_activity_at": at,
        },
    ).scalar_one()
    record_event(
        ctx.session,
        ctx.workspace_id,
        ctx.actor,
        ("conversation", conversation_id),
        "conversation.created",
        after={
            "customer_id": customer_id,
            "channel_id": ctx.channel_id,
            "visibility": str(inbound.visibility),
            "follow_up_of": choice.follow_up_of,
        },
    )
    return conversation_id


def _continue(ctx: _Context, state: Row[Any], message_id: int) -> None:
    """Move the conversation to where the customer is now, and wake it up if it slept; each
    change's event names the message that made it."""
    automatic = ctx.inbound.flag in AUTOMATIC_FLAGS
    changes = _conversation_changes(state, ctx.channel_id, ctx.inbound.visibility, automatic)
    subject = ("conversation", state.id)
    for action, field, before, after in changes:
        record_event(
            ctx.session,
            ctx.workspace_id,
            ctx.actor,
            subject,
            action,
            before={field: before},
            after={field: after, "message_id": message_id},
        )
    moved = {field: after for _, field, _, after in changes}
    at = ctx.occurred_at
    ctx.conn.execute(
        sql.UPDATE_CONVERSATION,
        {
            "conversation_id": state.id,
            "channel_id": moved.get("channel_id", state.channel_id),
            "status": moved.get("status", state.status),
            "visibility": moved.get("visibility", state.visibility),
            "first_inbound_at": min(state.first_inbound_at or at, at),
            "last_inbound_at": state.last_inbound_at
            if automatic
            else max(state.last_inbound_at or at, at),
            "last_activity_at": max(state.last_activity_at, at),
        },
    )


def _conversation_changes(
    state: Row[Any], channel_id: int, visibility: str, automatic: bool = False
) -> list[tuple[str, str, Any, Any]]:
    """(event, field, before, after) for each way this message changes the conversation.
    A message no person wrote (an out-of-office, a bounce) never wakes a conversation up."""
    changes: list[tuple[str, str, Any, Any]] = []
    if state.channel_id != channel_id:
        changes.append(
            ("conversation.channel_switched", "channel_id", state.channel_id, channel_id)
        )
    if visibility == Visibility.PRIVATE and state.visibility == Visibility.PUBLIC:
        changes.append(("conversation.moved_to_private", "visibility", "public", "private"))
    if state.status in _WAKES_UP and not automatic:
        changes.append(("conversation.reopened", "status", state.status, "open"))
    return changes


def _when(inbound: NormalisedInbound) -> datetime:
    """When the customer wrote; a date in the future (a sender's wrong clock) is read as now,
    or the message would sit on top of the inbox and capture every later one."""
    now = utcnow()
    if inbound.occurred_at is None:
        return now
    return min(as_utc(inbound.occurred_at), now)


def _remember_thread_key(ctx: _Context, customer_id: int, conversation_id: int) -> None:
    key = ctx.inbound.thread_key
    if not key:
        return
    row = find_thread_key(ctx.conn, ctx.channel_id, key, customer_id)
    if row is None:
        ctx.conn.execute(
            sql.INSERT_THREAD_KEY,
            {
                "channel_id": ctx.channel_id,
                "key": key,
                "customer_id": customer_id,
                "conversation_id": conversation_id,
            },
        )
    elif row.conversation_id != conversation_id:  # the old thread was closed: follow up here
        ctx.conn.execute(
            sql.MOVE_THREAD_KEY, {"thread_key_id": row.id, "conversation_id": conversation_id}
        )


def _store_message(ctx: _Context, conversation_id: int, identity_id: int | None) -> int:
    inbound = ctx.inbound
    message_id: int = ctx.conn.execute(
        sql.INSERT_MESSAGE,
        {
            "conversation_id": conversation_id,
            "channel_id": ctx.channel_id,
            "direction": Direction.INBOUND,
            "identity_id": identity_id,
            "text": inbound.text,
            "html": sanitise_html(inbound.html),
            "provider_message_id": inbound.provider_message_id or None,
            "status": DeliveryStatus.RECEIVED,
            "visibility": inbound.visibility,
            "flag": inbound.flag,
            "details": dict(inbound.details) if inbound.details else None,
            "occurred_at": ctx.occurred_at,
        },
    ).scalar_one()
    return message_id


def _stage_triage(
    ctx: _Context,
    message_id: int,
    conversation_id: int,
    customer_id: int,
    identity_id: int | None,
    settings: Settings,
) -> None:
    """Triaged with the transaction's other messages, just before commit (actions/triage.py)."""
    item = TriageItem(
        message_id=message_id,
        conversation_id=conversation_id,
        workspace_id=ctx.workspace_id,
        customer_id=customer_id,
        identity_id=identity_id,
        text=ctx.inbound.text,
        public=ctx.inbound.visibility == Visibility.PUBLIC,
        occurred_at=ctx.occurred_at,
        automatic=ctx.inbound.flag in AUTOMATIC_FLAGS,
    )
    stage_triage(ctx.session, item, settings.data_dir, settings.languages)


def _store_attachments(ctx: _Context, message_id: int, blobs: BlobStore) -> None:
    rows = [_attachment_row(message_id, item, blobs) for item in ctx.inbound.attachments]
    if rows:
        ctx.conn.execute(sql.INSERT_ATTACHMENT, rows)


def _attachment_row(message_id: int, item: IncomingAttachment, blobs: BlobStore) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "filename": item.filename[:500],
        "content_type": item.content_type,
        "size": None if item.content is None else len(item.content),
        "sha256": None if item.content is None else blobs.put(item.content),
        "url": item.url,
    }
