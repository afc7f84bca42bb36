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
- Per calendar month (UTC, on each customer's clock) and currency, from the MRR history: each
  customer's MRR at the month's start against its end. A customer with none at the start brings new
  MRR, one with none at the end churned, the others expanded or contracted by the difference (so a
  customer who upgrades and downgrades back within a month nets to nothing). Net revenue retention is
  what the customers present at the month's start bring at its end, over what they brought at its
  start: (start + expansion - contraction - churned) / start.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from coinslot.catalog.core import Catalog
from coinslot.subscriptions.core import MONTHS_IN, PAYING_STATUSES, monthly_minor
from coinslot.subscriptions.statuses import SERVING

__all__ = [
    "ACTIVE_STATUSES",
    "PAYING_STATUSES",
    "Churn",
    "MonthRetention",
    "Mrr",
    "MrrHistoryRow",
    "MrrLine",
    "PlanCount",
    "RevenueRow",
    "VersionCount",
    "churn",
    "month_starts",
    "monthly_recurring_revenue",
    "monthly_retention",
    "subscribers_per_plan",
    "subscribers_per_version",
]

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
    return price.currency, Fraction(price.amount_minor) / MONTHS_IN[price.interval]


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
        amount_minor = row.period_amount_minor
        real = (monthly_minor(_net_minor(amount_minor, row, now), interval=row.interval,
                              interval_count=row.interval_count) if amount_minor is not None else None)
        if real is not None and row.currency:
            currency, monthly = row.currency, real
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


@dataclass(frozen=True, slots=True)
class MrrHistoryRow:
    """A row of the MRR history (models/mrr_change.py): from `at` on, the subscription brings `after_minor`
    a month. An opening row is what a subscription brought when the history began: it counts from before
    the first month, never as new revenue."""

    subscription_id: int
    customer_id: int
    currency: str
    opening: bool
    at: dt.datetime
    after_minor: Fraction


@dataclass(frozen=True, slots=True)
class MonthRetention:
    """One calendar month of one currency: MRR at its start and end and what moved it, each in minor
    units, rounded once (half up) from the exact figures, so the parts may differ from end - start by a
    minor unit per figure; `nrr` is exact."""

    month: dt.date  # its first day
    currency: str
    start_minor: int
    new_minor: int
    expansion_minor: int
    contraction_minor: int
    churned_minor: int
    end_minor: int
    customers_at_start: int
    customers_new: int
    customers_churned: int
    nrr: Fraction | None  # None when no customer brought anything at the month's start

    @property
    def nrr_percent(self) -> Decimal | None:
        """Net revenue retention as a percentage with one decimal, rounded half up (100.0 = kept all)."""
        if self.nrr is None:
            return None
        tenths = _round_half_up(self.nrr * 1000)
        return (Decimal(tenths) / 10).quantize(Decimal("0.1"))


def month_starts(first: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
    """The first instant (UTC) of every calendar month from `first`'s to `last`'s, both included."""
    first, last = first.astimezone(dt.UTC), last.astimezone(dt.UTC)
    month = dt.datetime(first.year, first.month, 1, tzinfo=dt.UTC)
    found = []
    while month <= last:
        found.append(month)
        month = _next_month(month)
    return found


def _next_month(month: dt.datetime) -> dt.datetime:
    return month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(
        month=month.month + 1)


def _customers_at(rows: Sequence[MrrHistoryRow], until: dt.datetime) -> dict[tuple[str, int], Fraction]:
    """(currency, customer) -> MRR just before `until`: each subscription at its last row before then."""
    latest: dict[int, MrrHistoryRow] = {}
    for row in rows:
        if row.opening or row.at < until:
            latest[row.subscription_id] = row
    totals: dict[tuple[str, int], Fraction] = {}
    for row in latest.values():
        key = (row.currency, row.customer_id)
        totals[key] = totals.get(key, Fraction(0)) + row.after_minor
    return {key: value for key, value in totals.items() if value}  # a customer who left is absent


def monthly_retention(rows: Iterable[MrrHistoryRow], *,
                      months: Sequence[dt.datetime]) -> list[MonthRetention]:
    """Every month of `months` (month_starts) and currency with any MRR: start, new, expansion,
    contraction, churned, end, and net revenue retention. `rows` oldest first (at, then as written)."""
    ordered = sorted(rows, key=lambda row: (not row.opening, row.at))  # stable: ties stay as written
    found: list[MonthRetention] = []
    for month in months:
        start = _customers_at(ordered, month)
        end = _customers_at(ordered, _next_month(month))
        for currency in sorted({key[0] for key in (*start, *end)}):
            found.append(_month_of(month, currency, start, end))
    return found


def _month_of(month: dt.datetime, currency: str, start: dict[tuple[str, int], Fraction],
              end: dict[tuple[str, int], Fraction]) -> MonthRetention:
    customers = {customer for cur, customer in (*start, *end) if cur == currency}
    moved = {"new": Fraction(0), "expansion": Fraction(0), "contraction": Fraction(0), "churned": Fraction(0)}
    counts = {"at_start": 0, "new": 0, "churned": 0}
    starting = retained = Fraction(0)
    for customer in customers:
        before = start.get((currency, customer), Fraction(0))
        after = end.get((currency, customer), Fraction(0))
        if before:
            counts["at_start"] += 1
            starting += before
            retained += after
        if not before and after:
            moved["new"] += after
            counts["new"] += 1
        elif before and not after:
            moved["churned"] += before
            counts["churned"] += 1
        elif after > before:
            moved["expansion"] += after - before
        else:
            moved["contraction"] += before - after
    ending = sum((end.get((currency, customer), Fraction(0)) for customer in customers), Fraction(0))
    return MonthRetention(
        month=month.date(), currency=currency, start_minor=_round_half_up(starting),
        new_minor=_round_half_up(moved["new"]), expansion_minor=_round_half_up(moved["expansion"]),
        contraction_minor=_round_half_up(moved["contraction"]),
        churned_minor=_round_half_up(moved["churned"]),
        end_minor=_round_half_up(ending), customers_at_start=counts["at_start"], customers_new=counts["new"],
        customers_churned=counts["churned"], nrr=retained / starting if starting else None,
    )
