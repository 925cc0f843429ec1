"""Customers and the identities by which each channel knows them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime
from filrouge.lib.timeutil import utcnow

if TYPE_CHECKING:
    from filrouge.core.models.agent import User


class Customer(IdMixin, CreatedMixin, Base):
    __tablename__ = "customers"

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    merged_into_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("customers.id"))
    # The concierge: the agent this customer's new conversations go to first (concierge.py).
    owner_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    identities: Mapped[list[Identity]] = relationship(
        back_populates="customer", order_by="Identity.id"
    )
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])


class Identity(IdMixin, CreatedMixin, Base):
    """How one channel knows a customer: an email address, an E.164 number, an X id..."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "value"),
        Index("ix_identities_value", "value"),
    )

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"))
    customer_id: Mapped[int] = mapped_column(IdType, ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(300))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the provider tells of this identity: handle, followers (reach)…
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    customer: Mapped[Customer] = relationship(back_populates="identities")
