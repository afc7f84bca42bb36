"""Periods granted by their first use, and counted by reads until then.

Part of the ledger service. Two kinds of period have no invoice to grant them:
  - a free plan's month: entry `free:<customer id>:<YYYY-MM>` (`ids.free_month`);
  - months 2..12 of a paid yearly subscription (the plan's allowance is monthly; the year's invoice
    grants month 1): entry `<the year's first grant entry>:m<n>` (`ids.yearly_month`), e.g.
    `invoice:in_123:m2`. Months are calendar months from the year's start (`core.period_month`);
    each month's credits end with it, the last month's `grace` after the year, like any
    subscription period awaiting its renewal.

The first consume or hold of such a period grants it (`grant_if_due`, under the customer's lock, so
concurrent first uses grant it once); until then `pending_credits` is what a read adds, so every
surface shows the balance the first use will find. A period already granted (e.g. by an upgrade's
invoice that month) is never granted again: "granted" is decided by period, not by entry id.

Which plan grants monthly is the caller's knowledge (the catalog); the ledger is told the allowance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.ledger import core, ids
from coinslot.ledger import repository as repo
from coinslot.ledger.periods import grant_period
from coinslot.ledger.reads import month_start

__all__ = [
    "LazyPeriod", "MonthlyAllowance", "PaidYear", "free_month", "grant_if_due", "pending_credits",
    "yearly_month",
]


@dataclass(frozen=True, slots=True)
class MonthlyAllowance:
    """A plan's credits per month, as the ledger needs them."""

    plan_key: str
    credits: int
    rollover_cap: int


@dataclass(frozen=True, slots=True)
class PaidYear:
    """The yearly subscription period a month falls in, as mirrored."""

    stripe_subscription_id: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class LazyPeriod:
    """A period granted by its first use: its entry, its lots' source, and its time."""

    entry_id: str
    source: str
    credits: int
    rollover_cap: int
    start: dt.datetime
    end: dt.datetime
    renewal_grace: dt.timedelta


def free_month(*, customer_id: int, allowance: MonthlyAllowance, now: dt.datetime) -> LazyPeriod:
    """The free plan's month `now` falls in."""
    start = month_start(now)
    return LazyPeriod(ids.free_month(customer_id, now), ids.plan_source(allowance.plan_key),
                      allowance.credits, allowance.rollover_cap, start, core.add_months(start, 1),
                      dt.timedelta(0))


def yearly_month(
    session: Session, *, customer_id: int, allowance: MonthlyAllowance, year: PaidYear, now: dt.datetime,
    grace: dt.timedelta,
) -> LazyPeriod | None:
    """Month 2..12 of a paid year `now` falls in; None in month 1 (the year's invoice grants it) and
    while the year is not paid (no month of it is handed out)."""
    if year.end <= year.start:
        return None
    month = core.period_month(period_start=year.start, period_end=year.end, at=now)
    if month.number == 1:
        return None
    source = ids.subscription_source(year.stripe_subscription_id)
    opening = repo.period_opening_entry_id(session, customer_id=customer_id, period_start=year.start,
                                           source=source)
    if opening is None:
        return None
    return LazyPeriod(ids.yearly_month(opening, month.number), source, allowance.credits,
                      allowance.rollover_cap, month.start, month.end,
                      grace if month.last else dt.timedelta(0))


def _granted(session: Session, *, customer_id: int, period: LazyPeriod) -> bool:
    return repo.period_opening_entry_id(session, customer_id=customer_id, period_start=period.start,
                                        source=period.source) is not None


def pending_credits(
    session: Session, *, customer_id: int, period: LazyPeriod | None, now: dt.datetime
) -> int:
    """What the period's first use will add, while it is not granted: its allowance and what its
    carry-over adds (the figure `grant_period` will write, read without writing)."""
    if period is None or _granted(session, customer_id=customer_id, period=period):
        return 0
    return period.credits + _pending_rollover(session, customer_id=customer_id, period=period, now=now)


def _pending_rollover(session: Session, *, customer_id: int, period: LazyPeriod, now: dt.datetime) -> int:
    if period.rollover_cap == 0:
        return 0
    previous = repo.previous_period_lots(session, customer_id=customer_id, period_start=period.start,
                                         source=period.source)
    live = [lot for lot in previous if core.is_live(lot.expires_at, now)]
    # Lots past their expiry that no write has expired yet count as expired, as settle will write them.
    dead_unwritten = sum(lot.remaining_credits for lot in previous if not core.is_live(lot.expires_at, now))
    split = core.rollover_split(
        live_credits=sum(lot.remaining_credits for lot in live),
        expired_credits=dead_unwritten + repo.expired_credits(session, lot_ids=[lot.id for lot in previous]),
        rollover_cap=period.rollover_cap,
    )
    return split.added_credits


def grant_if_due(session: Session, *, customer_id: int, period: LazyPeriod | None, now: dt.datetime) -> None:
    """Grant the period unless it was granted already. Call under the customer's lock."""
    if period is None or _granted(session, customer_id=customer_id, period=period):
        return
    grant_period(
        session, customer_id=customer_id, entry_id=period.entry_id, credits=period.credits,
        period_start=period.start, period_end=period.end, rollover_cap=period.rollover_cap, unlimited=False,
        now=now, source=period.source, renewal_grace=period.renewal_grace,
    )
