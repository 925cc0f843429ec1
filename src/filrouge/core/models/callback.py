"""Callbacks: a customer asked to be called back, now or in a time slot."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, UTCDateTime
from filrouge.lib.timeutil import utcnow


class CallbackStatus(StrEnum):
    REQUESTED = "requested"  # waiting in the queue until due_at
    CALLING = "calling"  # an agent is calling
    REACHED = "reached"
    NO_ANSWER = "no_answer"  # retried at next_attempt_at while attempts remain
    WRONG_NUMBER = "wrong_number"
    RESCHEDULED = "rescheduled"  # waiting in the queue until the new due_at
    CANCELLED = "cancelled"


# Callbacks an agent still has to make (they fill their time slot).
WAITING_STATUSES = (CallbackStatus.REQUESTED, CallbackStatus.RESCHEDULED, CallbackStatus.CALLING)


class CallbackRequest(IdMixin, CreatedMixin, Base):
    """One request to be called back. The row is the truth: the queue, retries and the
    sweeper all read it."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        Index("ix_callback_requests_workspace_status_due", "workspace_id", "status", "due_at"),
        Index("ix_callback_requests_channel_due", "channel_id", "due_at"),
        Index(
            "ix_callback_requests_channel_ip_created", "channel_id", "requester_ip", "created_at"
        ),
        Index("ix_callback_requests_status_next", "status", "next_attempt_at"),
    )

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"))
    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"))
    conversation_id: Mapped[int] = mapped_column(IdType, ForeignKey("conversations.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.REQUESTED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    # The telephony provider's id of the last call placed, or why it could not be placed.
    call_id: Mapped[str | None] = mapped_column(String(64))
    call_error: Mapped[str | None] = mapped_column(Text)
    # "queued" (an SMS went to the delivery queue) or "unavailable" (no channel can send one).
    confirmation: Mapped[str | None] = mapped_column(String(16))
    requester_ip: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
