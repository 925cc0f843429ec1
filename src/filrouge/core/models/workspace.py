"""The workspace (one brand) and its channel accounts ("inboxes")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType


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
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    inbound_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
