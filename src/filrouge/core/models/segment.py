"""Custom field definitions (typed customer attributes) and saved segments (customer filters)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime
from filrouge.lib.timeutil import utcnow


class CustomField(IdMixin, CreatedMixin, Base):
    """A workspace's typed attribute: its values live in ``customers.attributes[key]``."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    options: Mapped[list[str]] = mapped_column(JsonType, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Segment(IdMixin, CreatedMixin, Base):
    """A named filter over customers, shared with the workspace or private to its author."""

    __tablename__ = "segments"

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JsonType)
    author_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
