"""The shop's orders, read by the order-status form.

Schema changes go through Alembic (migrations/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, utcnow


class Order(Base):
    """Demo order table that the order-status form answers from."""

    __tablename__ = "orders"

    order_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(32))
    carrier: Mapped[str] = mapped_column(String(64), default="")
    tracking_no: Mapped[str] = mapped_column(String(64), default="")
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    eta: Mapped[str] = mapped_column(String(32), default="")
