"""The credits ledger's use cases. Each runs inside the caller's transaction and never commits.

Semantics follow TigerBeetle: every entry has a caller-chosen id (its idempotency
key); a retry with the same id returns the first result without writing, with
other fields it is a Conflict; entries are immutable and corrections are new
entries; "never negative" is enforced here, pending holds included.

Entry ids used across coinslot: `invoice:<in_…>` (a paid period), `checkout:<cs_…>`
(a pack), `refund:<re_…>`, `free:<customer>:<YYYY-MM>` (free plan's month),
`invoice:<in_…>:m<n>` (month n of a paid yearly period, granted at its first use),
`key:<caller's idempotency key>`; the ledger derives `hold:<id>:capture|release|expired`
and `lot:<id>:expired:<n>` itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from coinslot.errors import Conflict, InsufficientCredits, InvalidInput, NotFound
from coinslot.ledger import core, ids
from coinslot.ledger import repository as repo
from coinslot.ledger.core import PeriodMonth, period_month
from coinslot.ledger.periods import grant_period
from coinslot.ledger.posting import (
    Change,
    EntryResult,
    fingerprint,
    fund_lot,
    give_back_hold,
    lot_view,
    new_lot,
    post,
    replay,
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
    expire_due,
    history,
    last_position,
    month_start,
    pending_rollover,
    period_opening_entry_id,
    usage_by_feature,
    usage_credits,
)
from coinslot.ledger.verify import Discrepancy, verify
from coinslot.models import CreditBalance, CreditHold, LedgerEntry
from coinslot.outbound import service as outbound

__all__ = [
    "DEFAULT_LOW_BALANCE_PCT",
    "Balance",
    "BalanceParts",
    "Discrepancy",
    "EntryResult",
    "HoldView",
    "LedgerLine",
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
    "entries",
    "expire_due",
    "find_customer_id",
    "find_entry",
    "get_hold",
    "grant_period",
    "history",
    "hold",
    "last_position",
    "lock",
    "month_start",
    "pending_holds",
    "pending_rollover",
    "period_month",
    "period_opening_entry_id",
    "release",
    "spend",
    "usage_by_feature",
    "usage_count",
    "usage_credits",
    "verify",
]

DEFAULT_LOW_BALANCE_PCT = 20
CreditKind = Literal["purchase", "adjustment", "grant"]


def caller_entry_id(*, customer_id: int, idempotency_key: str) -> str:
    """The entry id for a host's idempotency key, scoped to the customer (`ids.caller`)."""
    return ids.caller(customer_id, idempotency_key)


def lock(session: Session, *, customer_id: int, now: dt.datetime) -> None:
    """Take the customer's ledger lock for the rest of the transaction (e.g. before counting uses)."""
    repo.lock_balance(session, customer_id=customer_id, now=now)


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


def usage_count(session: Session, *, customer_id: int, feature: str, since: dt.datetime) -> int:
    """Uses of a feature since a moment (spends and captured holds), e.g. to apply a per-period limit."""
    return repo.usage_count(session, customer_id=customer_id, feature=feature, since=since)


def _open(session: Session, *, customer_id: int, now: dt.datetime) -> CreditBalance:
    balance_row = repo.lock_balance(session, customer_id=customer_id, now=now)
    return balance_row


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
    balance_row = _open(session, customer_id=customer_id, now=now)
    if (first := replay(session, entry_id=entry_id, fingerprint=fp)) is not None:
        return first
    settle(session, balance_row, now=now)
    lot = new_lot(session, balance_row, kind=kind, credits=credits, now=now, expires_at=expires_at,
                  source=source)
    change = Change()
    fund_lot(session, balance_row, change, lot)
    entry = post(session, balance_row, entry_id=entry_id, kind=kind, credits=credits, fingerprint=fp, now=now,
                 change=change, lot=lot, source=source, reason=reason)
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
    balance_row = _open(session, customer_id=customer_id, now=now)
    if (first := replay(session, entry_id=entry_id, fingerprint=fp)) is not None:
        return first
    settle(session, balance_row, now=now)
    change = _draw_change(session, balance_row, -credits, now=now)
    entry = post(session, balance_row, entry_id=entry_id, kind="adjustment", credits=-credits, fingerprint=fp,
                 now=now, change=change, reason=reason)
    return EntryResult.of(entry)


def _draw_change(session: Session, balance_row: CreditBalance, credits: int, *, now: dt.datetime) -> Change:
    """Movements taking `credits` from the lots that expire first; InsufficientCredits if short."""
    lots = {lot.id: lot for lot in repo.live_lots(session, customer_id=balance_row.customer_id)}
    change = Change()
    for drawn in core.draw([lot_view(lot) for lot in lots.values()], credits, now):
        change.take(lots[drawn.lot_id], drawn.credits)
    return change


def spend(
    session: Session,
    *,
    customer_id: int,
    entry_id: str,
    credits: int,
    feature: str | None,
    now: dt.datetime,
    unlimited: bool = False,
    low_balance_pct: int = DEFAULT_LOW_BALANCE_PCT,
    entry_id_unused: bool = False,
) -> EntryResult:
    """Use credits, atomically: never below zero; InsufficientCredits (402) when short.

    On an unlimited plan the use is recorded with no effect on the balance.
    Crossing the low-balance or exhausted threshold writes an outbox event.
    `entry_id_unused=True`: the caller looked `entry_id` up after taking this customer's `lock` in
    this transaction and found nothing, so the replay lookup is not repeated (one statement less
    under the lock on every consume).
    """
    _positive(credits, allow_zero=True)
    fp = fingerprint(op="spend", customer_id=customer_id, credits=credits, feature=feature,
                     unlimited=unlimited)
    balance_row = _open(session, customer_id=customer_id, now=now)
    if not entry_id_unused and (first := replay(session, entry_id=entry_id, fingerprint=fp)) is not None:
        return first
    settle(session, balance_row, now=now)
    before_credits = balance_row.available_credits
    change = Change() if unlimited else _draw_change(session, balance_row, credits, now=now)
    entry = post(session, balance_row, entry_id=entry_id, kind="spend", credits=credits, fingerprint=fp,
                 now=now, change=change, feature=feature, reason="unlimited plan" if unlimited else None)
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
    low_balance_pct: int = DEFAULT_LOW_BALANCE_PCT,
) -> EntryResult:
    """Reserve credits before a long job, drawn now from the lots that expire first.

    The answer's `hold_id` names the hold for `capture` / `release`. `timeout_s` after `now`
    an unresolved hold releases itself. On an unlimited plan nothing is reserved.
    """
    _positive(credits, allow_zero=True)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) or timeout_s < 1:
        raise InvalidInput("timeout_s must be a whole number >= 1", field="timeout_s")
    # The timeout, not the moment it ends: a retry a second later must be the same request.
    fp = fingerprint(op="hold", customer_id=customer_id, credits=credits, timeout_s=timeout_s,
                     feature=feature, unlimited=unlimited)
    expires_at = now + dt.timedelta(seconds=timeout_s)
    balance_row = _open(session, customer_id=customer_id, now=now)
    if (first := replay(session, entry_id=entry_id, fingerprint=fp)) is not None:
        return first
    settle(session, balance_row, now=now)
    before_credits = balance_row.available_credits
    held_credits = 0 if unlimited else credits
    change = _draw_change(session, balance_row, held_credits, now=now)
    pending = CreditHold(customer_id=customer_id, entry_id=entry_id, credits=held_credits, feature=feature,
                         unlimited=unlimited, status="pending", expires_at=expires_at, created_at=now)
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


def _pending_hold(session: Session, *, hold_id: int, now: dt.datetime) -> tuple[CreditHold, CreditBalance]:
    found = repo.get_hold(session, hold_id=hold_id)
    if found is None:
        raise NotFound(f"no hold {hold_id}")
    balance_row = _open(session, customer_id=found.customer_id, now=now)
    pending = repo.get_hold(session, hold_id=hold_id)  # re-read under the lock
    assert pending is not None
    return pending, balance_row


def _resolvable(session: Session, pending: CreditHold, balance_row: CreditBalance, now: dt.datetime) -> None:
    """A hold resolves at most once: after expiry, capture or release, other resolutions conflict."""
    settle(session, balance_row, now=now)
    if pending.status != "pending":
        raise Conflict(f"hold {pending.id} is already {pending.status}")


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
    pending, balance_row = _pending_hold(session, hold_id=hold_id, now=now)
    entry_id = entry_id or f"hold:{hold_id}:capture"
    fp = fingerprint(op="capture", hold_id=hold_id, credits=credits)
    if (first := replay(session, entry_id=entry_id, fingerprint=fp)) is not None:
        return first
    _resolvable(session, pending, balance_row, now)
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
    entry = _give_back(session, balance_row, pending, split.returned_credits, now=now, status="captured",
                       entry_id=entry_id, kind="capture", extra=extra, credits=credits, fp=fp)
    _announce(session, balance_row, before_credits=before_credits, now=now, low_balance_pct=low_balance_pct)
    return EntryResult.of(entry)


def release(session: Session, *, hold_id: int, now: dt.datetime, entry_id: str | None = None) -> EntryResult:
    """Cancel a pending hold: all its credits go back to the lots they came from."""
    pending, balance_row = _pending_hold(session, hold_id=hold_id, now=now)
    entry_id = entry_id or f"hold:{hold_id}:release"
    fp = fingerprint(op="release", hold_id=hold_id)
    if (first := replay(session, entry_id=entry_id, fingerprint=fp)) is not None:
        return first
    _resolvable(session, pending, balance_row, now)
    entry = _give_back(session, balance_row, pending, pending.credits, now=now, status="released",
                       entry_id=entry_id, kind="release", extra=None, credits=pending.credits, fp=fp)
    return EntryResult.of(entry)


def _give_back(
    session: Session, balance_row: CreditBalance, pending: CreditHold, returned_credits: int, *,
    now: dt.datetime, status: str, entry_id: str, kind: str, extra: Change | None, credits: int, fp: str,
) -> LedgerEntry:
    return give_back_hold(session, balance_row, pending, returned_credits=returned_credits, now=now,
                          status=status, entry_id=entry_id, kind=kind, extra=extra, credits=credits,
                          fingerprint_value=fp)


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
    balance_row = _open(session, customer_id=customer_id, now=now)
    if (first := replay(session, entry_id=entry_id, fingerprint=fp)) is not None:
        return first
    settle(session, balance_row, now=now)
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
    entry = post(session, balance_row, entry_id=entry_id, kind="refund", credits=owed, fingerprint=fp,
                 now=now, change=change, lot=lots[0], source=source, reason="refund")
    return EntryResult.of(entry)
