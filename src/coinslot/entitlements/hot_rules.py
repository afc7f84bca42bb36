"""What one snapshot statement can decide alone, for the hot paths (`hot_check`, `hot_consume`).

Both read a customer's mirrored subscriptions, balance and whether the default plan's month is granted
in one statement (`repository`), and hand every state that needs more to `service`'s exact path. The
rules of which states those are live here once, so the two hot paths can never disagree on them.
"""

from __future__ import annotations

import datetime as dt

from coinslot.catalog.core import Catalog, Plan
from coinslot.entitlements import repository
from coinslot.ledger import service as ledger
from coinslot.subscriptions.core import PlanAccess

__all__ = ["default_month", "grants_monthly", "has_extras", "new_user_credits", "pending_credits"]


def grants_monthly(plan: Plan | None) -> bool:
    return plan is not None and not plan.unlimited and plan.credits_per_period > 0


def new_user_credits(catalog: Catalog) -> int:
    """What a user coinslot has not seen yet has: the default plan's month, granted by their first use."""
    plan = catalog.default
    return plan.credits_per_period if plan.kind == "free" and grants_monthly(plan) else 0


def has_extras(subscriptions: list[repository.SubscriptionView], access: PlanAccess,
               plan: Plan | None) -> bool:
    """Add-ons (features, monthly credits) or seats: the exact path decides with them."""
    subscription = next((row for row in subscriptions if row.id == access.subscription_id), None)
    return (plan is not None and plan.per_seat) or bool(subscription is not None and subscription.addons)


# The last answer of `default_month`, for as long as `now` stays in its month: every hot check and consume
# asks, and the answer is the same all month (a catalog is frozen; a reload makes a new one).
_last_month: tuple[Catalog, ledger.LazyPeriod] | None = None


def default_month(catalog: Catalog, now: dt.datetime) -> ledger.LazyPeriod | None:
    """The default plan's month `now` is in, when that plan is free (its source and start do not
    depend on the customer: the snapshot asks whether it is granted)."""
    global _last_month
    plan = catalog.default
    if plan.kind != "free":
        return None
    kept = _last_month
    if kept is not None and kept[0] is catalog and kept[1].start <= now < kept[1].end:
        return kept[1]
    allowance = ledger.MonthlyAllowance(plan.key, plan.credits_per_period, plan.rollover_cap)
    month = ledger.free_month(customer_id=0, allowance=allowance, now=now)
    _last_month = (catalog, month)  # one assignment: a thread reads the old pair or the new one
    return month


def pending_credits(
    found: repository.HotSnapshot, *, plan: Plan | None, access: PlanAccess, catalog: Catalog
) -> int | None:
    """What the period's first use will add (as `ledger.pending_credits`), or None when the snapshot
    cannot say (the exact path reads it)."""
    subscription = next((row for row in found.snapshot.subscriptions if row.id == access.subscription_id),
                        None)
    if subscription is not None and subscription.interval == "year":
        return None  # months 2..12 of a paid year: their opening entries are read by the exact path
    if plan is None or plan.kind != "free":
        return 0  # a monthly paid period: its invoice grants it
    if plan.key != catalog.default_plan:
        return None  # the snapshot asked about the default plan's month only
    if found.period_granted:
        return 0
    if plan.rollover_cap > 0:
        return None  # the carry-over from the previous month is computed by the exact path
    return new_user_credits(catalog)  # the default free plan's month: its allowance, or 0
