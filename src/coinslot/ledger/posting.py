"""How the service writes: one entry, its lot movements and the balance cache, together.

Internal to the ledger service. Every write follows the same steps:

    `open_entry`: lock the balance row -> replay if the entry id exists -> settle what is due
    then: compute the change with `core` -> `post` it

`post` is the only place that changes `remaining_credits` and the cache, so the
invariants in `models/ledger.py` hold by construction (and `verify` checks them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from coinslot.errors import Conflict
from coinslot.ledger import core, ids
from coinslot.ledger import repository as repo
from coinslot.models import CreditBalance, CreditHold, CreditLot, LedgerEntry
from coinslot.observability import CREDITS_MOVED

__all__ = [
    "Change", "EntryResult", "Opened", "fingerprint", "lot_view", "open_entry", "post", "replay", "settle",
]


@dataclass(frozen=True, slots=True)
class EntryResult:
    """What an entry did. A retry with the same id gets the same result, with `replayed=True`."""

    entry_id: str
    kind: str
    customer_id: int
    credits: int
    available_delta: int
    held_delta: int
    debt_delta: int
    balance_after: int
    lot_id: int | None
    hold_id: int | None
    feature: str | None
    created_at: dt.datetime
    replayed: bool = False
    pk: int | None = None  # the entry's row id: what rows tied to it (an overage report) reference

    @classmethod
    def of(cls, entry: LedgerEntry, *, replayed: bool = False) -> EntryResult:
        return cls(
            entry_id=entry.entry_id, kind=entry.kind, customer_id=entry.customer_id, credits=entry.credits,
            available_delta=entry.available_delta, held_delta=entry.held_delta, debt_delta=entry.debt_delta,
            balance_after=entry.balance_after, lot_id=entry.lot_id, hold_id=entry.hold_id,
            feature=entry.feature, created_at=entry.created_at, replayed=replayed, pk=entry.id,
        )


@dataclass
class Change:
    """The effects of one entry before it is written."""

    movements: list[tuple[CreditLot, int]] = field(default_factory=list)  # (lot, signed credits)
    held_delta: int = 0
    debt_delta: int = 0
    hold: CreditHold | None = None  # tags the movements: the credits a hold drew or gave back

    def take(self, lot: CreditLot, credits: int) -> None:
        if credits:
            self.movements.append((lot, -credits))

    def give(self, lot: CreditLot, credits: int) -> None:
        if credits:
            self.movements.append((lot, credits))


def fingerprint(**fields: Any) -> str:
    """The request fields an entry id stands for: the same id with other fields is a conflict."""
    canonical = json.dumps(fields, sort_keys=True, default=_canonical)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def replay(
    session: Session, *, entry_id: str, fingerprint: str, also_accepted: tuple[str, ...] = ()
) -> EntryResult | None:
    """The first result of an entry id already used, or None; Conflict when its fields differ.
    `also_accepted`: how an earlier release fingerprinted the same request."""
    entry = repo.find_entry(session, entry_id=entry_id)
    if entry is None:
        return None
    if entry.fingerprint != fingerprint and entry.fingerprint not in also_accepted:
        raise Conflict(f"entry id {entry_id!r} was already used with different fields")
    return EntryResult.of(entry, replayed=True)


@dataclass(frozen=True, slots=True)
class Opened:
    """An entry about to be written: the locked balance, or the first result of its id (`replayed`)."""

    balance: CreditBalance
    replayed: EntryResult | None


def open_entry(
    session: Session, *, customer_id: int, entry_id: str, fingerprint: str, now: dt.datetime,
    settle_due: bool = True, also_accepted: tuple[str, ...] = (),
) -> Opened:
    """The first steps of every write: take the customer's lock, answer a retry with the first result
    (Conflict when the id was used with other fields), and write what time has made due, so the change
    is computed on the balance as of `now`. `settle_due=False` for a write that ends lots before it
    settles (a new period's grant)."""
    balance = repo.lock_balance(session, customer_id=customer_id, now=now)
    first = replay(session, entry_id=entry_id, fingerprint=fingerprint, also_accepted=also_accepted)
    if first is None and settle_due:
        settle(session, balance, now=now)
    return Opened(balance, first)


def lot_view(lot: CreditLot) -> core.LotView:
    return core.LotView(lot.id, lot.remaining_credits, lot.expires_at)


def post(
    session: Session,
    balance: CreditBalance,
    *,
    entry_id: str,
    kind: str,
    credits: int,
    fingerprint: str,
    now: dt.datetime,
    change: Change | None = None,
    lot: CreditLot | None = None,
    feature: str | None = None,
    source: str | None = None,
    reason: str | None = None,
) -> LedgerEntry:
    """Write one entry with its movements and move the cache by the same amounts."""
    change = change or Change()
    available_delta = sum(credits_moved for _lot, credits_moved in change.movements)
    for moved_lot, credits_moved in change.movements:
        moved_lot.remaining_credits += credits_moved
        if moved_lot.remaining_credits < 0:
            raise AssertionError(f"lot {moved_lot.id} would go negative")  # a bug in the rules, never input
    balance.available_credits += available_delta
    balance.held_credits += change.held_delta
    balance.debt_credits += change.debt_delta
    balance.version += 1
    balance.updated_at = now
    hold_id = change.hold.id if change.hold is not None else None
    entry = LedgerEntry(
        entry_id=entry_id, customer_id=balance.customer_id, kind=kind, credits=credits,
        available_delta=available_delta, held_delta=change.held_delta, debt_delta=change.debt_delta,
        balance_after=balance.available_credits, lot_id=lot.id if lot is not None else None, hold_id=hold_id,
        feature=feature, source=source, reason=reason, fingerprint=fingerprint, created_at=now,
    )
    repo.forget_nothing_due(session, customer_id=balance.customer_id)
    repo.add(session, entry)
    repo.add_movements(session, [
        {"entry_pk": entry.id, "lot_id": moved_lot.id, "hold_id": hold_id, "credits": credits_moved}
        for moved_lot, credits_moved in change.movements
    ])
    CREDITS_MOVED.labels(kind).inc(abs(available_delta) or credits)
    return entry


def new_lot(
    session: Session,
    balance: CreditBalance,
    *,
    kind: str,
    credits: int,
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
    period_start: dt.datetime | None = None,
    source: str | None = None,
) -> CreditLot:
    """An empty lot; the entry that creates it gives it its credits (a movement), so sums stay exact."""
    lot = CreditLot(
        customer_id=balance.customer_id, kind=kind, original_credits=credits, remaining_credits=0,
        expires_at=expires_at, period_start=period_start, source=source, created_at=now,
    )
    repo.add(session, lot)
    return lot


def fund_lot(session: Session, balance: CreditBalance, change: Change, lot: CreditLot) -> None:
    """Give a new lot its credits, less any debt they repay first."""
    change.give(lot, lot.original_credits)
    repaid = core.repaid_debt_credits(debt_credits=balance.debt_credits,
                                      incoming_credits=lot.original_credits)
    change.take(lot, repaid)
    change.debt_delta -= repaid


def settle(session: Session, balance: CreditBalance, *, now: dt.datetime) -> None:
    """Write what time has made due: expired holds release themselves, then expired lots expire.

    Holds first: credits a hold gives back to a lot that has expired meanwhile then expire too.
    """
    due = repo.expiry_due(session, customer_id=balance.customer_id, now=now)
    if not due:
        return  # the usual case, in one statement (or none when this transaction already probed)
    for hold in repo.due_holds(session, customer_id=balance.customer_id, now=now) if due.holds else ():
        give_back_hold(session, balance, hold, returned_credits=hold.credits, now=now, status="expired",
                       entry_id=ids.hold_resolution(hold.id, "expired"), kind="release",
                       reason="hold expired")
    # A hold given back to a lot past its expiry has expired it already (`give_back_hold`).
    if due.lots:
        expire_lots(session, balance, repo.due_lots(session, customer_id=balance.customer_id, now=now),
                    now=now)


def expire_lots(session: Session, balance: CreditBalance, lots: list[CreditLot], *, now: dt.datetime) -> None:
    due = {draw.lot_id: draw.credits for draw in core.due_lots([lot_view(lot) for lot in lots], now)}
    for lot in lots:
        credits = due.get(lot.id, 0)
        if credits == 0:
            continue
        change = Change()
        change.take(lot, credits)
        post(session, balance, entry_id=ids.lot_expiry(lot.id, balance.version), kind="expire",
             credits=credits, now=now, change=change, lot=lot, reason="expired",
             fingerprint=fingerprint(op="expire", lot_id=lot.id, version=balance.version))


def give_back_hold(
    session: Session,
    balance: CreditBalance,
    hold: CreditHold,
    *,
    returned_credits: int,
    now: dt.datetime,
    status: str,
    entry_id: str,
    kind: str,
    reason: str | None = None,
    extra: Change | None = None,
    credits: int | None = None,
    fingerprint_value: str | None = None,
) -> LedgerEntry:
    """Resolve a pending hold: give `returned_credits` back to the lots it drew (latest first)."""
    change = extra or Change()
    change.hold = hold
    change.held_delta -= hold.credits
    draws = repo.hold_draws(session, hold=hold)
    lots = {lot.id: lot for lot, _credits in draws}
    back = core.give_back([core.Draw(lot.id, taken) for lot, taken in draws], returned_credits)
    for returned in back:
        change.give(lots[returned.lot_id], returned.credits)
    hold.status = status
    hold.resolved_at = now
    entry = post(
        session, balance, entry_id=entry_id, kind=kind,
        credits=returned_credits if credits is None else credits, now=now, change=change,
        feature=hold.feature, reason=reason,
        fingerprint=fingerprint_value or fingerprint(op=status, hold_id=hold.id),
    )
    # Credits given back to a lot that expired while the hold was pending expire now.
    expire_lots(session, balance, list(lots.values()), now=now)
    return entry
