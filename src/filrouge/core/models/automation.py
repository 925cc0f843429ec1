"""Automation: rules run on a trigger, macros applied by an agent, and the runs already made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime
from filrouge.lib.timeutil import utcnow


class AutomationRule(IdMixin, CreatedMixin, Base):
    """When ``trigger`` happens and ``conditions`` hold, apply ``actions`` (in ``position``
    order; ``stop_processing`` ends the turn of the rules after this one)."""

    __tablename__ = "automation_rules"
    __table_args__ = (Index("ix_automation_rules_workspace_trigger", "workspace_id", "trigger"),)

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    trigger: Mapped[str] = mapped_column(String(32))  # an ``automation.rules.Trigger``
    hours: Mapped[int | None] = mapped_column(Integer)  # no_reply: after this many hours
    # {"match": "all" | "any", "items": [{"field", "op", "value"}]}
    conditions: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)  # {type, params}
    stop_processing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Macro(IdMixin, CreatedMixin, Base):
    """Several actions in one click; shared with the workspace, or personal to ``owner_id``."""

    __tablename__ = "macros"

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    owner_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"))  # None: shared
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AutomationRun(IdMixin, Base):
    """A rule applied once to one occurrence of its trigger (``trigger_key``: the message,
    the status change, the unanswered message…): a job run twice never applies it twice."""

    __tablename__ = "automation_runs"
    __table_args__ = (UniqueConstraint("rule_id", "conversation_id", "trigger_key"),)

    rule_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("automation_rules.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    trigger_key: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
