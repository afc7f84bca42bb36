"""What a subscription's period grants: the plan's credits, times the seats when they are per seat, plus
each add-on's; and which invoice line pays for the period (the plan's, among the add-ons' lines).

Called by `service.record_paid_invoice`, the one place a period's credits are granted, and by the
entitlements for the months of a yearly period that their first use grants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from coinslot.catalog.core import Catalog, Plan, monthly_allowance
from coinslot.clock import from_unix
from coinslot.models import Subscription
from coinslot.stripe_gateway.invoices import StripeInvoiceData, StripeInvoiceLineData
from coinslot.subscriptions.core import addon_quantities, plan_item

__all__ = ["Allowance", "billed_allowance", "mirrored_allowance", "service_line"]


@dataclass(frozen=True, slots=True)
class Allowance:
    """A period's monthly credits and rollover cap, and the seats and add-ons they were counted from."""

    credits: int
    rollover_cap: int
    seats: int
    addons: Mapping[str, int]


def _allowance(catalog: Catalog, plan: Plan, *, seats: int, addons: Mapping[str, int]) -> Allowance:
    credits, rollover_cap = monthly_allowance(catalog, plan, seats=seats, addons=addons)
    return Allowance(credits, rollover_cap, seats, dict(addons))


def mirrored_allowance(catalog: Catalog, plan: Plan, row: Subscription) -> Allowance:
    """The allowance of the subscription as mirrored now (its seats and add-ons)."""
    return _allowance(catalog, plan, seats=row.quantity or 1, addons=row.addons or {})


def service_line(catalog: Catalog, invoice: StripeInvoiceData) -> StripeInvoiceLineData | None:
    """The line that pays for service (`StripeInvoiceData.service_line`), the plan's rather than an
    add-on's when several bill the same period. An invoice that only credits (an add-on removed) is
    known by its credit line's period."""
    chosen = invoice.service_line
    if chosen is None:
        return next((line for line in invoice.lines if line.period_end_s is not None), None)
    same = [line for line in invoice.lines if line.amount_minor >= 0 and line.proration == chosen.proration
            and line.period_end_s == chosen.period_end_s]
    return plan_item(catalog, same) or chosen


def billed_allowance(
    catalog: Catalog, plan: Plan, row: Subscription, invoice: StripeInvoiceData, *,
    period_start: dt.datetime, period_end: dt.datetime,
) -> Allowance:
    """The allowance an invoice paid for: for the mirror's current period, the seats and add-ons in effect
    now (a period's invoices arrive in any order, and the older must not undo the newer, as with the
    plan in `service._granted_plan_key`); for an earlier period, what the invoice's own lines billed."""
    if (period_start, period_end) == (row.current_period_start, row.current_period_end):
        return mirrored_allowance(catalog, plan, row)
    billed = [line for line in invoice.lines
              if not line.proration and line.amount_minor >= 0 and from_unix(line.period_end_s) == period_end]
    plan_line = plan_item(catalog, billed)
    if plan_line is None:  # a proration invoice arriving after its period: only the mirror knows the rest
        return mirrored_allowance(catalog, plan, row)
    return _allowance(catalog, plan, seats=plan_line.quantity, addons=addon_quantities(catalog, billed))
