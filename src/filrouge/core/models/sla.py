"""Service levels: the policies (targets by channel and priority) and what became of each
target (met or breached), kept for reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime


class SlaPolicy(IdMixin, CreatedMixin, Base):
    """Targets in seconds for conversations of some channel kinds and priorities (empty: any);
    the first active policy by ``position`` that matches a conversation applies."""

    __tablename__ = "sla_policies"

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    channel_kinds: Mapped[list[str]] = mapped_column(JsonType, default=list)
    priorities: Mapped[list[str]] = mapped_column(JsonType, default=list)
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    next_response_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    warn_ratio: Mapped[float] = mapped_column(Float, default=0.2)  # share of the target left
    warn_before_seconds: Mapped[int | None] = mapped_column(Integer)  # instead of the ratio
    notify_supervisors: Mapped[bool] = mapped_column(Boolean, default=True)
    raise_priority: Mapped[bool] = mapped_column(Boolean, default=False)
    reassign_team_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SlaOutcome(IdMixin, CreatedMixin, Base):
    """One target of one conversation, from the moment it started: breached (as soon as it
    is), met (when answered or resolved; a breached one keeps ``breached`` and gets ``met_at``)."""

    __tablename__ = "sla_outcomes"
    __table_args__ = (UniqueConstraint("conversation_id", "target", "started_at"),)

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(IdType, ForeignKey("conversations.id"))
    policy_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("sla_policies.id"))
    target: Mapped[str] = mapped_column(String(24))  # first_response, next_response, resolution
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    elapsed_seconds: Mapped[float | None] = mapped_column(Float)  # calendar, pauses excluded
    business_seconds: Mapped[float | None] = mapped_column(Float)  # open time, pauses excluded
    channel_kind: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(16))
