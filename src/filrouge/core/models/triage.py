"""A message's triage (filrouge.triage): what the classifier said, and what a person corrected.

One row per triaged inbound message (no row: not triaged yet, or the classifier failed). The
labels are the ones in force: an agent's correction replaces ``language``, ``type`` and
``sentiment`` (and the priority worked out from them) and keeps the classifier's first answer
in ``predicted``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdType, JsonType, UTCDateTime


class MessageTriage(CreatedMixin, Base):
    __tablename__ = "message_triage"
    __table_args__ = (
        # ``filrouge triage retrain`` reads the corrected ones
        Index("ix_message_triage_corrected_at", "corrected_at"),
    )

    message_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(24))
    sentiment: Mapped[str] = mapped_column(String(16))
    sentiment_score: Mapped[float] = mapped_column(Float)
    priority: Mapped[str] = mapped_column(String(16))
    signals: Mapped[list[str]] = mapped_column(JsonType)
    model_version: Mapped[str] = mapped_column(String(64))
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    corrected_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the classifier's own labels, kept when a person first corrects them
    predicted: Mapped[dict[str, Any] | None] = mapped_column(JsonType)

    def as_dict(self) -> dict[str, Any]:
        """The API's shape (docs/TRIAGE.md)."""
        return {
            "language": self.language,
            "type": self.type,
            "sentiment": self.sentiment,
            "sentiment_score": round(self.sentiment_score, 3),
            "priority": self.priority,
            "signals": list(self.signals or []),
        }
