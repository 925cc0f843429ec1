"""Providers' receipts for our messages: sent, delivered, read, failed.

A receipt moves a message forward only (``sent`` → ``delivered`` → ``read``); ``failed`` with
the provider's reason beats anything but ``read``. A receipt for an id we do not know yet (the
provider answered the webhook before our send was recorded) is kept and applied as soon as the
message with that id is recorded.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from filrouge.channels.base import StatusUpdate
from filrouge.core.audit import Actor, record_event
from filrouge.core.events import publish_after_commit
from filrouge.core.models import ChannelAccount, EarlyReceipt, Message
from filrouge.core.models.enums import DeliveryStatus, Direction
from filrouge.lib.timeutil import utcnow

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


def apply_early_receipts(session: Session, message: Message) -> None:
    """The message now has its provider id: apply what the provider already told of it."""
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
