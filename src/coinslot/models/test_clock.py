"""Stripe test clocks that coinslot's customers live on (test mode only).

A customer whose Stripe customer sits on a test clock lives at that clock's time in coinslot too
(`customers.service.time_of`): renewals, grants, expiries and grace periods happen in coinslot when
the host advances the clock, as they would in production as time passes. `frozen_at` is the latest
time Stripe told of the clock: read when a customer on it is linked, then from its
`test_helpers.test_clock.*` events.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime

__all__ = ["StripeTestClock"]


class StripeTestClock(Base):
    __tablename__ = "stripe_test_clocks"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # clock_...
    frozen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
