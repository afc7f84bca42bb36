"""A host app's user and the one Stripe customer linked to it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId


class Customer(Base):
    """One row per host user id. `stripe_customer_id` is set once Stripe knows the user.

    Users on the free plan have a row (the ledger and usage hang on it) and no
    Stripe customer until their first checkout.
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    host_user_id: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(255))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    livemode: Mapped[bool] = mapped_column(default=False)
    # Test mode: the Stripe test clock the Stripe customer lives on; coinslot's time for the customer
    # follows it (models/test_clock.py).
    stripe_test_clock_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
