"""Conversations: one thread with a customer, whatever channels it went through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from filrouge.core.models.base import (
    Base,
    CreatedMixin,
    IdMixin,
    IdType,
    JsonType,
    UTCDateTime,
)
from filrouge.core.models.enums import ConversationStatus, Priority, Visibility
from filrouge.lib.timeutil import utcnow


class Conversation(IdMixin, CreatedMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_activity", "last_activity_at", "id"),
        # the inbox: one workspace's conversations, most recent activity first
        Index("ix_conversations_workspace_activity", "workspace_id", "last_activity_at", "id"),
        Index("ix_conversations_customer_activity", "customer_id", "last_activity_at"),
        Index("ix_conversations_status_activity", "status", "last_activity_at"),
        # reports: the conversations begun in a period
        Index("ix_conversations_workspace_first_inbound", "workspace_id", "first_inbound_at"),
        # the dashboard: what waits on the team now, since when, within its cuts (counted
        # from the index alone)
        Index(
            "ix_conversations_workspace_status_first_inbound",
            "workspace_id",
            "status",
            "first_inbound_at",
            "customer_id",
            "team_id",
            "assignee_id",
            "priority",
        ),
        # the "SLA due soon" view; the SLA sweeper (what must be looked at again)
        Index("ix_conversations_workspace_sla_due", "workspace_id", "sla_due_at"),
        Index("ix_conversations_sla_alert", "sla_alert_at"),
        Index("ix_conversations_sla_due", "sla_due_at"),  # /metrics: targets breached now
    )

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    customer_id: Mapped[int] = mapped_column(IdType, ForeignKey("customers.id"))
    origin_channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"))
    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.NEW)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PRIVATE)
    assignee_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("teams.id"), index=True)
    subject: Mapped[str | None] = mapped_column(String(500))
    first_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A public thread whose personal part moved to private (and back): the other one.
    linked_conversation_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("conversations.id")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Service level (core/actions/sla.py): the policy applied, the running target due first
    # (its start, due and "due soon" moments), the next moment to look again (warning,
    # breach), when it was last worked out, the times spent waiting for the customer
    # ([start, end|null] ISO pairs) and the run already warned ("target@start").
    sla_policy_id: Mapped[int | None] = mapped_column(IdType)  # policies are never deleted
    sla_target: Mapped[str | None] = mapped_column(String(24))
    sla_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_pauses: Mapped[list[Any] | None] = mapped_column(JsonType)
    sla_warned: Mapped[str | None] = mapped_column(String(64))
    tag_rows: Mapped[list[ConversationTag]] = relationship(
        cascade="all, delete-orphan", order_by="ConversationTag.tag"
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class ConversationTag(Base):
    __tablename__ = "conversation_tags"

    conversation_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ThreadKey(IdMixin, Base):
    """A provider's own thread id (a comment thread, a chat session) pointing at one customer's
    conversation: two people commenting on the same post keep two conversations."""

    __tablename__ = "thread_keys"
    __table_args__ = (UniqueConstraint("channel_id", "key", "customer_id"),)

    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"))
    key: Mapped[str] = mapped_column(String(500))
    customer_id: Mapped[int] = mapped_column(IdType, ForeignKey("customers.id"))
    conversation_id: Mapped[int] = mapped_column(IdType, ForeignKey("conversations.id"), index=True)
