"""The one vocabulary of subscription statuses: Stripe's names, and the questions coinslot asks of them.

    live       not ended: Stripe may still bill it (active, trialing, past_due, unpaid, paused, incomplete)
    serving    the customer has it now: it renews, counts as a subscriber, can be canceled or changed
               (active, trialing, past_due)

Repositories filter with these sets, analytics counts with them, and the pages ask `is serving`: a
status list written out anywhere else is a second copy that drifts.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["LIVE", "SERVING", "STATUSES", "SubscriptionStatus", "is_live", "is_serving"]

SubscriptionStatus = Literal[
    "incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused",
]
STATUSES: frozenset[str] = frozenset(get_args(SubscriptionStatus))

LIVE: frozenset[str] = frozenset({"active", "trialing", "past_due", "unpaid", "paused", "incomplete"})
SERVING: frozenset[str] = frozenset({"active", "trialing", "past_due"})


def is_live(status: str | None) -> bool:
    """Not ended: Stripe may still bill it."""
    return status in LIVE


def is_serving(status: str | None) -> bool:
    """The customer has it now: it renews, counts as a subscriber, can be canceled or changed."""
    return status in SERVING
