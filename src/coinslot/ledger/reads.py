"""Reading the ledger: balances (with expiry applied as of `now`), usage history, and the expiry sweep.

Part of the ledger service. Reads never write, yet an expired lot never counts:
`balance` subtracts what is due from the cached figures (lazy expiry), and the
next write for that customer, or the worker's sweep (`ledger/sweep.py`), writes the expiry entries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.errors import InvalidInput
from coinslot.ledger import core
from coinslot.ledger import repository as repo

__all__ = [
    "Balance",
    "BalanceParts",
    "LedgerLine",
    "UsageRow",
    "balance",
    "balance_parts",
    "entries",
    "history",
    "last_position",
    "month_start",
    "usage_by_feature",
    "usage_credits",
]


@dataclass(frozen=True, slots=True)
class Balance:
    """A customer's credits as of a moment: spendable, reserved by pending holds, and owed."""

    customer_id: int
    available_credits: int
    held_credits: int
    debt_credits: int
    period_credits: int  # the current period's allowance (0 without a period grant)


def balance(session: Session, *, customer_id: int, now: dt.datetime) -> Balance:
    """The balance as of `now`: a few indexed reads, no lock, no write."""
    row = repo.read_balance(session, customer_id=customer_id)
    if row is None:
        return Balance(customer_id, 0, 0, 0, 0)
    available = row.available_credits
    held = row.held_credits
    if not repo.expiry_due(session, customer_id=customer_id, now=now):
        return Balance(customer_id, available, held, row.debt_credits, row.period_credits)
    due = repo.due_lots(session, customer_id=customer_id, now=now)
    available -= sum(lot.remaining_credits for lot in due)
    for pending in repo.due_holds(session, customer_id=customer_id, now=now):
        held -= pending.credits
        # What an expired hold gives back counts only where its lot is still live.
        available += sum(credits for lot, credits in repo.hold_draws(session, hold=pending)
                         if core.is_live(lot.expires_at, now))
    return Balance(customer_id, available, held, row.debt_credits, row.period_credits)


@dataclass(frozen=True, slots=True)
class BalanceParts:
    """Where the spendable credits come from (the parts add up to `Balance.available_credits` less any
    lazy expiry not yet written): the plan's periods, purchases, and operators' adjustments."""

    plan_credits: int  # period grants and what rolled over
    purchased_credits: int
    adjusted_credits: int


def balance_parts(session: Session, *, customer_id: int, now: dt.datetime) -> BalanceParts:
    """The live lots' remaining credits, by origin, as of `now`. Read-only.

    A plan's lots are its periods' grants and rollovers (source `subscription:...` or `plan:...`);
    an operator's grant (`coinslot credits grant`) or adjustment counts as an adjustment."""
    plan = purchased = adjusted = 0
    for kind, source, credits in repo.live_lot_credits_by_origin(session, customer_id=customer_id, now=now):
        if kind == "purchase":
            purchased += credits
        elif kind in ("grant", "rollover") and (source or "").startswith(("subscription:", "plan:")):
            plan += credits
        else:
            adjusted += credits
    return BalanceParts(plan_credits=plan, purchased_credits=purchased, adjusted_credits=adjusted)


def usage_credits(session: Session, *, customer_id: int, since: dt.datetime) -> int:
    """Credits spent since a moment (spends and captured holds): what a meter shows as "used"."""
    return repo.usage_credits(session, customer_id=customer_id, since=since)


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One entry as operators and hosts read it. `position` orders entries and pages through them."""

    position: int
    entry_id: str
    kind: str
    credits: int
    available_delta: int
    held_delta: int
    debt_delta: int
    balance_after: int
    feature: str | None
    source: str | None
    reason: str | None
    created_at: dt.datetime

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def entries(
    session: Session, *, customer_id: int, after: int | None = None, before: int | None = None,
    limit: int = 50,
) -> list[LedgerLine]:
    """A page of a customer's entries: oldest first after the position `after`, else newest first
    (before the position `before`, when given)."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000", field="limit")
    rows = repo.entries_page(session, customer_id=customer_id, after_id=after, before_id=before, limit=limit)
    return [LedgerLine(row.id, row.entry_id, row.kind, row.credits, row.available_delta, row.held_delta,
                       row.debt_delta, row.balance_after, row.feature, row.source, row.reason, row.created_at)
            for row in rows]


def last_position(session: Session, *, customer_id: int | None = None) -> int:
    """The newest entry's position (of one customer, or over all): a mark to read what is written after it."""
    return repo.last_entry_position(session, customer_id=customer_id)


def usage_by_feature(
    session: Session, *, customer_id: int, since: dt.datetime
) -> dict[str | None, tuple[int, int]]:
    """Uses and the credits they cost since a moment, per feature (e.g. this period's, for a meter)."""
    totals: dict[str | None, tuple[int, int]] = {}
    for _created_at, feature, credits in repo.usage_entries(session, customer_id=customer_id, since=since):
        uses, spent = totals.get(feature, (0, 0))
        totals[feature] = (uses + 1, spent + credits)
    return totals


@dataclass(frozen=True, slots=True)
class UsageRow:
    month: str  # YYYY-MM (UTC)
    feature: str | None
    uses: int
    credits: int  # credits the uses cost (on an unlimited plan: what they would have cost)


def month_start(when: dt.datetime, *, months_back: int = 0) -> dt.datetime:
    """Midnight UTC on the first day of the month `months_back` months before `when`'s."""
    index = when.astimezone(dt.UTC).year * 12 + when.astimezone(dt.UTC).month - 1 - months_back
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def history(session: Session, *, customer_id: int, months: int, now: dt.datetime) -> list[UsageRow]:
    """Usage per month and feature over the last `months` months (this one included), newest first."""
    if not 1 <= months <= 120:
        raise InvalidInput("months must be between 1 and 120", field="months")
    since = month_start(now, months_back=months - 1)
    totals: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    for created_at, feature, credits in repo.usage_entries(session, customer_id=customer_id, since=since):
        total = totals[(f"{created_at:%Y-%m}", feature)]
        total[0] += 1
        total[1] += credits
    rows = [UsageRow(month, feature, uses, credits) for (month, feature), (uses, credits) in totals.items()]
    rows.sort(key=lambda row: row.feature or "")
    return sorted(rows, key=lambda row: row.month, reverse=True)
