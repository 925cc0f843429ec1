"""Satisfaction surveys: one per resolved conversation, sent on the customer's channel, answered
once on a public page (or inline in the chat) before it expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, UTCDateTime


class Survey(IdMixin, CreatedMixin, Base):
    """``token_digest`` is the SHA-256 of the link's token (the link itself went to the customer
    in ``message_id``). CSAT 1–5, NPS 0–10 and "solved at the first contact?" once answered.
    The customer is the conversation's: a merge or an unmerge moves the survey with it."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_workspace_answered", "workspace_id", "answered_at"),)

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("conversations.id"), unique=True
    )
    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"))
    message_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("messages.id"))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    csat: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    solved_first_contact: Mapped[bool | None] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
