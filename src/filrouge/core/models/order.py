"""Orders and purchases: what a customer bought, on the web, in a store or by phone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from filrouge.core.models.base import Base, CreatedMixin, IdMixin, IdType, JsonType, UTCDateTime
from filrouge.lib.timeutil import utcnow


class Order(IdMixin, CreatedMixin, Base):
    """One order, known by its number (unique in the workspace). ``number_key`` is the number
    as it is looked up in messages: upper case, without spaces."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number_key"),
        Index("ix_orders_customer_ordered", "customer_id", "ordered_at"),
    )

    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id"))
    customer_id: Mapped[int] = mapped_column(IdType, ForeignKey("customers.id"))
    number: Mapped[str] = mapped_column(String(64))
    number_key: Mapped[str] = mapped_column(String(64))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # In the currency's minor unit (cents for EUR), so that sums are exact on every database.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(16))
    store: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    # [{"sku", "name", "quantity", "unit_price_minor"}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
