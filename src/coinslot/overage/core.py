"""What overage costs, pure: exact per-credit prices (possibly fractions of a cent), one rounding rule.

The rule: a period's overage costs `round_half_up(credits x unit_amount_minor)`, computed once on the
period's total, as Stripe's metered line computes it on the invoice (the meter sums the credits; the
price multiplies). What one use adds is the difference between the totals after and before it, so the
uses of a period always add up to exactly the invoice's line, whatever the fractions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "FINALIZATION_GRACE", "OverageQuote", "cost_minor", "meter_identifier", "quote", "too_late_to_bill",
]

# Stripe keeps a period's invoice a draft this long after the period ends (its default invoice
# finalization grace): usage reported meanwhile with a timestamp in that period is still billed on it.
# Later, Stripe accepts the event (within 35 days) but no invoice ever counts it.
FINALIZATION_GRACE = dt.timedelta(hours=1)


def cost_minor(credits: int, unit_amount_minor: Decimal) -> int:
    """What `credits` of overage cost, in whole minor units, rounded half up."""
    if credits < 0:
        raise ValueError("credits must be >= 0")
    return int((Decimal(credits) * unit_amount_minor).to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class OverageQuote:
    """A use's overage: the credits beyond the balance and what they add to the period's bill."""

    credits: int
    cost_minor: int  # what this use adds to the period's overage line
    period_credits: int  # the period's overage with this use
    period_cost_minor: int
    within_cap: bool


def quote(*, credits: int, period_credits_before: int, unit_amount_minor: Decimal,
          cap_minor: int | None) -> OverageQuote:
    """The overage of a use of `credits` beyond the balance, after `period_credits_before` this period."""
    before_minor = cost_minor(period_credits_before, unit_amount_minor)
    after_credits = period_credits_before + credits
    after_minor = cost_minor(after_credits, unit_amount_minor)
    within_cap = cap_minor is None or after_minor <= cap_minor
    return OverageQuote(credits, after_minor - before_minor, after_credits, after_minor, within_cap)


def meter_identifier(*, stripe_customer_id: str, entry_id: str) -> str:
    """The meter event's identifier for one overage entry: stable (derived, never random), so every retry
    sends the same one and Stripe counts it once; the Stripe customer is part of it so two coinslot
    databases sharing one Stripe account never collide. At most 100 characters (Stripe's limit)."""
    digest = hashlib.sha256(f"{stripe_customer_id}|{entry_id}".encode()).hexdigest()[:40]
    return f"coinslot-overage-{digest}"


def too_late_to_bill(*, period_end: dt.datetime | None, sent_at: dt.datetime) -> bool:
    """Whether a meter event of a use in the period ending at `period_end`, sent at `sent_at` (Stripe's
    time for the customer), came after that period's invoice was finalized: billed on no invoice."""
    return period_end is not None and sent_at >= period_end + FINALIZATION_GRACE
