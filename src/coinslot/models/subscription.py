"""The local mirror of a Stripe subscription: only the fields coinslot decides with."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coinslot.db import Base, UtcDateTime
from coinslot.models.types import BigId


class Subscription(Base):
    """One row per Stripe subscription, upserted from Stripe's own copy.

    `snapshot_at_ms` orders the writes: a snapshot older than the stored
    one is ignored, so an event that arrives late never rolls state back.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32))  # Stripe's: incomplete, trialing, active, past_due, ...
    plan_key: Mapped[str | None] = mapped_column(String(100))  # None when the price is not in the catalog
    interval: Mapped[str | None] = mapped_column(String(10))  # month | year
    stripe_price_id: Mapped[str | None] = mapped_column(String(255))
    current_period_start: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    current_period_end: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    cancel_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    trial_end: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    past_due_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)  # starts the grace period
    # A scheduled downgrade (plan switch at period end) waiting to be applied.
    pending_plan_key: Mapped[str | None] = mapped_column(String(100))
    # The version of the plan in force (its terms: credits, features), from the Stripe price billed; and
    # a move to another version waiting for the period end (`coinslot plans migrate --at period-end`).
    # NULL on rows not synced since revision 0009: they have the plan's oldest version.
    plan_version: Mapped[str | None] = mapped_column(String(40))
    pending_plan_version: Mapped[str | None] = mapped_column(String(40))
    # Ordering of snapshots, unix milliseconds: when the stored copy was read from Stripe (or the
    # `created` of the event that carried it). Milliseconds, because two workers re-reading the same
    # subscription within one second must still tell which read is newer.
    snapshot_at_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    # What it bills, copied from each snapshot (all NULL on rows no snapshot has touched since revision
    # 0005): the plan item's price and quantity (seats), and per billing period the amount of every item
    # and what the discounts in force take off it. MRR is counted from these (analytics/core.py).
    currency: Mapped[str | None] = mapped_column(String(3))
    unit_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[int | None] = mapped_column(Integer)
    interval_count: Mapped[int | None] = mapped_column(Integer)  # bills every n intervals
    period_amount_minor: Mapped[int | None] = mapped_column(BigInteger)  # None: an item has no unit amount
    period_discount_minor: Mapped[int | None] = mapped_column(BigInteger)  # None: terms never read
    # When the first of its repeating discounts ends: from then on the discount is no longer revenue lost.
    discount_ends_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # The add-ons its other items bill (revision 0010): {add-on key: quantity}; NULL = none (or not synced
    # since 0010). Seats are `quantity` above: the plan item's.
    addons: Mapped[dict[str, int] | None] = mapped_column(JSON)
    # The metered price of the plan's overage, when the subscription carries it (a metered item whose price
    # is `overage:<plan_key>`, revision 0012): without it Stripe bills no overage, so none is allowed.
    metered_price_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
