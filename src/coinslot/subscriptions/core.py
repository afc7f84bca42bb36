"""The access policy: which plan a subscription status grants, as an explicit table.

Pure: given the mirrored subscription and `now`, no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

__all__ = ["ACCESS_BY_STATUS", "Access", "PlanAccess", "plan_access"]


class Access(Enum):
    PLAN = "plan"  # the subscription's plan
    GRACE = "grace"  # the plan while the grace period lasts, then the free plan
    FREE = "free"  # the catalog's default (free) plan


# Stripe status -> what it grants. An `incomplete` subscription was never paid:
# it never unlocks anything (the "85 unpaid subscriptions got Pro" incident).
ACCESS_BY_STATUS: dict[str, Access] = {
    "active": Access.PLAN,
    "trialing": Access.PLAN,
    "past_due": Access.GRACE,
    "incomplete": Access.FREE,
    "incomplete_expired": Access.FREE,
    "unpaid": Access.FREE,
    "canceled": Access.FREE,
    "paused": Access.FREE,
}


@dataclass(frozen=True, slots=True)
class PlanAccess:
    """What a customer may use right now, and why."""

    plan_key: str  # the plan that applies (the default plan when nothing better)
    status: str | None  # the subscription's Stripe status, None without a subscription
    reason: str  # "active", "trialing", "past_due_in_grace", "past_due_grace_over", "no_subscription", ...
    subscription_id: int | None = None
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    grace_ends_at: dt.datetime | None = None

    @property
    def is_on_grace_period(self) -> bool:
        return self.reason == "past_due_in_grace"


def plan_access(
    *,
    default_plan: str,
    now: dt.datetime,
    grace: dt.timedelta,
    status: str | None,
    plan_key: str | None,
    past_due_since: dt.datetime | None = None,
    subscription_id: int | None = None,
    period_start: dt.datetime | None = None,
    period_end: dt.datetime | None = None,
) -> PlanAccess:
    """Apply ACCESS_BY_STATUS to one subscription (or to none: status None)."""
    if status is None or plan_key is None:
        reason = "no_subscription" if status is None else "price_not_in_catalog"
        return PlanAccess(default_plan, status, reason)
    access = ACCESS_BY_STATUS.get(status, Access.FREE)
    common = {"subscription_id": subscription_id, "period_start": period_start, "period_end": period_end}
    if access is Access.PLAN:
        return PlanAccess(plan_key, status, status, **common)
    if access is Access.GRACE:
        grace_ends_at = (past_due_since or now) + grace
        if now < grace_ends_at:
            return PlanAccess(plan_key, status, "past_due_in_grace", grace_ends_at=grace_ends_at, **common)
        return PlanAccess(default_plan, status, "past_due_grace_over", grace_ends_at=grace_ends_at, **common)
    return PlanAccess(default_plan, status, status, **common)
