"""Providers' receipts for our messages: sent, delivered, read, failed.

A receipt moves a message forward only (``sent`` → ``delivered`` → ``read``); ``failed`` with
the provider's reason beats anything but ``read``. A receipt for an id we do not know yet (the
provider answered the webhook before our send was recorded) is kept and applied as soon as the
message with that id is recorded.

A *watermark* (Messenger, Instagram) names a person and a time instead of a message: every
reply sent to that identity on the channel at or before it (``details["sent_at"]``: when its
successful attempt began; else when it was queued) moves forward, failed replies excepted.
While a reply to that person is still queued, the watermark is kept too (as an early receipt
under ``watermark:<kind>:<value>``) and applied when the reply is recorded sent, if it was sent
by then.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from filrouge.channels.base import Recipient, StatusUpdate
from filrouge.core.actions.identities import find_identity
from filrouge.core.audit import Actor, record_event
from filrouge.core.errors import Invalid
from filrouge.core.events import publish_after_commit
from filrouge.core.identity import normalise_identity
from filrouge.core.models import ChannelAccount, EarlyReceipt, Identity, Message
from filrouge.core.models.enums import DeliveryStatus, Direction
from filrouge.lib.timeutil import as_utc, utcnow

RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}
# Receipts nobody claimed (messages sent from the provider's own app) are forgotten after this.
EARLY_RECEIPTS_KEPT = timedelta(days=7)


def apply_receipts(session: Session, updates: list[StatusUpdate]) -> int:
    """Apply each receipt to its message, or keep it for later; return how many applied."""
    applied = 0
    for update in updates:
        if update.watermark_for is not None:
            applied += apply_watermark(session, update, update.watermark_for)
            continue
        message = session.scalar(
            select(Message).where(
                Message.channel_id == update.channel_id,
                Message.provider_message_id == update.provider_message_id,
            )
        )
        if message is None:
            _keep_early(session, update)
        elif apply_receipt(session, message, update.status, update.error):
            applied += 1
    return applied


def apply_early_receipts(
    session: Session, message: Message, sent_at: datetime | None = None
) -> None:
    """The message now has its provider id (its send began at ``sent_at``): apply what the
    provider already told of it, by its id or by a watermark for its recipient."""
    if sent_at is not None:
        message.details = {**(message.details or {}), "sent_at": as_utc(sent_at).isoformat()}
    _apply_early_watermarks(session, message)
    if not message.provider_message_id:
        return
    where = (
        EarlyReceipt.channel_id == message.channel_id,
        EarlyReceipt.provider_message_id == message.provider_message_id,
    )
    receipts = session.scalars(select(EarlyReceipt).where(*where).order_by(EarlyReceipt.id))
    for receipt in list(receipts):
        apply_receipt(session, message, DeliveryStatus(receipt.status), receipt.error)
    session.execute(delete(EarlyReceipt).where(*where))


def apply_watermark(session: Session, update: StatusUpdate, person: Recipient) -> int:
    """Every reply to ``person`` on the channel sent by the watermark moves forward; kept for
    the replies to them still queued. Returns how many replies moved."""
    watermark = update.occurred_at
    identity = _identity_of(session, update.channel_id, person)
    if watermark is None or identity is None:
        return 0
    replies = session.scalars(
        select(Message)
        .where(
            Message.channel_id == update.channel_id,
            Message.identity_id == identity.id,
            Message.direction == Direction.OUTBOUND,
            Message.status.in_([DeliveryStatus.SENT, DeliveryStatus.DELIVERED]),
            Message.occurred_at <= watermark,
        )
        .order_by(Message.id)
    )
    moved = [
        m
        for m in list(replies)
        if sent_time(m) <= as_utc(watermark) and apply_receipt(session, m, update.status, None)
    ]
    if _has_queued_replies(session, update.channel_id, identity.id):
        _keep_watermark(session, update, watermark_key(identity.kind, identity.value))
    return len(moved)


def sent_time(message: Message) -> datetime:
    """When a reply's successful attempt began (else, for replies recorded before that was
    kept, when it was queued)."""
    recorded = (message.details or {}).get("sent_at")
    if isinstance(recorded, str):
        with contextlib.suppress(ValueError):  # not a date: the queued time below
            return as_utc(datetime.fromisoformat(recorded))
    return as_utc(message.occurred_at)


def watermark_key(kind: str, value: str) -> str:
    return f"watermark:{kind}:{value}"


def _identity_of(session: Session, channel_id: int, person: Recipient) -> Identity | None:
    channel = session.get(ChannelAccount, channel_id)
    if channel is None:
        return None
    try:
        value = normalise_identity(person.kind, person.value, "ZZ")
    except Invalid:
        return None
    return find_identity(session, channel.workspace_id, person.kind, value)


def _has_queued_replies(session: Session, channel_id: int, identity_id: int) -> bool:
    found = session.scalar(
        select(Message.id)
        .where(
            Message.channel_id == channel_id,
            Message.identity_id == identity_id,
            Message.direction == Direction.OUTBOUND,
            Message.status == DeliveryStatus.QUEUED,
        )
        .limit(1)
    )
    return found is not None


def _keep_watermark(session: Session, update: StatusUpdate, key: str) -> None:
    """One kept watermark per person and status: the latest."""
    kept = session.scalar(
        select(EarlyReceipt).where(
            EarlyReceipt.channel_id == update.channel_id,
            EarlyReceipt.provider_message_id == key,
            EarlyReceipt.status == update.status,
        )
    )
    watermark = as_utc(update.occurred_at or utcnow())
    if kept is None:
        session.add(
            EarlyReceipt(
                channel_id=update.channel_id,
                provider_message_id=key,
                status=update.status,
                occurred_at=watermark,
            )
        )
        session.flush()
    elif as_utc(kept.occurred_at) < watermark:
        kept.occurred_at = watermark


def _apply_early_watermarks(session: Session, message: Message) -> None:
    """Watermarks that came while this reply was queued, if it was sent by then."""
    identity = None if message.identity_id is None else session.get(Identity, message.identity_id)
    if identity is None or message.direction != Direction.OUTBOUND:
        return
    kept = session.scalars(
        select(EarlyReceipt).where(
            EarlyReceipt.channel_id == message.channel_id,
            EarlyReceipt.provider_message_id == watermark_key(identity.kind, identity.value),
        )
    )
    for receipt in sorted(kept, key=lambda r: RANK.get(DeliveryStatus(r.status), 0)):
        if sent_time(message) <= as_utc(receipt.occurred_at):
            apply_receipt(session, message, DeliveryStatus(receipt.status), None)


def apply_receipt(
    session: Session, message: Message, status: DeliveryStatus, error: str | None
) -> bool:
    if message.direction != Direction.OUTBOUND or not _moves_forward(message.status, status):
        return False
    before = message.status
    message.status = status
    if status == DeliveryStatus.FAILED:
        message.error = error or "the provider could not deliver it"
    channel = session.get_one(ChannelAccount, message.channel_id)
    record_event(
        session,
        channel.workspace_id,
        Actor.channel(channel.id),
        ("conversation", message.conversation_id),
        f"message.{status}",
        before={"status": before},
        after={"message_id": message.id, "status": status, "error": message.error},
    )
    publish_after_commit(
        session, f"message.{status}", message_id=message.id, conversation_id=message.conversation_id
    )
    return True


def forget_old_early_receipts(session: Session) -> int:
    cutoff = utcnow() - EARLY_RECEIPTS_KEPT
    result = session.execute(delete(EarlyReceipt).where(EarlyReceipt.occurred_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def _moves_forward(current: str, new: DeliveryStatus) -> bool:
    if current == DeliveryStatus.FAILED:
        return new == DeliveryStatus.READ  # read after all: the failure report was wrong
    if new == DeliveryStatus.FAILED:
        return current != DeliveryStatus.READ
    if current not in RANK or new not in RANK:
        return False
    return RANK[DeliveryStatus(new)] > RANK[DeliveryStatus(current)]


def _keep_early(session: Session, update: StatusUpdate) -> None:
    exists = session.scalar(
        select(EarlyReceipt.id).where(
            EarlyReceipt.channel_id == update.channel_id,
            EarlyReceipt.provider_message_id == update.provider_message_id,
            EarlyReceipt.status == update.status,
        )
    )
    if exists is None:
        session.add(
            EarlyReceipt(
                channel_id=update.channel_id,
                provider_message_id=update.provider_message_id,
                status=update.status,
                error=update.error,
                occurred_at=update.occurred_at or utcnow(),
            )
        )
        session.flush()
