"""The workspace (one brand) and its channel accounts ("inboxes")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import (
    Base,
    CreatedMixin,
    IdMixin,
    IdType,
    JsonType,
    SettingsJson,
    UTCDateTime,
)


class Workspace(IdMixin, CreatedMixin, Base):
    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class ChannelAccount(IdMixin, CreatedMixin, Base):
    """One inbox of a given kind: a mailbox, a WhatsApp number, a Facebook page, a store..."""

    __tablename__ = "channel_accounts"

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(SettingsJson, default=dict)
    inbound_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the provider refused the channel's credentials (a revoked token): an admin must
    # connect it again; cleared when its settings are saved.
    needs_reconnection_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconnection_reason: Mapped[str | None] = mapped_column(Text)


class FormSubmission(IdMixin, Base):
    """A post of a public form (web contact form), kept to limit posts per address."""

    __tablename__ = "form_submissions"
    __table_args__ = (Index("ix_form_submissions_channel_ip_at", "channel_id", "ip", "at"),)

    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channel_accounts.id"))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
