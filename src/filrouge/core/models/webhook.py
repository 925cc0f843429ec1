"""Provider webhook deliveries, kept raw, and receipts that came before their message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, IdMixin, IdType, JsonType, UTCDateTime


class WebhookDelivery(IdMixin, Base):
    """One verified delivery of a provider, stored raw before it is answered.

    ``outcome`` is ``pending`` until read; then ``processed``, ``unsupported`` (nothing in it
    that Filrouge handles: kept with the reason) or ``unreadable`` (kept for a person to read).
    The same body delivered twice on a channel is stored once (``digest``)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "digest"),
        Index("ix_webhook_deliveries_outcome_id", "outcome", "id"),
    )

    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"))
    kind: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {"messages": n, "statuses": n, "unsupported": [{"event_type", "reason"}], "error": …}
    summary: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class EarlyReceipt(IdMixin, Base):
    """A receipt (delivered, read…) for a provider id we do not know yet: applied as soon as
    the message it names is recorded (providers do not keep order)."""

    __tablename__ = "early_receipts"
    __table_args__ = (UniqueConstraint("channel_id", "provider_message_id", "status"),)

    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"))
    provider_message_id: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(24))
    error: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
