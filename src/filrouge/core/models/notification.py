"""Notifications: something a person should know, shown under the bell of the workspace.

Rows keep ids only (a conversation, a customer); names are read when the notification is shown,
so that an erased customer's name is never kept here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime


class Notification(IdMixin, CreatedMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at", "id"),)

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    customer_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("customers.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
