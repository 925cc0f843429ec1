"""Suggested duplicates: two customers who may be one person, for a supervisor to merge or
to mark as not the same (then never suggested again)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime
from filrouge.lib.timeutil import utcnow


class DuplicateSuggestion(IdMixin, CreatedMixin, Base):
    """``customer_id`` < ``other_id``; ``evidence`` lists why, e.g.
    ``[{"kind": "same_phone", "value": "+33612345678"}]``."""

    __tablename__ = "duplicate_suggestions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "customer_id", "other_id"),
        Index("ix_duplicate_suggestions_status", "workspace_id", "status", "score"),
    )

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"))
    customer_id: Mapped[int] = mapped_column(IdType, ForeignKey("customers.id"))
    other_id: Mapped[int] = mapped_column(IdType, ForeignKey("customers.id"))
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, merged, dismissed
    decided_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
