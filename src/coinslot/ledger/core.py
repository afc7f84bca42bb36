"""The ledger's rules, pure: which lots a spend draws, what a capture returns, what a refund
claws back, what a plan change grants. No I/O and no clock: `now` is given.

Every amount is an integer count of credits. Functions answer with plans (lists of
`Draw`s and numbers); the service writes them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from coinslot.errors import InsufficientCredits

__all__ = [
    "DOWNGRADE_POLICIES",
    "DowngradePolicy",
    "Draw",
    "LotView",
    "PeriodChange",
    "PeriodMonth",
    "Refund",
    "RolloverSplit",
    "add_months",
    "available_credits",
    "capture_split",
    "claw_back_split",
    "crossed_thresholds",
    "draw",
    "due_lots",
    "give_back",
    "is_live",
    "overage_split",
    "period_change",
    "period_lots_expire_at",
    "period_month",
    "refunded_credits",
    "repaid_debt_credits",
    "rollover_credits",
    "rollover_split",
    "spend_order",
]

# What a mid-period downgrade does to the credits left of the period:
#   cap  - never more left than the new plan's allowance (default; blocks upgrade-spend-downgrade farming)
#   keep - keep them until the period ends
DowngradePolicy = Literal["cap", "keep"]
DOWNGRADE_POLICIES: tuple[DowngradePolicy, ...] = ("cap", "keep")


@dataclass(frozen=True, slots=True)
class LotView:
    """What the rules need to know of a lot."""

    lot_id: int
    remaining_credits: int
    expires_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Draw:
    """`credits` (> 0) taken from, or given back to, one lot."""

    lot_id: int
    credits: int


def is_live(expires_at: dt.datetime | None, now: dt.datetime) -> bool:
    """A lot counts until the instant it expires: expiring at `now` means gone at `now`."""
    return expires_at is None or expires_at > now


def spend_order(lots: Iterable[LotView]) -> list[LotView]:
    """Lots in the order a spend draws them: soonest expiry first, never-expiring last, oldest first."""
    return sorted(
        lots,
        key=lambda lot: (lot.expires_at is None, lot.expires_at or dt.datetime.max.replace(tzinfo=dt.UTC),
                         lot.lot_id),
    )


def available_credits(lots: Iterable[LotView], now: dt.datetime) -> int:
    return sum(lot.remaining_credits for lot in lots if is_live(lot.expires_at, now))


def draw(lots: Iterable[LotView], credits: int, now: dt.datetime) -> list[Draw]:
    """Which lots pay for `credits`; InsufficientCredits (and no plan) when they cannot."""
    live = [lot for lot in spend_order(lots) if is_live(lot.expires_at, now) and lot.remaining_credits > 0]
    have = sum(lot.remaining_credits for lot in live)
    if credits > have:
        raise InsufficientCredits(needed=credits, available=have)
    draws: list[Draw] = []
    left = credits
    for lot in live:
        if left == 0:
            break
        taken = min(left, lot.remaining_credits)
        draws.append(Draw(lot.lot_id, taken))
        left -= taken
    return draws


def overage_split(*, cost_credits: int, available_credits: int) -> tuple[int, int]:
    """A use the plan lets go beyond the balance: (credits drawn, credits of overage). It draws all there
    is first, so the balance reaches zero and never goes below it; the rest is billed in arrears."""
    if cost_credits < 0 or available_credits < 0:
        raise ValueError("credits must be >= 0")
    drawn = min(cost_credits, available_credits)
    return drawn, cost_credits - drawn


def give_back(draws: Sequence[Draw], credits: int) -> list[Draw]:
    """The part of a hold's draws that goes back to its lots when only part of it is used.

    Returned latest-drawn first, so what stays spent is what expires first.
    """
    if not 0 <= credits <= sum(d.credits for d in draws):
        raise ValueError("cannot give back more than was drawn")
    back: list[Draw] = []
    left = credits
    for drawn in reversed(draws):
        if left == 0:
            break
        returned = min(left, drawn.credits)
        back.append(Draw(drawn.lot_id, returned))
        left -= returned
    return back


def due_lots(lots: Iterable[LotView], now: dt.datetime) -> list[Draw]:
    """Lots whose expiry has passed with credits left: each expires all it has."""
    return [
        Draw(lot.lot_id, lot.remaining_credits)
        for lot in spend_order(lots)
        if lot.remaining_credits > 0 and not is_live(lot.expires_at, now)
    ]


@dataclass(frozen=True, slots=True)
class CaptureSplit:
    returned_credits: int  # hold credits that go back to the lots
    extra_credits: int  # credits drawn on top of the hold


def capture_split(*, held_credits: int, capture_credits: int) -> CaptureSplit:
    """Capture less than the hold: the rest goes back; more: the difference is drawn as a spend."""
    if capture_credits < 0:
        raise ValueError("capture_credits must be >= 0")
    if capture_credits <= held_credits:
        return CaptureSplit(held_credits - capture_credits, 0)
    return CaptureSplit(0, capture_credits - held_credits)


def claw_back_split(*, remaining_credits: int, claw_credits: int) -> tuple[int, int]:
    """A refund takes what is left of the purchase; the shortfall becomes debt: (taken, debt)."""
    taken = min(remaining_credits, claw_credits)
    return taken, claw_credits - taken


def repaid_debt_credits(*, debt_credits: int, incoming_credits: int) -> int:
    """Incoming credits repay debt first."""
    return min(debt_credits, incoming_credits)


@dataclass(frozen=True, slots=True)
class PeriodChange:
    grant_credits: int  # new credits for the rest of the period
    cut_credits: int  # period credits taken away (downgrade under the "cap" policy)


def period_change(
    *,
    granted_credits: int,
    period_remaining_credits: int,
    allowance_credits: int,
    policy: DowngradePolicy,
) -> PeriodChange:
    """A plan change inside a period already granted.

    `granted_credits` is everything granted for this period so far, across
    earlier changes: an upgrade only tops it up to the new allowance, so going
    up, down and up again never grants the same credits twice. A downgrade
    under "cap" leaves at most the new allowance of the period's credits.
    """
    grant = max(0, allowance_credits - granted_credits)
    cut = 0
    if policy == "cap":
        cut = max(0, period_remaining_credits + grant - allowance_credits)
    return PeriodChange(grant, cut)


def period_lots_expire_at(*, period_end: dt.datetime, renewal_grace: dt.timedelta) -> dt.datetime:
    """When a period's credits expire unless the next period's grant replaces them first.

    The rule: a period's credits last until the next period's grant of the same subscription
    replaces them (that grant ends them at its period start, see `periods.grant_period`), and at
    the latest `renewal_grace` after the period's end. Stripe finalizes the renewal invoice about
    an hour after the period ends, and retries a failed payment for days: expiring at the period's
    end would leave a subscriber who pays with nothing in between. The bound still expires the
    credits of a subscription that stopped paying, when its past-due grace is over.
    """
    if renewal_grace < dt.timedelta(0):
        raise ValueError("renewal_grace must be >= 0")
    return period_end + renewal_grace


def add_months(start: dt.datetime, months: int) -> dt.datetime:
    """`start` moved by whole calendar months (UTC), the day clamped to the target month's last day:
    Jan 31 + 1 month = Feb 28 (29), and + 2 months = Mar 31 again, as Stripe counts a billing anchor."""
    start = start.astimezone(dt.UTC)
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return start.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True, slots=True)
class PeriodMonth:
    """Month `number` (1-based) of a billing period, as [start, end); `last` ends with the period."""

    number: int
    start: dt.datetime
    end: dt.datetime
    last: bool


def period_month(*, period_start: dt.datetime, period_end: dt.datetime, at: dt.datetime) -> PeriodMonth:
    """The month of a (yearly) period that `at` falls in; before the start it is month 1, after the
    end the last month (a renewal not yet paid keeps the subscriber in the year's last month).

    Months are counted from the period's start (`add_months`), so a clamped day never drifts; the
    last month ends at the period's own end, whatever Stripe's rounding of the year was.
    """
    if period_end <= period_start:
        raise ValueError("period_end must be after period_start")
    count = 1
    while add_months(period_start, count) < period_end:
        count += 1
    number = 1
    while number < count and add_months(period_start, number) <= at:
        number += 1
    end = period_end if number == count else add_months(period_start, number)
    return PeriodMonth(number, add_months(period_start, number - 1), end, number == count)


def rollover_credits(*, unused_credits: int, rollover_cap: int) -> int:
    """Unused period credits carried into the next period, up to the plan's cap."""
    return max(0, min(unused_credits, rollover_cap))


@dataclass(frozen=True, slots=True)
class RolloverSplit:
    """A new period's carry-over: `carried` credits in its rollover lot, of which `from_live_credits`
    move out of the previous period's live lots and the rest are new (credits that expired unused)."""

    carried: int
    from_live_credits: int

    @property
    def added_credits(self) -> int:
        """What the carry-over adds to the balance."""
        return self.carried - self.from_live_credits


def rollover_split(*, live_credits: int, expired_credits: int, rollover_cap: int) -> RolloverSplit:
    """What the previous period left, still live or already expired, carried up to the cap; the live part
    moves first. The grant writes it, and a read counts a period not granted yet with the same figure."""
    carried = rollover_credits(unused_credits=live_credits + expired_credits, rollover_cap=rollover_cap)
    return RolloverSplit(carried, min(carried, live_credits))


def crossed_thresholds(
    *, before_credits: int, after_credits: int, period_credits: int, low_balance_pct: int
) -> list[str]:
    """Which balance states a decrease entered: "low" (at or under pct of the period's allowance),
    "exhausted" (zero). Each is reported once, when it is crossed."""
    crossed: list[str] = []
    low_credits = period_credits * low_balance_pct // 100
    if period_credits > 0 and before_credits > low_credits >= after_credits and after_credits > 0:
        crossed.append("low")
    if before_credits > 0 and after_credits == 0:
        crossed.append("exhausted")
    return crossed


class Refund(Protocol):
    """A refund of the charge that bought a pack, as the rule reads it (Stripe's refund data is one)."""

    @property
    def id(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def counts(self) -> bool: ...  # succeeded or pending: money on its way back


def refunded_credits(
    *, pack_credits: int, charge_amount_minor: int, refunds: Sequence[Refund]
) -> list[tuple[str, int | None]]:
    """Each refund's share of a pack's credits, oldest refund first: `(refund id, credits)`.

    A refund takes back the credits its money bought: the share of the pack in
    proportion to the amount, rounded down on the running total (the customer
    keeps a fraction until the refunds complete it), so refunds of 1/3 + 1/3 +
    1/3 take exactly the pack. The refund that makes the charge fully refunded
    takes `None`: all that is left of the pack. A refund worth less than one
    credit takes nothing (and writes no entry).
    """
    shares: list[tuple[str, int | None]] = []
    before_minor = 0
    for refund in refunds:
        if not refund.counts:
            continue
        after_minor = before_minor + refund.amount_minor
        if after_minor >= charge_amount_minor:
            shares.append((refund.id, None))
            break
        credits = (pack_credits * after_minor) // charge_amount_minor - (
            pack_credits * before_minor
        ) // charge_amount_minor
        if credits > 0:
            shares.append((refund.id, credits))
        before_minor = after_minor
    return shares
