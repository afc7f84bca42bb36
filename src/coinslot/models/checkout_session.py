"""A Checkout Session coinslot started: saved before Stripe is called, so its id keys the request."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId


class CheckoutSession(Base):
    """One row per checkout attempt.

    status: creating (saved, Stripe not answered yet) -> open (Stripe session made) ->
    complete | expired; failed when Stripe refused or was unreachable (nothing exists there).
    `fulfilled_at` is set once the paid session's effects (order PAID, pack credits) are applied.
    """

    __tablename__ = "checkout_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    item_kind: Mapped[str] = mapped_column(String(10))  # plan | product | pack
    item_key: Mapped[str] = mapped_column(String(100))
    interval: Mapped[str | None] = mapped_column(String(10))  # plans: month | year
    quantity: Mapped[int]
    mode: Mapped[str] = mapped_column(String(16))  # payment | subscription
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    fulfilled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
