"""Messages (inbound, outbound, internal notes) and their attachments."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime
from filrouge.core.models.enums import Visibility

if TYPE_CHECKING:
    from filrouge.core.models.triage import MessageTriage


class Message(IdMixin, CreatedMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "provider_message_id"),
        Index("ix_messages_conversation_time", "conversation_id", "occurred_at", "id"),
        Index("ix_messages_provider_message_id", "provider_message_id"),
    )

    conversation_id: Mapped[int] = mapped_column(IdType, ForeignKey("conversations.id"))
    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"))
    direction: Mapped[str] = mapped_column(String(16))
    identity_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("identities.id"))
    author_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    signed_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(500))
    in_reply_to_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("messages.id"))
    status: Mapped[str] = mapped_column(String(24))
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PRIVATE)
    error: Mapped[str | None] = mapped_column(Text)
    flag: Mapped[str | None] = mapped_column(String(24))  # a ``MessageFlag``
    # A contact logged by hand: {"duration_minutes", "store", "outcome"}.
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id")
    # inbound messages only (core/models/triage.py); load it with selectinload for a thread
    triage: Mapped[MessageTriage | None] = relationship(viewonly=True)


class Attachment(IdMixin, CreatedMixin, Base):
    """Metadata of a file; bytes live in the blob store under their SHA-256, or at ``url``."""

    __tablename__ = "attachments"

    message_id: Mapped[int] = mapped_column(IdType, ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
