"""An order for a one-time product, with the form the user filled in (saved before payment)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId


class Order(Base):
    """DRAFT until a paid Checkout Session moves it to PAID; the host then FULFILLs or CANCELs it.

    Saved before the redirect to Stripe, so nothing the user typed is lost when
    the checkout is abandoned: a new checkout for the same order resumes it.
    """

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # ord_...; what the API shows
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    product_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # draft | paid | fulfilled | canceled
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255))  # the session that paid
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    fulfilled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
