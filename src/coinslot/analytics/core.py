"""The arithmetic of the figures: MRR, subscribers per plan, churn. Pure: counts in, figures out.

Definitions (shown on the admin console next to the figures):
- MRR counts subscriptions that are being paid for (active, past_due), at what
  each really bills: every item's unit amount x quantity, less the discounts in
  force, per month (a yearly amount counts a twelfth, a quarterly a third),
  each currency apart. A subscription mirrored before its amounts were (schema
  revision 0005) counts at its plan's catalog price until its next snapshot,
  and is counted as estimated. Trials are not revenue yet and are left out.
- Active subscribers are those whose status grants the plan (active,
  trialing, past_due).
- Churn over a window: subscriptions that ended inside it, divided by those
  that were live when it started.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from coinslot.catalog.core import Catalog
from coinslot.subscriptions.statuses import SERVING

__all__ = [
    "ACTIVE_STATUSES",
    "PAYING_STATUSES",
    "Churn",
    "Mrr",
    "MrrLine",
    "PlanCount",
    "RevenueRow",
    "VersionCount",
    "churn",
    "monthly_recurring_revenue",
    "subscribers_per_plan",
    "subscribers_per_version",
]

PAYING_STATUSES = frozenset({"active", "past_due"})
ACTIVE_STATUSES = SERVING  # the subscriptions counted: subscriptions.statuses


@dataclass(frozen=True, slots=True)
class PlanCount:
    plan_key: str
    plan_name: str
    interval: str | None
    count: int


@dataclass(frozen=True, slots=True)
class RevenueRow:
    """`count` mirrored subscriptions that bill alike: what MRR reads of the mirror."""

    status: str
    plan_key: str | None
    interval: str | None  # month | year | week | day
    interval_count: int | None  # bills every n intervals
    currency: str | None
    period_amount_minor: int | None  # every item's unit amount x quantity, per billing period
    period_discount_minor: int | None  # what its discounts take off each period
    discount_ends_at: dt.datetime | None
    count: int


@dataclass(frozen=True, slots=True)
class MrrLine:
    plan_key: str | None  # None: a price no plan of the catalog stands for
    interval: str
    currency: str
    subscriptions: int
    mrr_minor: int


@dataclass(frozen=True, slots=True)
class Mrr:
    total_minor: dict[str, int]  # currency -> minor units, by currency name
    lines: list[MrrLine]  # per plan, interval and currency, each rounded on its own
    estimated: int  # subscriptions counted at their plan's catalog price (amounts not mirrored yet)
    not_counted: int  # paying subscriptions with neither a known amount nor a catalog price


# Months in one interval: a monthly value is the period's amount divided by these (x interval_count).
# A week is 12/52 of a month and a day 12/365: Stripe bills 52 weeks and 365 days a year.
_MONTHS_IN = {"month": Fraction(1), "year": Fraction(12), "week": Fraction(12, 52), "day": Fraction(12, 365)}


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def _net_minor(amount_minor: int, row: RevenueRow, now: dt.datetime) -> int:
    """A period's amount less its discounts, unless they have ended since the mirror last read them."""
    ended = row.discount_ends_at is not None and row.discount_ends_at <= now
    return amount_minor - (0 if ended else row.period_discount_minor or 0)


def _catalog_value(catalog: Catalog, row: RevenueRow) -> tuple[str, Fraction] | None:
    """(currency, monthly value) of one subscription at its plan's catalog price, or None."""
    plan = catalog.plans.get(row.plan_key or "")
    price = plan.prices.get("month" if row.interval == "month" else "year") if plan else None
    if price is None or row.interval not in ("month", "year"):
        return None
    return price.currency, Fraction(price.amount_minor) / _MONTHS_IN[price.interval]


def monthly_recurring_revenue(catalog: Catalog, rows: Iterable[RevenueRow], *, now: dt.datetime) -> Mrr:
    """MRR in minor units per currency, and per plan, from the mirror's real amounts.

    Rounding: each subscription's monthly value is kept as an exact fraction of a minor unit (a
    yearly 29000 is 2416 2/3, not 2417), summed per currency, and rounded once at the end, half up;
    so 3 such subscriptions make 7250, where rounding each would make 7251. No float anywhere. The
    per-plan lines are rounded the same way on their own, so they may differ from the total by less
    than one minor unit per line.
    """
    exact: dict[tuple[str, str | None, str], Fraction] = {}
    counts: dict[tuple[str, str | None, str], int] = {}
    estimated = not_counted = 0
    for row in rows:
        if row.status not in PAYING_STATUSES:
            continue
        months = _MONTHS_IN.get(row.interval or "")
        amount_minor = row.period_amount_minor
        if amount_minor is not None and row.currency and months is not None:
            net_minor = _net_minor(amount_minor, row, now)
            currency, monthly = row.currency, Fraction(net_minor) / (months * (row.interval_count or 1))
        elif (valued := _catalog_value(catalog, row)) is not None:
            currency, monthly = valued
            estimated += row.count
        else:
            not_counted += row.count
            continue
        key = (currency, row.plan_key, row.interval or "")
        exact[key] = exact.get(key, Fraction(0)) + monthly * row.count
        counts[key] = counts.get(key, 0) + row.count
    totals: dict[str, Fraction] = {}
    for (currency, _plan, _interval), value in exact.items():
        totals[currency] = totals.get(currency, Fraction(0)) + value
    order = {key: index for index, key in enumerate(catalog.plans)}
    lines = [MrrLine(plan, interval, currency, counts[(currency, plan, interval)], _round_half_up(value))
             for (currency, plan, interval), value in exact.items()]
    lines.sort(key=lambda line: (line.currency, order.get(line.plan_key or "", len(order)), line.interval))
    return Mrr(total_minor={currency: _round_half_up(value) for currency, value in sorted(totals.items())},
               lines=lines, estimated=estimated, not_counted=not_counted)


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


@dataclass(frozen=True, slots=True)
class VersionCount:
    plan_key: str
    plan_name: str
    version: str
    current: bool  # the version sold now
    count: int  # active subscribers on it (those moving at period end still count on the one paid for)


def subscribers_per_version(catalog: Catalog, rows: Iterable[tuple[str, str | None, str | None, int]],
                            ) -> list[VersionCount]:
    """Active subscribers of each version of the plans that have earlier versions (oldest first, zeros
    shown: a version nobody is on any more can leave the file); rows are (status, plan, version, n). A
    row with no version recorded (not synced since revision 0009) is on its plan's oldest version."""
    counts: dict[tuple[str, str], int] = {}
    for status, plan_key, version, count in rows:
        plan = catalog.plans.get(plan_key or "")
        if status not in ACTIVE_STATUSES or plan is None or not plan.earlier_versions:
            continue
        key = (plan.key, version or plan.oldest_version)
        counts[key] = counts.get(key, 0) + count
    return [VersionCount(plan.key, plan.name, version, version == plan.version,
                         counts.get((plan.key, version), 0))
            for plan in catalog.plans.values() if plan.earlier_versions for version in plan.versions]
