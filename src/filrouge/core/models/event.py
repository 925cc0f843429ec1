"""The append-only event log: every state change, who made it, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, IdMixin, IdType, JsonType, UTCDateTime
from filrouge.lib.timeutil import utcnow


class Event(IdMixin, Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "subject_type", "subject_id", "id"),)

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(IdType)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(IdType)
    action: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    # Set once when personal data was erased from ``before`` and ``after`` (the only change
    # the database lets through: migration 0014).
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
