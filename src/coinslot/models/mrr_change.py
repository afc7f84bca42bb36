"""The history of what each subscription brings per month: one row per change, never updated or deleted.

The mirror (`subscriptions`) knows a subscription's monthly amount as of its last snapshot only; these
rows keep every earlier one, so that a month's expansion, contraction, churn and net revenue retention
can be computed afterwards (analytics/core.py). Written by the subscription's sync, in its transaction,
only when the monthly amount changed: replaying a snapshot writes nothing.

A monthly amount is an exact fraction of a minor unit, stored as numerator and denominator (a yearly
29000 is 29000/12 a month, a 2-year price 1/24 of its amount): "x 12" integers would not be exact for
every interval Stripe bills (every 5 months, every 2 years), and rounding each row would make the
months' sums drift from the MRR, which rounds once per currency.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId

__all__ = ["MRR_CHANGE_KINDS", "MrrChange"]

# change   the monthly amount went from `before` to `after` (0 -> x a start, x -> 0 an end)
# opening  the amount of a subscription mirrored before this history began (revision 0011), recorded at
#          its first sync after: what it already brought, not new revenue; `before` is NULL
MRR_CHANGE_KINDS = ("change", "opening")


class MrrChange(Base):
    __tablename__ = "mrr_changes"
    __table_args__ = (
        Index("ix_mrr_changes_subscription_id_id", "subscription_id", "id"),  # a subscription's last row
        Index("ix_mrr_changes_at", "at"),  # the months' reads
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    # When, on the customer's clock (their Stripe test clock's time in test mode): the months count by it.
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Minor units per month = num / den, den > 0, reduced.
    mrr_before_minor_num: Mapped[int | None] = mapped_column(BigInteger)
    mrr_before_minor_den: Mapped[int | None] = mapped_column(BigInteger)
    mrr_after_minor_num: Mapped[int] = mapped_column(BigInteger)
    mrr_after_minor_den: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the process's time of the write
