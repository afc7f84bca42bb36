"""What the billing page shows, from the domains: plan, subscription, credits, usage, orders, invoices.

One read-only transaction for the local rows, then (outside it) one Stripe read
for the invoices. Invoices come from Stripe through the gateway rather than a
local copy: Stripe is their source of truth, and when it cannot be reached the
page still renders, with a note in place of the list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from markupsafe import Markup
from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog, Plan
from coinslot.checkout import service as checkout
from coinslot.container import Container
from coinslot.customers import service as customers
from coinslot.errors import CoinslotError
from coinslot.ledger import service as ledger
from coinslot.models import Order, Subscription
from coinslot.overage import service as overage
from coinslot.overview import service as overview
from coinslot.stripe_gateway.invoices import StripeInvoiceData
from coinslot.subscriptions.core import PlanAccess
from coinslot.web.charts import PALETTE, BarSeries, stacked_bars
from coinslot.web.present import Meter, credits_meter, uses_credits

__all__ = ["BillingView", "UsageChart", "load_billing", "recommended_upgrade"]

USAGE_MONTHS = 6


@dataclass(frozen=True, slots=True)
class UsageChart:
    svg: Markup
    months: list[str]
    rows: list[tuple[str, str, list[int]]]  # (feature name, colour, credits per month) for the table


@dataclass(frozen=True, slots=True)
class Prompt:
    kind: Literal["low", "out"]
    upgrade: Plan | None


@dataclass(frozen=True, slots=True)
class BillingView:
    catalog: Catalog
    state: overview.CustomerState
    meter: Meter | None  # None on an unlimited plan
    next_reset: dt.datetime | None
    prompt: Prompt | None
    credits_in_use: bool
    chart: UsageChart | None
    orders: list[Order]
    invoices: list[StripeInvoiceData] | None = None  # finalized only: a draft is Stripe's work in progress
    invoices_error: str | None = None
    overage: overage.PeriodOverage | None = None  # a plan with overage: this period's so far, and its cost

    # What the templates read by name.
    @property
    def plan(self) -> Plan:
        return self.state.plan

    @property
    def access(self) -> PlanAccess:
        return self.state.access

    @property
    def subscription(self) -> Subscription | None:
        return self.state.subscription

    @property
    def pending_plan(self) -> Plan | None:
        return self.state.pending_plan

    @property
    def has_stripe_customer(self) -> bool:
        return self.state.stripe_customer_id is not None


def recommended_upgrade(catalog: Catalog, current: Plan) -> Plan | None:
    """The next bigger paid plan that gives more credits (or unlimited): what a short user is offered."""
    bigger = sorted((plan for plan in catalog.plans.values() if plan.rank > current.rank and plan.prices),
                    key=lambda plan: plan.rank)
    for plan in bigger:
        if plan.unlimited or plan.credits_per_period > current.credits_per_period:
            return plan
    return None


def _next_month(now: dt.datetime) -> dt.datetime:
    index = now.year * 12 + now.month  # the month after now's, zero-based
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def _month_labels(now: dt.datetime, months: int) -> list[tuple[str, str]]:
    """(YYYY-MM, "Mon") for the last `months` months, oldest first."""
    labels = []
    for back in range(months - 1, -1, -1):
        index = now.year * 12 + now.month - 1 - back
        month = dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)
        labels.append((f"{month:%Y-%m}", f"{month:%b}"))
    return labels


def usage_chart(catalog: Catalog, usage: list[ledger.UsageRow], now: dt.datetime) -> UsageChart | None:
    if not usage:
        return None
    months = _month_labels(now, USAGE_MONTHS)
    index = {key: position for position, (key, _label) in enumerate(months)}
    per_feature: dict[str, list[int]] = {}
    for row in usage:
        if row.month not in index:
            continue
        feature = catalog.features.get(row.feature or "")
        name = feature.name if feature is not None else (row.feature or "Other")
        per_feature.setdefault(name, [0] * len(months))[index[row.month]] += row.credits
    series = [BarSeries(name, PALETTE[position % len(PALETTE)], tuple(values))
              for position, (name, values) in enumerate(sorted(per_feature.items()))]
    labels = [label for _key, label in months]
    svg = stacked_bars(labels, series, label=f"Credits used per feature over the last {USAGE_MONTHS} months")
    return UsageChart(svg, labels, [(s.name, s.colour, list(s.values)) for s in series])


def _period_overage(session: Session, state: overview.CustomerState) -> overage.PeriodOverage | None:
    """This billing period's overage, priced by the plan's terms: what the next invoice's metered line
    bills."""
    terms, since = state.plan.overage, state.access.period_start
    if terms is None or since is None or state.customer_id is None:
        return None
    return overage.period_overage(session, customer_id=state.customer_id, since=since, terms=terms)


def load_billing(container: Container, *, host_user_id: str, catalog: Catalog) -> BillingView:
    """The page's figures, from the customer's state (the one read the API and `check` agree with),
    then the invoices from Stripe outside the transaction."""
    now = container.clock.now()
    grace = dt.timedelta(days=container.settings.past_due_grace_days)
    with container.db.unit_of_work(read_only=True) as session:
        state = overview.customer_state(session, host_user_id=host_user_id, catalog=catalog, now=now,
                                        grace=grace)
        now = state.now  # the customer's time (their Stripe test clock's, in test mode)
        usage = [] if state.customer_id is None else ledger.history(
            session, customer_id=state.customer_id, months=USAGE_MONTHS, now=now)
        orders = checkout.list_orders(session, host_user_id=host_user_id, limit=20)
        customer = customers.get_by_host_user_id(session, host_user_id)
        stripe_customer_id = (customers.stripe_id_for_mode(customer, livemode=container.settings.livemode)
                              if customer is not None else None)
        period_overage = _period_overage(session, state)
    plan, credits = state.plan, state.credits
    meter = None if plan.unlimited or not uses_credits(catalog) else credits_meter(
        available=credits.available, allowance=credits.period_allowance, used=credits.used_this_period,
        low_balance_pct=container.settings.low_balance_pct, from_plan=credits.from_plan,
        from_purchases=credits.from_purchases, from_adjustments=credits.from_adjustments,
    )
    prompt = None
    # Someone who never had credits is not "out" of them: the prompt is for those who ran low.
    had_credits = credits.period_allowance > 0 or credits.held > 0 or bool(usage)
    # Out of credits on a plan with overage, nothing is paused: the overage line says what it costs.
    if meter is not None and meter.state != "ok" and had_credits and period_overage is None:
        prompt = Prompt(meter.state, recommended_upgrade(catalog, plan))
    if state.access.period_end is not None:
        next_reset: dt.datetime | None = state.access.period_end
    else:
        next_reset = _next_month(now) if plan.credits_per_period else None
    view = BillingView(
        catalog=catalog, state=state, meter=meter, next_reset=next_reset, prompt=prompt,
        credits_in_use=uses_credits(catalog), chart=usage_chart(catalog, usage, now), orders=orders,
        overage=period_overage,
    )
    if stripe_customer_id is None:
        return view
    try:
        invoices = container.gateway.invoices.list_for_customer(stripe_customer_id, limit=12)
    except CoinslotError as exc:
        return replace(view, invoices_error=f"Invoices cannot be shown right now ({exc.message}).")
    # A draft (a renewal Stripe finalizes about an hour after the period ends) is not a bill yet.
    return replace(view, invoices=[invoice for invoice in invoices if invoice.status not in (None, "draft")])
