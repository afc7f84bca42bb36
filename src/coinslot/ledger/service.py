"""The credits ledger's use cases. Each runs inside the caller's transaction and never commits.

Semantics follow TigerBeetle: every entry has a caller-chosen id (its idempotency
key); a retry with the same id returns the first result without writing, with
other fields it is a Conflict; entries are immutable and corrections are new
entries; "never negative" is enforced here, pending holds included.

Entry ids are made in one place, `ids.py`. Every write takes the same steps (`posting.open_entry`:
lock, replay, settle; then the change, computed by `core`, is `post`ed); the periods granted by their
first use are `lazy_periods.py`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from coinslot.errors import Conflict, InsufficientCredits, InvalidInput, NotFound
from coinslot.ledger import core, ids
from coinslot.ledger import repository as repo
from coinslot.ledger.core import PeriodMonth, period_month
from coinslot.ledger.hot_spend import spend as spend_plain
from coinslot.ledger.lazy_periods import (
    LazyPeriod,
    MonthlyAllowance,
    PaidYear,
    free_month,
    grant_if_due,
    pending_credits,
    yearly_month,
)
from coinslot.ledger.periods import grant_period
from coinslot.ledger.posting import (
    Change,
    EntryResult,
    fingerprint,
    fund_lot,
    give_back_hold,
    lot_view,
    new_lot,
    open_entry,
    post,
    settle,
)
from coinslot.ledger.reads import (
    Balance,
    BalanceParts,
    LedgerLine,
    UsageRow,
    balance,
    balance_parts,
    entries,
    history,
    last_position,
    month_start,
    usage_by_feature,
    usage_credits,
)
from coinslot.ledger.verify import Discrepancy, verify
from coinslot.models import CreditBalance, CreditHold
from coinslot.outbound import service as outbound

__all__ = [
    "DEFAULT_LOW_BALANCE_PCT",
    "Admit",
    "Admitted",
    "Balance",
    "BalanceParts",
    "Discrepancy",
    "EntryResult",
    "HoldView",
    "LazyPeriod",
    "LedgerLine",
    "MonthlyAllowance",
    "PaidYear",
    "PeriodMonth",
    "UsageRow",
    "adjust",
    "balance",
    "balance_parts",
    "caller_entry_id",
    "capture",
    "claw_back",
    "credit",
    "customer_id_for",
    "customers_with_expiry_due",
    "entries",
    "expire_due",
    "find_customer_id",
    "find_entry",
    "free_month",
    "get_hold",
    "grant_period",
    "history",
    "hold",
    "last_position",
    "month_start",
    "overage_credits",
    "overage_entries",
    "pending_credits",
    "pending_holds",
    "period_month",
    "refund_purchase",
    "release",
    "settle_customer",
    "spend",
    "spend_plain",
    "usage_by_feature",
    "usage_count",
    "usage_credits",
    "verify",
    "yearly_month",
]

DEFAULT_LOW_BALANCE_PCT = 20
CreditKind = Literal["purchase", "adjustment", "grant"]



@dataclass(frozen=True, slots=True)
class Admitted:
    """What a guard lets a spend do beyond drawing its cost: be free of charge (an unlimited plan), or go
    beyond the balance (`overage`: it draws what there is, and the rest is an `overage` entry's, billed
    in arrears through Stripe's meter)."""

    unlimited: bool = False
    overage: bool = False


# A spend's or hold's guard: given the credits available under the lock (the lazy period granted and
# what is due settled), it raises to refuse, or answers whether the use is free of charge (an
# unlimited plan: recorded, nothing drawn), or an `Admitted`. Entitlements' plan decision is one.
Admit = Callable[[int], bool | Admitted]


def caller_entry_id(*, customer_id: int, idempotency_key: str) -> str:
    """The entry id for a host's idempotency key, scoped to the customer (`ids.caller`)."""
    return ids.caller(customer_id, idempotency_key)


def find_entry(session: Session, *, entry_id: str) -> EntryResult | None:
    """The result of an entry already written under this id, or None."""
    entry = repo.find_entry(session, entry_id=entry_id)
    return EntryResult.of(entry, replayed=True) if entry is not None else None


def find_customer_id(session: Session, *, host_user_id: str) -> int | None:
    """The customer id of a host user, or None when coinslot has never seen the user."""
    return repo.customer_id_for(session, host_user_id=host_user_id)


def customer_id_for(session: Session, *, host_user_id: str) -> int:
    """The customer id of a host user; NotFound when coinslot has never seen the user."""
    customer_id = repo.customer_id_for(session, host_user_id=host_user_id)
    if customer_id is None:
        raise NotFound(f"no customer with host_user_id {host_user_id!r}", field="host_user_id")
    return customer_id


def overage_credits(session: Session, *, customer_id: int, since: dt.datetime) -> int:
    """Credits used beyond the balance since `since` (a billing period's start): what that period's
    overage bills. Read under the customer's lock by a spend's guard, so a cap cannot be overtaken."""
    return repo.overage_credits(session, customer_id=customer_id, since=since)


def overage_entries(session: Session) -> list[tuple[int, int, str, int]]:
    """(customer, entry pk, entry id, credits beyond the balance) of every overage entry, in write order."""
    return [(customer, pk, entry_id, credits + available)
            for customer, pk, entry_id, credits, available, _held, _debt in repo.overage_entries(session)]


def usage_count(session: Session, *, customer_id: int, feature: str, since: dt.datetime) -> int:
    """Uses of a feature since a moment (spends and captured holds), e.g. to apply a per-period limit."""
    return repo.usage_count(session, customer_id=customer_id, feature=feature, since=since)


def _positive(credits: int, *, allow_zero: bool = False) -> None:
    if isinstance(credits, bool) or not isinstance(credits, int):
        raise InvalidInput("credits must be a whole number", field="credits")
    if credits < 0 or (credits == 0 and not allow_zero):
        least = ">= 0" if allow_zero else "> 0"
        raise InvalidInput(f"credits must be {least}, got {credits}", field="credits")


def credit(
    session: Session,
    *,
    customer_id: int,
    entry_id: str,
    kind: CreditKind,
    credits: int,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    source: str | None = None,
    reason: str | None = None,
) -> EntryResult:
    """Add credits in a new lot (a pack bought, an operator's grant or adjustment).

    They repay any debt first. `expires_at` None means they never expire.
    """
    _positive(credits)
    if kind == "adjustment" and not (reason or "").strip():
        raise InvalidInput("an adjustment needs a reason", field="reason")
    fp = fingerprint(op=kind, customer_id=customer_id, credits=credits, expires_at=expires_at, source=source,
                     reason=reason)
    opened = open_entry(session, customer_id=customer_id, entry_id=entry_id, fingerprint=fp, now=now)
    if opened.replayed is not None:
        return opened.replayed
    lot = new_lot(session, opened.balance, kind=kind, credits=credits, now=now, expires_at=expires_at,
                  source=source)
    change = Change()
    fund_lot(session, opened.balance, change, lot)
    entry = post(session, opened.balance, entry_id=entry_id, kind=kind, credits=credits, fingerprint=fp,
                 now=now, change=change, lot=lot, source=source, reason=reason)
    return EntryResult.of(entry)


def adjust(
    session: Session, *, customer_id: int, entry_id: str, credits: int, reason: str, now: dt.datetime
) -> EntryResult:
    """An operator's correction with a required reason: positive adds a lot that never expires,
    negative takes credits the way a spend does (and never below zero)."""
    if credits >= 0:
        return credit(session, customer_id=customer_id, entry_id=entry_id, kind="adjustment", credits=credits,
                      now=now, reason=reason)
    if not reason.strip():
        raise InvalidInput("an adjustment needs a reason", field="reason")
    fp = fingerprint(op="adjustment", customer_id=customer_id, credits=credits, reason=reason)
    opened = open_entry(session, customer_id=customer_id, entry_id=entry_id, fingerprint=fp, now=now)
    if opened.replayed is not None:
        return opened.replayed
    change = _draw_change(session, opened.balance, -credits, now=now)
    entry = post(session, opened.balance, entry_id=entry_id, kind="adjustment", credits=-credits,
                 fingerprint=fp, now=now, change=change, reason=reason)
    return EntryResult.of(entry)


def _draw_change(session: Session, balance_row: CreditBalance, credits: int, *, now: dt.datetime) -> Change:
    """Movements taking `credits` from the lots that expire first; InsufficientCredits if short."""
    lots = {lot.id: lot for lot in repo.live_lots(session, customer_id=balance_row.customer_id)}
    change = Change()
    for drawn in core.draw([lot_view(lot) for lot in lots.values()], credits, now):
        change.take(lots[drawn.lot_id], drawn.credits)
    return change


def _open_use(
    session: Session, *, customer_id: int, entry_id: str, fingerprint_value: str, now: dt.datetime,
    period: LazyPeriod | None, also_accepted: tuple[str, ...],
) -> tuple[CreditBalance, EntryResult | None]:
    """A spend's or hold's first steps: the lock, the replay, then the lazy period granted if due
    (under the lock, so concurrent first uses of a month grant it once) and what is due settled."""
    opened = open_entry(session, customer_id=customer_id, entry_id=entry_id, fingerprint=fingerprint_value,
                        now=now, settle_due=False, also_accepted=also_accepted)
    if opened.replayed is not None:
        return opened.balance, opened.replayed
    grant_if_due(session, customer_id=customer_id, period=period, now=now)
    settle(session, opened.balance, now=now)
    return opened.balance, None


def spend(
    session: Session,
    *,
    customer_id: int,
    entry_id: str,
    credits: int,
    feature: str | None,
    now: dt.datetime,
    unlimited: bool = False,
    admit: Admit | None = None,
    period: LazyPeriod | None = None,
    low_balance_pct: int = DEFAULT_LOW_BALANCE_PCT,
) -> EntryResult:
    """Use credits, atomically: never below zero; InsufficientCredits (402) when short.

    A retry with the same `entry_id` answers the first result (`replayed`) before anything is decided:
    the first use may have spent the very credits a fresh decision would find missing. Otherwise the
    lazily granted `period` is granted if due, then `admit` (if given) decides on the balance under the
    lock; it replaces `unlimited`. On an unlimited plan the use is recorded with no effect on the
    balance. Admitted with `overage`, a cost the balance does not cover draws all there is and is
    written as an `overage` entry (its credits beyond the balance: `credits + available_delta`), never
    a negative balance; the caller reports it to Stripe in the same transaction. Crossing the
    low-balance or exhausted threshold writes an outbox event.
    """
    _positive(credits, allow_zero=True)
    # Whether the plan was unlimited is an outcome, not part of the request: not fingerprinted.
    fp = fingerprint(op="spend", customer_id=customer_id, credits=credits, feature=feature)
    written_before = tuple(fingerprint(op="spend", customer_id=customer_id, credits=credits, feature=feature,
                                       unlimited=flag) for flag in (False, True))  # by 0.2, still valid
    balance_row, first = _open_use(session, customer_id=customer_id, entry_id=entry_id, fingerprint_value=fp,
                                   now=now, period=period, also_accepted=written_before)
    if first is not None:
        return first
    admitted = Admitted(unlimited=unlimited)
    if admit is not None:
        answer = admit(balance_row.available_credits)
        admitted = answer if isinstance(answer, Admitted) else Admitted(unlimited=answer)
    before_credits = balance_row.available_credits
    drawn, beyond = core.overage_split(cost_credits=credits, available_credits=before_credits)
    kind = "overage" if admitted.overage and beyond > 0 and not admitted.unlimited else "spend"
    if admitted.unlimited:
        change = Change()
    else:
        change = _draw_change(session, balance_row, drawn if kind == "overage" else credits, now=now)
    reason = "unlimited plan" if admitted.unlimited else (
        f"{beyond} credits beyond the balance" if kind == "overage" else None)
    entry = post(session, balance_row, entry_id=entry_id, kind=kind, credits=credits, fingerprint=fp,
                 now=now, change=change, feature=feature, reason=reason)
    _announce(session, balance_row, before_credits=before_credits, now=now, low_balance_pct=low_balance_pct)
    return EntryResult.of(entry)


def _announce(
    session: Session,
    balance_row: CreditBalance,
    *,
    before_credits: int,
    now: dt.datetime,
    low_balance_pct: int,
) -> None:
    """Tell the host (outbox) when a decrease crossed into low or exhausted, once per crossing."""
    crossed = core.crossed_thresholds(
        before_credits=before_credits, after_credits=balance_row.available_credits,
        period_credits=balance_row.period_credits, low_balance_pct=low_balance_pct,
    )
    customer_id = balance_row.customer_id
    for state in crossed:
        outbound.enqueue(session, event_type=f"credits.{state}", now=now, payload={
            "customer_id": customer_id,
            "host_user_id": repo.host_user_id_of(session, customer_id=customer_id),
            "available_credits": balance_row.available_credits,
            "period_credits": balance_row.period_credits,
        })


def hold(
    session: Session,
    *,
    customer_id: int,
    entry_id: str,
    credits: int,
    timeout_s: int,
    now: dt.datetime,
    feature: str | None = None,
    unlimited: bool = False,
    admit: Admit | None = None,
    period: LazyPeriod | None = None,
    low_balance_pct: int = DEFAULT_LOW_BALANCE_PCT,
) -> EntryResult:
    """Reserve credits before a long job, drawn now from the lots that expire first.

    The answer's `hold_id` names the hold for `capture` / `release`. `timeout_s` after `now`
    an unresolved hold releases itself. Replay, `admit` and `period` as for `spend`; on an unlimited
    plan nothing is reserved.
    """
    _positive(credits, allow_zero=True)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) or timeout_s < 1:
        raise InvalidInput("timeout_s must be a whole number >= 1", field="timeout_s")
    # The timeout, not the moment it ends: a retry a second later must be the same request.
    request = {"customer_id": customer_id, "credits": credits, "timeout_s": timeout_s, "feature": feature}
    fp = fingerprint(op="hold", **request)
    written_before = tuple(fingerprint(op="hold", **request, unlimited=flag) for flag in (False, True))
    balance_row, first = _open_use(session, customer_id=customer_id, entry_id=entry_id, fingerprint_value=fp,
                                   now=now, period=period, also_accepted=written_before)
    if first is not None:
        return first
    if admit is not None:  # a hold never goes beyond the balance: overage is billed on use, not reserved
        answer = admit(balance_row.available_credits)
        unlimited = answer.unlimited if isinstance(answer, Admitted) else answer
    before_credits = balance_row.available_credits
    held_credits = 0 if unlimited else credits
    change = _draw_change(session, balance_row, held_credits, now=now)
    pending = CreditHold(customer_id=customer_id, entry_id=entry_id, credits=held_credits, feature=feature,
                         unlimited=unlimited, status="pending", created_at=now,
                         expires_at=now + dt.timedelta(seconds=timeout_s))
    repo.add(session, pending)
    change.hold = pending
    change.held_delta = held_credits
    entry = post(session, balance_row, entry_id=entry_id, kind="hold", credits=credits, fingerprint=fp,
                 now=now, change=change, feature=feature)
    _announce(session, balance_row, before_credits=before_credits, now=now, low_balance_pct=low_balance_pct)
    return EntryResult.of(entry)


@dataclass(frozen=True, slots=True)
class HoldView:
    hold_id: int
    customer_id: int
    credits: int
    feature: str | None
    status: str  # pending | captured | released | expired
    expires_at: dt.datetime


def get_hold(session: Session, *, hold_id: int, now: dt.datetime) -> HoldView:
    """A hold as of `now` (one past its expiry reads as expired even before the sweep writes it)."""
    found = repo.get_hold(session, hold_id=hold_id)
    if found is None:
        raise NotFound(f"no hold {hold_id}")
    status = found.status
    if status == "pending" and not core.is_live(found.expires_at, now):
        status = "expired"
    return HoldView(found.id, found.customer_id, found.credits, found.feature, status, found.expires_at)


def pending_holds(session: Session, *, customer_id: int, now: dt.datetime) -> list[HoldView]:
    """A customer's holds still pending as of `now` (ones past their expiry are not)."""
    return [HoldView(row.id, row.customer_id, row.credits, row.feature, "pending", row.expires_at)
            for row in repo.pending_holds(session, customer_id=customer_id)
            if core.is_live(row.expires_at, now)]


def _open_resolution(
    session: Session, *, hold_id: int, entry_id: str, fingerprint_value: str, now: dt.datetime,
) -> tuple[CreditHold, CreditBalance, EntryResult | None]:
    """A capture's or release's first steps: the hold's customer locked, the replay, what is due settled
    (an expired hold has resolved itself by then), and the hold re-read under the lock. A hold resolves
    at most once: after expiry, capture or release, other resolutions conflict."""
    found = repo.get_hold(session, hold_id=hold_id)
    if found is None:
        raise NotFound(f"no hold {hold_id}")
    opened = open_entry(session, customer_id=found.customer_id, entry_id=entry_id,
                        fingerprint=fingerprint_value, now=now)
    pending = repo.get_hold(session, hold_id=hold_id)
    assert pending is not None
    if opened.replayed is None and pending.status != "pending":
        raise Conflict(f"hold {pending.id} is already {pending.status}")
    return pending, opened.balance, opened.replayed


def capture(
    session: Session,
    *,
    hold_id: int,
    credits: int,
    now: dt.datetime,
    entry_id: str | None = None,
    low_balance_pct: int = DEFAULT_LOW_BALANCE_PCT,
) -> EntryResult:
    """Charge the actual cost of a held job: less than the hold gives the rest back; more draws the
    difference, if the balance allows (InsufficientCredits otherwise, and the hold stays pending)."""
    _positive(credits, allow_zero=True)
    entry_id = entry_id or ids.hold_resolution(hold_id, "capture")
    fp = fingerprint(op="capture", hold_id=hold_id, credits=credits)
    pending, balance_row, first = _open_resolution(session, hold_id=hold_id, entry_id=entry_id,
                                                   fingerprint_value=fp, now=now)
    if first is not None:
        return first
    before_credits = balance_row.available_credits + pending.credits
    if pending.unlimited:
        split = core.CaptureSplit(0, 0)
        extra = Change()
    else:
        split = core.capture_split(held_credits=pending.credits, capture_credits=credits)
        try:
            extra = _draw_change(session, balance_row, split.extra_credits, now=now)
        except InsufficientCredits as short:
            raise InsufficientCredits(needed=credits, available=pending.credits + short.available) from None
    entry = give_back_hold(session, balance_row, pending, returned_credits=split.returned_credits, now=now,
                           status="captured", entry_id=entry_id, kind="capture", extra=extra, credits=credits,
                           fingerprint_value=fp)
    _announce(session, balance_row, before_credits=before_credits, now=now, low_balance_pct=low_balance_pct)
    return EntryResult.of(entry)


def release(session: Session, *, hold_id: int, now: dt.datetime, entry_id: str | None = None) -> EntryResult:
    """Cancel a pending hold: all its credits go back to the lots they came from."""
    entry_id = entry_id or ids.hold_resolution(hold_id, "release")
    fp = fingerprint(op="release", hold_id=hold_id)
    pending, balance_row, first = _open_resolution(session, hold_id=hold_id, entry_id=entry_id,
                                                   fingerprint_value=fp, now=now)
    if first is not None:
        return first
    entry = give_back_hold(session, balance_row, pending, returned_credits=pending.credits, now=now,
                           status="released", entry_id=entry_id, kind="release", credits=pending.credits,
                           fingerprint_value=fp)
    return EntryResult.of(entry)


def claw_back(
    session: Session,
    *,
    customer_id: int,
    entry_id: str,
    source: str,
    now: dt.datetime,
    credits: int | None = None,
) -> EntryResult:
    """A refund: take back what is left of the credits `source` granted (all of them, or at most
    `credits` for a partial refund). What was already spent becomes debt, which later credits repay
    first. Credits that expired unused are not owed; a purchase never gives back more than it gave."""
    if credits is not None:
        _positive(credits)
    fp = fingerprint(op="refund", customer_id=customer_id, source=source, credits=credits)
    opened = open_entry(session, customer_id=customer_id, entry_id=entry_id, fingerprint=fp, now=now)
    if opened.replayed is not None:
        return opened.replayed
    lots = repo.lots_by_source(session, customer_id=customer_id, source=source)
    if not lots:
        raise NotFound(f"no credits were granted to customer {customer_id} for {source}")
    owed = (sum(lot.original_credits for lot in lots)
            - repo.expired_credits(session, lot_ids=[lot.id for lot in lots])
            - repo.clawed_credits(session, customer_id=customer_id, source=source))
    owed = max(0, owed if credits is None else min(owed, credits))
    change = Change()
    left = owed
    for lot in lots:
        taken, left = core.claw_back_split(remaining_credits=lot.remaining_credits, claw_credits=left)
        change.take(lot, taken)
    change.debt_delta = left
    entry = post(session, opened.balance, entry_id=entry_id, kind="refund", credits=owed, fingerprint=fp,
                 now=now, change=change, lot=lots[0], source=source, reason="refund")
    return EntryResult.of(entry)


def expire_due(session: Session, *, now: dt.datetime) -> int:
    """Write every expiry that is due (lots past their end, holds past theirs); returns customers touched.
    (Reads never wait for it: `balance` applies what is due as of `now`.)"""
    customer_ids = repo.customers_with_due_credits(session, now=now)
    for customer_id in customer_ids:
        settle_customer(session, customer_id=customer_id, now=now)
    return len(customer_ids)


def customers_with_expiry_due(
    session: Session, *, now: dt.datetime, after_customer_id: int, limit: int
) -> list[int]:
    """The next customers the sweep settles (`ledger/sweep.py`), in id order after `after_customer_id`;
    customers on a Stripe test clock are left to their own writes, which settle at their clock's time."""
    return repo.customers_with_due_credits(session, now=now, limit=limit, wall_time_only=True,
                                           after_customer_id=after_customer_id)


def settle_customer(session: Session, *, customer_id: int, now: dt.datetime) -> None:
    """Write what time has made due for one customer, under their lock."""
    settle(session, repo.lock_balance(session, customer_id=customer_id, now=now), now=now)


def refund_purchase(
    session: Session,
    *,
    customer_id: int,
    source: str,
    charge_amount_minor: int,
    refunds: Sequence[core.Refund],
    now: dt.datetime,
) -> None:
    """The refunds of the charge that paid for the credits `source` granted (a pack bought through
    Checkout, an auto top-up): each refund, oldest first, takes back its share (`core.refunded_credits`),
    the one that makes the charge fully refunded all that is left; spent credits become debt.

    Each refund is one entry keyed by its id (`ids.refund`), so however often and in whatever order the
    refunds' events arrive, each share is taken once. NotFound while the purchase is not granted yet (its
    own event is late): the caller retries.
    """
    granted = find_entry(session, entry_id=source)
    if granted is None:
        raise NotFound(f"the credits of {source} are not granted yet; its refunds wait for them")
    shares = core.refunded_credits(pack_credits=granted.credits, charge_amount_minor=charge_amount_minor,
                                   refunds=refunds)
    for refund_id, credits in shares:
        claw_back(session, customer_id=customer_id, entry_id=ids.refund(refund_id), source=source,
                  credits=credits, now=now)
