"""The arithmetic of the figures: MRR, subscribers per plan, churn. Pure: counts in, figures out.

Definitions (shown on the admin console next to the figures):
- MRR counts subscriptions that are being paid for (active, past_due), at the
  catalog price of their plan and interval; a yearly price counts a twelfth.
  Trials are not revenue yet and are left out.
- Active subscribers are those whose status grants the plan (active,
  trialing, past_due).
- Churn over a window: subscriptions that ended inside it, divided by those
  that were live when it started.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from coinslot.catalog.core import Catalog
from coinslot.subscriptions.statuses import SERVING

__all__ = [
    "ACTIVE_STATUSES",
    "PAYING_STATUSES",
    "Churn",
    "PlanCount",
    "churn",
    "monthly_recurring_revenue",
    "subscribers_per_plan",
]

PAYING_STATUSES = frozenset({"active", "past_due"})
ACTIVE_STATUSES = SERVING  # the subscriptions counted: subscriptions.statuses


@dataclass(frozen=True, slots=True)
class PlanCount:
    plan_key: str
    plan_name: str
    interval: str | None
    count: int


def monthly_recurring_revenue(catalog: Catalog, rows: Iterable[tuple[str, str | None, str | None, int]],
                              ) -> dict[str, int]:
    """MRR in minor units per currency from (status, plan_key, interval, how many) rows.

    Sums in twelfths of a minor unit so that yearly prices add up exactly, and
    rounds once at the end (half up): no float, no drift over many rows.
    """
    twelfths: dict[str, int] = {}
    for status, plan_key, interval, count in rows:
        if status not in PAYING_STATUSES or plan_key is None or interval not in ("month", "year"):
            continue
        plan = catalog.plans.get(plan_key)
        if plan is None:
            continue
        price = plan.prices.get("month") if interval == "month" else plan.prices.get("year")
        if price is None:
            continue
        per_year_factor = 12 if interval == "month" else 1
        amount = price.amount_minor * per_year_factor * count
        twelfths[price.currency] = twelfths.get(price.currency, 0) + amount
    return {
        currency: int((Decimal(total) / 12).to_integral_value(rounding=ROUND_HALF_UP))
        for currency, total in sorted(twelfths.items())
    }


def subscribers_per_plan(catalog: Catalog, rows: Iterable[tuple[str, str | None, str | None, int]],
                         ) -> list[PlanCount]:
    """Active subscribers by (plan, interval), in catalog order; rows are (status, plan, interval, n)."""
    counts: dict[tuple[str, str | None], int] = {}
    for status, plan_key, interval, count in rows:
        if status not in ACTIVE_STATUSES:
            continue
        key = (plan_key or "(not in catalog)", interval)
        counts[key] = counts.get(key, 0) + count
    order = {key: index for index, key in enumerate(catalog.plans)}
    result = [
        PlanCount(plan_key, catalog.plans[plan_key].name if plan_key in catalog.plans else plan_key,
                  interval, n)
        for (plan_key, interval), n in counts.items()
    ]
    return sorted(result, key=lambda row: (order.get(row.plan_key, len(order)), row.interval or ""))


@dataclass(frozen=True, slots=True)
class Churn:
    window_days: int
    live_at_start: int
    ended: int

    @property
    def rate_percent(self) -> Decimal | None:
        """Ended / live at start, as a percentage with one decimal; None when nothing was live."""
        if self.live_at_start == 0:
            return None
        rate = Decimal(self.ended * 100) / Decimal(self.live_at_start)
        return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def churn(*, window_days: int, live_at_start: int, ended: int) -> Churn:
    if live_at_start < 0 or ended < 0:
        raise ValueError("counts cannot be negative")
    return Churn(window_days=window_days, live_at_start=live_at_start, ended=ended)
