"""The retention policy: the words of conversations closed for more than N months are
anonymised (``workspaces.settings["retention_months"]``; none by default: kept forever).

Like an erasure, the messages keep their direction, channel, times and status, so that the
statistics survive; attachments and their files go, and so do the raw bodies of provider
deliveries received before the same date. One event per run says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, exists, or_, select, update
from sqlalchemy.orm import Session

from filrouge.core.actions.erasure import anonymise_conversations
from filrouge.core.audit import Actor, record_event
from filrouge.core.blobs import BlobStore
from filrouge.core.erasure_elsewhere import ERASED_TEXT, PENDING
from filrouge.core.errors import Invalid
from filrouge.core.models import (
    Attachment,
    ChannelAccount,
    Conversation,
    Message,
    WebhookDelivery,
    Workspace,
)
from filrouge.core.models.enums import ConversationStatus
from filrouge.lib.timeutil import utcnow

RETENTION_KEY = "retention_months"
FINISHED = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)
MAX_MONTHS = 1200


@dataclass(frozen=True)
class RetentionReport:
    conversations: int
    messages: int
    attachments: int
    webhook_deliveries: int  # raw provider bodies emptied


def retention_months(workspace: Workspace) -> int | None:
    months = (workspace.settings or {}).get(RETENTION_KEY)
    return months if isinstance(months, int) and months > 0 else None


def set_retention(session: Session, workspace: Workspace, months: int | None, actor: Actor) -> None:
    """Keep closed conversations ``months`` months (None: forever)."""
    if months is not None and not 1 <= months <= MAX_MONTHS:
        raise Invalid(
            "invalid_retention",
            "Keep closed conversations from 1 to {max} months.",
            field=RETENTION_KEY,
            max=MAX_MONTHS,
        )
    before = retention_months(workspace)
    settings = {k: v for k, v in (workspace.settings or {}).items() if k != RETENTION_KEY}
    workspace.settings = settings if months is None else {**settings, RETENTION_KEY: months}
    record_event(
        session,
        workspace.id,
        actor,
        ("workspace", workspace.id),
        "workspace.retention_changed",
        before={RETENTION_KEY: before},
        after={RETENTION_KEY: months},
    )


def apply_retention(
    session: Session, workspace: Workspace, blobs: BlobStore, now: datetime | None = None
) -> RetentionReport | None:
    """Anonymise what the policy no longer keeps; None when the workspace has no policy."""
    months = retention_months(workspace)
    if months is None:
        return None
    cutoff = months_before(now or utcnow(), months)
    conversation_ids = list(session.scalars(_expired(workspace.id, cutoff)))
    deliveries = _empty_old_deliveries(session, workspace.id, cutoff)
    if not conversation_ids and not deliveries:
        return RetentionReport(0, 0, 0, 0)
    anonymised = anonymise_conversations(
        session, select(Conversation.id).where(Conversation.id.in_(conversation_ids)), blobs
    )
    report = RetentionReport(
        len(conversation_ids), anonymised.messages, anonymised.attachments, deliveries
    )
    record_event(
        session,
        workspace.id,
        Actor.system(),
        ("workspace", workspace.id),
        "retention.applied",
        after={RETENTION_KEY: months, **report.__dict__},
    )
    return report


def _expired(workspace_id: int, cutoff: datetime) -> Select[tuple[int]]:
    """Finished conversations idle since before ``cutoff`` with words or files left."""
    message = Message.conversation_id == Conversation.id
    with_files = exists().where(message, Attachment.message_id == Message.id)
    return select(Conversation.id).where(
        Conversation.workspace_id == workspace_id,
        Conversation.status.in_(FINISHED),
        Conversation.last_activity_at < cutoff,
        or_(exists().where(message, Message.text != ERASED_TEXT), with_files),
    )


def _empty_old_deliveries(session: Session, workspace_id: int, cutoff: datetime) -> int:
    """Raw provider bodies (they hold the messages' words) received before ``cutoff``."""
    channels = select(ChannelAccount.id).where(ChannelAccount.workspace_id == workspace_id)
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.channel_id.in_(channels),
            WebhookDelivery.received_at < cutoff,
            WebhookDelivery.outcome != PENDING,
            WebhookDelivery.body != b"",
        )
        .values(body=b"", summary={"expired": True}),
        execution_options={"synchronize_session": False},
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day ``months`` calendar months earlier (the 31st becomes the month's last)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month + 1, day=min(moment.day, 28))
