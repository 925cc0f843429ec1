"""Provider webhooks: store each verified delivery raw, then read it into the pipeline.

``store_delivery`` is all a webhook request does once the signature is checked: one insert,
so the provider is answered within milliseconds. ``process_pending`` (a background job) reads
what is pending: messages go through ``receive_messages`` like every channel's, receipts update
our messages, and what Filrouge does not handle is kept with its reason. Reading twice is
harmless: messages are unique per (channel, provider id), receipts only move forward.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from filrouge.channels.base import DeliveryError, NormalisedInbound, WebhookBatch
from filrouge.channels.registry import receiver_for
from filrouge.channels.webhooks import HookRequest, PayloadError, WebhookReceiver
from filrouge.core.actions.inbound import receive_messages
from filrouge.core.actions.receipts import apply_receipts
from filrouge.core.errors import DomainError
from filrouge.core.models import ChannelAccount, WebhookDelivery
from filrouge.lib.timeutil import utcnow
from filrouge.settings import Settings

log = logging.getLogger(__name__)
PENDING = "pending"
PROCESSED = "processed"
UNSUPPORTED = "unsupported"
UNREADABLE = "unreadable"
BATCH = 50
_INSERT = insert(WebhookDelivery).returning(WebhookDelivery.id)
_NEWEST = select(WebhookDelivery.received_at).order_by(WebhookDelivery.id.desc()).limit(1)


@dataclass(frozen=True)
class StoredDelivery:
    id: int
    duplicate: bool


def store_delivery(
    factory: sessionmaker[Session],
    channel_id: int,
    kind: str,
    request: HookRequest,
    outcome: str = PENDING,
    error: str | None = None,
) -> StoredDelivery:
    """Keep the raw delivery (once per channel and body); ``outcome`` is ``unreadable`` for a
    body that could not be read, kept all the same for a person to look at."""
    digest = hashlib.sha256(request.body).hexdigest()
    row = {
        "channel_id": channel_id,
        "kind": kind,
        "digest": digest,
        "body": request.body,
        "content_type": request.content_type[:200],
        "url": request.url,
        "received_at": utcnow(),
        "outcome": outcome,
        "processed_at": None if outcome == PENDING else utcnow(),
        "summary": None if error is None else {"error": error},
    }
    try:
        with factory() as session, session.begin():
            return StoredDelivery(session.execute(_INSERT, row).scalar_one(), duplicate=False)
    except IntegrityError:
        with factory() as session:
            known = session.scalar(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.channel_id == channel_id, WebhookDelivery.digest == digest
                )
            )
        if known is None:
            raise
        return StoredDelivery(known, duplicate=True)


@dataclass
class _Read:
    delivery_id: int
    batch: WebhookBatch | None
    error: str | None = None


def process_pending(factory: sessionmaker[Session], settings: Settings, limit: int = BATCH) -> int:
    """Read up to ``limit`` pending deliveries; return how many were read."""
    with factory() as session:
        rows = session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.channel_id,
                WebhookDelivery.kind,
                WebhookDelivery.body,
                WebhookDelivery.content_type,
                WebhookDelivery.url,
            )
            .where(WebhookDelivery.outcome == PENDING)
            .order_by(WebhookDelivery.id)
            .limit(limit)
        ).all()
        channel_settings = _settings_of(session, {row.channel_id for row in rows})
    if not rows:
        return 0
    reads = [_read(row, channel_settings.get(row.channel_id, {}), settings) for row in rows]
    messages = [m for r in reads if r.batch for m in r.batch.messages]
    results = receive_messages(factory, messages, settings) if messages else []
    refusals = iter(results)
    with factory() as session, session.begin():
        for read in reads:
            summary, outcome = _summary(read, refusals)
            if read.batch is not None:
                apply_receipts(session, read.batch.statuses)
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == read.delivery_id)
                .values(outcome=outcome, processed_at=utcnow(), summary=summary)
            )
    return len(rows)


def newest_delivery_at(factory: sessionmaker[Session]) -> datetime | None:
    """When the last delivery was stored, by whichever process (None: never)."""
    with factory() as session:
        return session.execute(_NEWEST).scalar()


def _read(row: Any, channel: dict[str, Any], settings: Settings) -> _Read:
    receiver = receiver_for(row.kind)
    if receiver is None:
        return _Read(row.id, None, f"no receiver for {row.kind}")
    request = HookRequest(url=row.url, headers={}, body=row.body, content_type=row.content_type)
    try:
        batch = receiver.parse(row.channel_id, channel, request)
        batch.messages = [
            _with_media(receiver, channel, m, settings.max_attachment_bytes) for m in batch.messages
        ]
        return _Read(row.id, batch)
    except PayloadError as exc:
        return _Read(row.id, None, str(exc))
    except Exception as exc:  # a payload no test foresaw: kept, never lost, never a crash loop
        log.exception("webhook delivery %s could not be read", row.id)
        return _Read(row.id, None, f"{type(exc).__name__}: {exc}")


def _with_media(
    receiver: WebhookReceiver, channel: dict[str, Any], inbound: NormalisedInbound, limit: int
) -> NormalisedInbound:
    """Fetch the files a payload only names; a file the provider will not give stays a
    reference (the message is never held back for it)."""
    if not any(a.content is None and a.url for a in inbound.attachments):
        return inbound
    files = []
    for attachment in inbound.attachments:
        content = None
        if attachment.content is None and attachment.url:
            try:
                content = receiver.fetch_media(channel, attachment.url, limit)
            except DeliveryError as exc:
                log.warning(
                    "a file of %s could not be fetched: %s", inbound.provider_message_id, exc
                )
        files.append(attachment if content is None else replace(attachment, content=content))
    return replace(inbound, attachments=tuple(files))


def _summary(read: _Read, results: Any) -> tuple[dict[str, Any], str]:
    if read.batch is None:
        return {"error": read.error}, UNREADABLE
    batch = read.batch
    refused = []
    for _ in batch.messages:
        result = next(results)
        if isinstance(result, DomainError):
            refused.append({"code": result.code, "message": str(result)})
    summary: dict[str, Any] = {
        "messages": len(batch.messages) - len(refused),
        "statuses": len(batch.statuses),
        "unsupported": [
            {"event_type": u.event_type, "reason": u.reason} for u in batch.unsupported
        ],
    }
    if refused:
        summary["refused"] = refused
    handled = summary["messages"] or batch.statuses
    if handled or not (batch.unsupported or refused):
        return summary, PROCESSED
    return summary, UNSUPPORTED if not refused else UNREADABLE


def _settings_of(session: Session, channel_ids: set[int]) -> dict[int, dict[str, Any]]:
    if not channel_ids:
        return {}
    rows = session.execute(
        select(ChannelAccount.id, ChannelAccount.settings).where(ChannelAccount.id.in_(channel_ids))
    )
    return {row.id: dict(row.settings or {}) for row in rows}
