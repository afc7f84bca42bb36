"""Every SQL query of the ledger.

Writers serialise per customer on the `credit_balances` row: `lock_balance`
takes it FOR UPDATE on PostgreSQL (SQLite write transactions are already
serialised by BEGIN IMMEDIATE). Every read of lots and holds that a write
depends on happens after that lock, so no two writers ever act on the same
remaining credits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coinslot.db import PreparedInSession, UtcDateTime
from coinslot.ledger.core import LotView
from coinslot.models import CreditBalance, CreditHold, CreditLot, CreditMovement, Customer, LedgerEntry

__all__ = [
    "add",
    "add_movements",
    "clawed_credits",
    "customer_id_for",
    "customers_with_due_credits",
    "due_holds",
    "end_lots_by",
    "entries_page",
    "expired_credits",
    "expiry_due",
    "find_entry",
    "forget_account",
    "forget_nothing_due",
    "get_hold",
    "hold_draws",
    "host_user_id_of",
    "last_entry_position",
    "live_lot_credits_by_origin",
    "live_lots",
    "lock_account",
    "lock_balance",
    "lots_by_source",
    "overage_credits",
    "overage_entries",
    "pending_holds",
    "period_lots",
    "period_opening_entry_id",
    "previous_period_lots",
    "read_balance",
    "usage_count",
    "usage_credits",
    "usage_entries",
    "write_spend",
]

USAGE_KINDS = ("spend", "capture", "overage")  # an overage entry is a use: its credits are the whole cost
_LOCKS_KEY = "coinslot_ledger_locks"

# The statements of every consume, built once: constructing them per call (and computing their
# cache keys) was a large share of the CPU spent under the account lock (docs/benchmarks.md, consume).
_customer_id: BindParameter[int] = bindparam("customer_id")
_SELECT_FOR_UPDATE = (
    select(CreditBalance).where(CreditBalance.customer_id == _customer_id).with_for_update()
    .execution_options(populate_existing=True)
)
_FIND_ENTRY = select(LedgerEntry).where(LedgerEntry.entry_id == bindparam("entry_id"))
_LIVE_LOTS = (
    select(CreditLot).where(CreditLot.customer_id == _customer_id, CreditLot.remaining_credits > 0)
    .order_by(CreditLot.id).execution_options(populate_existing=True)
)
_now = bindparam("now", type_=UtcDateTime())
_EXPIRY_DUE = select(
    exists().where(CreditLot.customer_id == _customer_id, CreditLot.remaining_credits > 0,
                   CreditLot.expires_at <= _now).label("lots"),
    exists().where(CreditHold.customer_id == _customer_id, CreditHold.status == "pending",
                   CreditHold.expires_at <= _now).label("holds"),
)


def customer_id_for(session: Session, *, host_user_id: str) -> int | None:
    return session.scalar(select(Customer.id).where(Customer.host_user_id == host_user_id))


@dataclass
class _Locks:
    """Balance rows this transaction holds locked, and customers known to have nothing due as of a moment.

    A consume asked for the lock twice (entitlements, then the ledger's spend) and probed expiry twice
    (the decision's balance, then settle): each a statement while every other writer of the account
    waits (SQLite: all writers). Bound to one (sub)transaction object, so a new transaction or a
    savepoint, which may release locks when rolled back, starts empty.
    """

    transaction: object
    rows: dict[int, CreditBalance] = field(default_factory=dict)
    nothing_due_at: dict[int, dt.datetime] = field(default_factory=dict)
    accounts: dict[int, LockedAccount] = field(default_factory=dict)  # the plain spends' copy


def _locks(session: Session) -> _Locks:
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # not begun yet: nothing to bind to, remember nothing
        return _Locks(None)
    locks = session.info.get(_LOCKS_KEY)
    if not isinstance(locks, _Locks) or locks.transaction is not transaction:
        locks = session.info[_LOCKS_KEY] = _Locks(transaction)
    return locks


def lock_balance(session: Session, *, customer_id: int, now: dt.datetime) -> CreditBalance:
    """The customer's balance row, created if missing, locked until the transaction ends."""
    locks = _locks(session)
    locks.accounts.pop(customer_id, None)  # the ORM writes the account now: the plain spends' copy is stale
    held = locks.rows.get(customer_id)
    if held is not None:
        return held  # already ours: its in-session state is the current one
    row = _select_for_update(session, customer_id) or _create_balance(session, customer_id, now)
    locks.rows[customer_id] = row
    return row


def _create_balance(session: Session, customer_id: int, now: dt.datetime) -> CreditBalance:
    # Two first writers for one customer may race to create the row: the loser's insert does
    # nothing and it then waits on the winner's lock.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(CreditBalance)
        .values(customer_id=customer_id, available_credits=0, held_credits=0, debt_credits=0,
                period_credits=0, version=0, updated_at=now)
        .on_conflict_do_nothing()
    )
    row = _select_for_update(session, customer_id)
    assert row is not None  # inserted above or by the racing writer
    return row


def _select_for_update(session: Session, customer_id: int) -> CreditBalance | None:
    return session.scalar(_SELECT_FOR_UPDATE, {"customer_id": customer_id})


def host_user_id_of(session: Session, *, customer_id: int) -> str | None:
    return session.scalar(select(Customer.host_user_id).where(Customer.id == customer_id))


def read_balance(session: Session, *, customer_id: int) -> CreditBalance | None:
    return session.get(CreditBalance, customer_id)


def find_entry(session: Session, *, entry_id: str) -> LedgerEntry | None:
    return session.scalar(_FIND_ENTRY, {"entry_id": entry_id})


def add(session: Session, row: Any) -> None:
    """Insert now, so the row has its id for the rows that point at it."""
    session.add(row)
    session.flush()


def add_movements(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert an entry's movements (entry_pk, lot_id, hold_id, credits) in one prepared statement. Never
    changed after insert, so they need no ORM objects: a unit-of-work flush, then the ORM's bulk insert
    (which asks each row's id back), per entry was measurable CPU under the account lock."""
    PreparedInSession.many(session, _INSERT_MOVEMENTS, rows)


def live_lots(session: Session, *, customer_id: int) -> list[CreditLot]:
    """Lots with credits left (including any past their expiry that no one has expired yet)."""
    return list(session.scalars(_LIVE_LOTS, {"customer_id": customer_id}))


@dataclass(frozen=True, slots=True)
class Due:
    """What time has made due for a customer and is not written yet: expired lots, expired pending holds."""

    lots: bool
    holds: bool

    def __bool__(self) -> bool:
        return self.lots or self.holds


_NOTHING_DUE = Due(lots=False, holds=False)


def expiry_due(session: Session, *, customer_id: int, now: dt.datetime) -> Due:
    """Has a lot or a pending hold of the customer passed its expiry? One statement for the usual
    "no", instead of loading `due_lots` and `due_holds` (two ORM queries) on every balance and write;
    when something is due, which of the two (`settle` then loads only that).

    Under the customer's lock a "no" is remembered for `now` until the next `post` (`forget_nothing_due`).
    """
    locks = _locks(session)
    if locks.nothing_due_at.get(customer_id) == now:
        return _NOTHING_DUE
    lots, holds = session.execute(_EXPIRY_DUE, {"customer_id": customer_id, "now": now}).one()
    due = Due(lots=bool(lots), holds=bool(holds))
    if not due and customer_id in locks.rows:
        locks.nothing_due_at[customer_id] = now
    return due


def forget_nothing_due(session: Session, *, customer_id: int) -> None:
    """A write may have changed what is due (e.g. a lot granted for a period already over)."""
    locks = _locks(session)
    locks.nothing_due_at.pop(customer_id, None)
    locks.accounts.pop(customer_id, None)


def due_lots(session: Session, *, customer_id: int, now: dt.datetime) -> list[CreditLot]:
    query = select(CreditLot).where(
        CreditLot.customer_id == customer_id,
        CreditLot.remaining_credits > 0,
        CreditLot.expires_at <= now,
    )
    return list(session.scalars(query))


def due_holds(session: Session, *, customer_id: int, now: dt.datetime) -> list[CreditHold]:
    query = (
        select(CreditHold)
        .where(CreditHold.customer_id == customer_id, CreditHold.status == "pending",
               CreditHold.expires_at <= now)
        .order_by(CreditHold.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def get_hold(session: Session, *, hold_id: int) -> CreditHold | None:
    query = select(CreditHold).where(CreditHold.id == hold_id).execution_options(populate_existing=True)
    return session.scalar(query)


def hold_draws(session: Session, *, hold: CreditHold) -> list[tuple[CreditLot, int]]:
    """The lots the hold's own entry drew from, in draw order, with the credits taken (> 0)."""
    query = (
        select(CreditLot, CreditMovement.credits)
        .join(CreditMovement, CreditMovement.lot_id == CreditLot.id)
        .join(LedgerEntry, LedgerEntry.id == CreditMovement.entry_pk)
        .where(LedgerEntry.entry_id == hold.entry_id, CreditMovement.hold_id == hold.id)
        .order_by(CreditMovement.id)
        .execution_options(populate_existing=True)
    )
    return [(lot, -credits) for lot, credits in session.execute(query).tuples()]


def period_lots(
    session: Session, *, customer_id: int, period_start: dt.datetime, source: str | None
) -> tuple[list[CreditLot], list[CreditLot]]:
    """Grant and rollover lots of one source (a subscription, the free plan): those of the period that
    starts at `period_start`, and those of its earlier periods that reach that start (as
    `previous_period_lots` finds them). One statement: a paid invoice's grant needs the first, and the
    second when the period is new (docs/benchmarks.md, webhook processing)."""
    query = (
        select(CreditLot)
        .where(CreditLot.customer_id == customer_id, _same_source(source),
               CreditLot.period_start <= period_start,
               or_(CreditLot.period_start == period_start, CreditLot.expires_at >= period_start))
        .order_by(CreditLot.id)
        .execution_options(populate_existing=True)
    )
    this_period: list[CreditLot] = []
    earlier: list[CreditLot] = []
    for lot in session.scalars(query):
        (this_period if lot.period_start == period_start else earlier).append(lot)
    return this_period, earlier


def previous_period_lots(
    session: Session, *, customer_id: int, period_start: dt.datetime, source: str | None
) -> list[CreditLot]:
    """Grant and rollover lots of the source's earlier periods that reach the new period's start
    (or overlap it). Another subscription's periods are not this one's previous periods."""
    query = (
        select(CreditLot)
        .where(
            CreditLot.customer_id == customer_id,
            _same_source(source),
            CreditLot.period_start < period_start,
            CreditLot.expires_at >= period_start,
        )
        .order_by(CreditLot.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def period_opening_entry_id(
    session: Session, *, customer_id: int, period_start: dt.datetime, source: str
) -> str | None:
    """The id of the first grant entry of one period of one source (e.g. `invoice:<in_…>` of a year)."""
    query = (
        select(LedgerEntry.entry_id)
        .join(CreditLot, CreditLot.id == LedgerEntry.lot_id)
        .where(CreditLot.customer_id == customer_id, CreditLot.period_start == period_start,
               CreditLot.source == source, LedgerEntry.kind == "grant",
               LedgerEntry.lot_id.is_not(None))  # the partial index's condition (revision 0013)
        .order_by(LedgerEntry.id)
        .limit(1)
    )
    return session.scalar(query)


def end_lots_by(
    session: Session, *, customer_id: int, lots: Sequence[CreditLot], end_at: dt.datetime
) -> None:
    """Make lots expire at `end_at` at the latest, written at once: the expiry probe that follows is a
    Core statement, which does not autoflush, and must not answer from a remembered "nothing due"."""
    for lot in lots:
        if lot.expires_at is not None and lot.expires_at > end_at:
            lot.expires_at = end_at
    session.flush()
    forget_nothing_due(session, customer_id=customer_id)


def _same_source(source: str | None) -> ColumnElement[bool]:
    return CreditLot.source.is_(None) if source is None else CreditLot.source == source


def expired_credits(session: Session, *, lot_ids: Sequence[int]) -> int:
    """Credits that expiry entries took from these lots."""
    if not lot_ids:
        return 0
    query = select(func.coalesce(func.sum(LedgerEntry.credits), 0)).where(
        LedgerEntry.kind == "expire", LedgerEntry.lot_id.in_(lot_ids)
    )
    return int(session.scalar(query) or 0)


def lots_by_source(session: Session, *, customer_id: int, source: str) -> list[CreditLot]:
    query = (
        select(CreditLot)
        .where(CreditLot.customer_id == customer_id, CreditLot.source == source,
               CreditLot.kind != "rollover")
        .order_by(CreditLot.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def clawed_credits(session: Session, *, customer_id: int, source: str) -> int:
    """Credits earlier refunds of a source already clawed back (taken or recorded as debt)."""
    query = select(func.coalesce(func.sum(LedgerEntry.credits), 0)).where(
        LedgerEntry.customer_id == customer_id, LedgerEntry.kind == "refund", LedgerEntry.source == source
    )
    return int(session.scalar(query) or 0)


def usage_count(session: Session, *, customer_id: int, feature: str, since: dt.datetime) -> int:
    """Uses of a feature since a moment (spends and captured holds)."""
    query = select(func.count()).where(
        LedgerEntry.customer_id == customer_id,
        LedgerEntry.feature == feature,
        LedgerEntry.kind.in_(USAGE_KINDS),
        LedgerEntry.created_at >= since,
    )
    return int(session.scalar(query) or 0)


def usage_entries(
    session: Session, *, customer_id: int, since: dt.datetime
) -> Iterator[tuple[dt.datetime, str | None, int]]:
    """(created_at, feature, credits) of every use since a moment."""
    query = select(LedgerEntry.created_at, LedgerEntry.feature, LedgerEntry.credits).where(
        LedgerEntry.customer_id == customer_id,
        LedgerEntry.kind.in_(USAGE_KINDS),
        LedgerEntry.created_at >= since,
    )
    yield from session.execute(query).tuples()


def customers_with_due_credits(
    session: Session, *, now: dt.datetime, limit: int | None = None, wall_time_only: bool = False,
    after_customer_id: int = 0,
) -> list[int]:
    """Customers with a lot past its expiry and credits left, or a pending hold past its expiry, in id
    order from `after_customer_id` (exclusive). `wall_time_only`: leave out customers on a Stripe test
    clock (they live at their clock's time)."""
    lots = select(CreditLot.customer_id).where(CreditLot.remaining_credits > 0, CreditLot.expires_at <= now)
    holds = select(CreditHold.customer_id).where(CreditHold.status == "pending", CreditHold.expires_at <= now)
    query = select(Customer.id).where(Customer.id > after_customer_id,
                                      or_(Customer.id.in_(lots), Customer.id.in_(holds)))
    if wall_time_only:
        query = query.where(Customer.stripe_test_clock_id.is_(None))
    query = query.order_by(Customer.id).limit(limit)
    return list(session.scalars(query))


# --- verification: aggregates over every customer ---------------------------------------------


def all_balances(session: Session) -> dict[int, CreditBalance]:
    return {row.customer_id: row for row in session.scalars(select(CreditBalance))}


def entry_sums(session: Session) -> dict[int, tuple[int, int, int]]:
    """customer -> (sum of available_delta, held_delta, debt_delta)."""
    query = select(
        LedgerEntry.customer_id,
        func.sum(LedgerEntry.available_delta),
        func.sum(LedgerEntry.held_delta),
        func.sum(LedgerEntry.debt_delta),
    ).group_by(LedgerEntry.customer_id)
    return {customer: (int(a), int(h), int(d)) for customer, a, h, d in session.execute(query).tuples()}


def lot_sums(session: Session) -> dict[int, int]:
    query = select(CreditLot.customer_id, func.sum(CreditLot.remaining_credits))
    query = query.group_by(CreditLot.customer_id)
    return {customer: int(total) for customer, total in session.execute(query).tuples()}


def pending_hold_sums(session: Session) -> dict[int, int]:
    query = (
        select(CreditHold.customer_id, func.sum(CreditHold.credits))
        .where(CreditHold.status == "pending")
        .group_by(CreditHold.customer_id)
    )
    return {customer: int(total) for customer, total in session.execute(query).tuples()}


def lots_off_their_movements(session: Session) -> list[tuple[int, int, int, int, int]]:
    """(customer, lot, remaining, sum of movements, original) for lots that disagree or are out of range."""
    moved = (
        select(CreditMovement.lot_id, func.sum(CreditMovement.credits).label("moved"))
        .group_by(CreditMovement.lot_id)
        .subquery()
    )
    total = func.coalesce(moved.c.moved, 0)
    query = (
        select(CreditLot.customer_id, CreditLot.id, CreditLot.remaining_credits, total,
               CreditLot.original_credits)
        .outerjoin(moved, moved.c.lot_id == CreditLot.id)
        .where(or_(CreditLot.remaining_credits != total, CreditLot.remaining_credits < 0,
                   CreditLot.remaining_credits > CreditLot.original_credits))
    )
    return [(c, lot, r, int(m), o) for c, lot, r, m, o in session.execute(query).tuples()]


def entries_off_their_movements(session: Session) -> list[tuple[int, str, int, int]]:
    """(customer, entry id, available_delta, sum of movements) for entries that disagree."""
    moved = (
        select(CreditMovement.entry_pk, func.sum(CreditMovement.credits).label("moved"))
        .group_by(CreditMovement.entry_pk)
        .subquery()
    )
    total = func.coalesce(moved.c.moved, 0)
    query = (
        select(LedgerEntry.customer_id, LedgerEntry.entry_id, LedgerEntry.available_delta, total)
        .outerjoin(moved, moved.c.entry_pk == LedgerEntry.id)
        .where(LedgerEntry.available_delta != total)
    )
    return [(c, e, a, int(m)) for c, e, a, m in session.execute(query).tuples()]


def entries_in_order(session: Session) -> Iterator[tuple[int, str, int, int]]:
    """(customer, entry id, available_delta, balance_after) of every entry, per customer in write order."""
    query = select(
        LedgerEntry.customer_id, LedgerEntry.entry_id, LedgerEntry.available_delta, LedgerEntry.balance_after
    ).order_by(LedgerEntry.customer_id, LedgerEntry.id)
    yield from session.execute(query.execution_options(yield_per=1000)).tuples()


# An overage entry draws what the balance had (`available_delta`, <= 0) and bills the rest of its cost.
_OVERAGE_CREDITS = LedgerEntry.credits + LedgerEntry.available_delta


def overage_credits(session: Session, *, customer_id: int, since: dt.datetime) -> int:
    """Credits used beyond the balance since a moment (a period's start): what the period's overage bills."""
    query = select(func.coalesce(func.sum(_OVERAGE_CREDITS), 0)).where(
        LedgerEntry.customer_id == customer_id,
        LedgerEntry.kind == "overage",
        LedgerEntry.created_at >= since,
    )
    return int(session.scalar(query) or 0)


def overage_entries(session: Session) -> Iterator[tuple[int, int, str, int, int, int, int]]:
    """(customer, entry pk, entry id, credits, available_delta, held_delta, debt_delta): overage entries."""
    query = select(
        LedgerEntry.customer_id, LedgerEntry.id, LedgerEntry.entry_id, LedgerEntry.credits,
        LedgerEntry.available_delta, LedgerEntry.held_delta, LedgerEntry.debt_delta,
    ).where(LedgerEntry.kind == "overage").order_by(LedgerEntry.id)
    yield from session.execute(query.execution_options(yield_per=1000)).tuples()


def usage_credits(session: Session, *, customer_id: int, since: dt.datetime) -> int:
    """Credits the uses since a moment cost (spends and captured holds)."""
    query = select(func.coalesce(func.sum(LedgerEntry.credits), 0)).where(
        LedgerEntry.customer_id == customer_id,
        LedgerEntry.kind.in_(USAGE_KINDS),
        LedgerEntry.created_at >= since,
    )
    return int(session.scalar(query) or 0)


def live_lot_credits_by_origin(
    session: Session, *, customer_id: int, now: dt.datetime
) -> list[tuple[str, str | None, int]]:
    """(lot kind, source, remaining credits) of the lots still live at `now`."""
    query = (
        select(CreditLot.kind, CreditLot.source, func.sum(CreditLot.remaining_credits))
        .where(CreditLot.customer_id == customer_id, CreditLot.remaining_credits > 0,
               or_(CreditLot.expires_at.is_(None), CreditLot.expires_at > now))
        .group_by(CreditLot.kind, CreditLot.source)
    )
    return [(kind, source, int(total)) for kind, source, total in session.execute(query).tuples()]


def entries_page(
    session: Session, *, customer_id: int, after_id: int | None, before_id: int | None, limit: int
) -> Sequence[LedgerEntry]:
    """A page of a customer's entries by position (the row id): ascending after `after_id`, else
    newest first before `before_id` (or from the newest). Keyset, so a page costs the same at 10M rows."""
    query = select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
    if after_id is not None:
        query = query.where(LedgerEntry.id > after_id).order_by(LedgerEntry.id)
    else:
        if before_id is not None:
            query = query.where(LedgerEntry.id < before_id)
        query = query.order_by(LedgerEntry.id.desc())
    return session.scalars(query.limit(limit)).all()


def last_entry_position(session: Session, *, customer_id: int | None) -> int:
    """The newest entry's row id, of one customer or over all (0 when there is none)."""
    query = select(func.max(LedgerEntry.id))
    if customer_id is not None:
        query = query.where(LedgerEntry.customer_id == customer_id)
    return int(session.scalar(query) or 0)


def pending_holds(session: Session, *, customer_id: int) -> Sequence[CreditHold]:
    """The customer's holds not resolved yet (some may be past their expiry), oldest first."""
    query = (select(CreditHold).where(CreditHold.customer_id == customer_id, CreditHold.status == "pending")
             .order_by(CreditHold.id))
    return session.scalars(query).all()


# The hot spend's statements (ledger/hot_spend.py): Core tables, compiled once per dialect and run on the
# session's driver connection (db.PreparedInSession), no ORM objects.
_balances = cast(Table, CreditBalance.__table__)
_lots = cast(Table, CreditLot.__table__)
_holds = cast(Table, CreditHold.__table__)
_entries = cast(Table, LedgerEntry.__table__)
_movements = cast(Table, CreditMovement.__table__)

# The customer's lock, balance, live lots and the soonest expiry of a pending hold, in one statement: one
# row per live lot (one row of NULL lot columns without any), none without a balance row.
_LOCK_ACCOUNT = (
    select(
        _balances.c.available_credits,
        _balances.c.period_credits,
        select(func.min(_holds.c.expires_at))
        .where(_holds.c.customer_id == _customer_id, _holds.c.status == "pending")
        .scalar_subquery().label("next_hold_expiry"),
        _lots.c.id,
        _lots.c.remaining_credits,
        _lots.c.expires_at,
    )
    .select_from(_balances)
    .outerjoin(_lots, and_(_lots.c.customer_id == _balances.c.customer_id, _lots.c.remaining_credits > 0))
    .where(_balances.c.customer_id == _customer_id)
    .order_by(_lots.c.id)
    .with_for_update(of=_balances)
)
_ENTRY_VALUES = {name: bindparam(name, type_=column.type)
                 for name, column in _entries.c.items() if name != "id"}
# SQLite: an entry id written already inserts nothing (and returns no row): the caller answers with the
# first. (PostgreSQL writes the whole spend in `_WRITE_SPEND_PG`.)
_INSERT_ENTRY_SQLITE = (
    sqlite.insert(_entries).values(_ENTRY_VALUES)
    .on_conflict_do_nothing(index_elements=[_entries.c.entry_id]).returning(_entries.c.id)
)
_DRAW_LOT = (
    update(_lots).where(_lots.c.id == bindparam("drawn_lot_id"))
    .values(remaining_credits=_lots.c.remaining_credits - bindparam("drawn_credits"))
)
_INSERT_MOVEMENT = insert(_movements).values(
    entry_pk=bindparam("entry_pk"), lot_id=bindparam("lot_id"), hold_id=None, credits=bindparam("credits"))
_INSERT_MOVEMENTS = insert(_movements).values(
    entry_pk=bindparam("entry_pk"), lot_id=bindparam("lot_id"), hold_id=bindparam("hold_id"),
    credits=bindparam("credits"))
_SPEND_FROM_BALANCE = (
    update(_balances).where(_balances.c.customer_id == bindparam("account_id"))
    .values(available_credits=_balances.c.available_credits - bindparam("spent_credits"),
            version=_balances.c.version + 1, updated_at=bindparam("at", type_=UtcDateTime()))
)

# PostgreSQL: the same four writes in one statement (data-modifying CTEs), so a consume's writes cost one
# round trip; each runs only when the entry was inserted (an entry id used already writes nothing).
_WRITE_SPEND_PG = text("""
WITH entry AS (
    INSERT INTO ledger_entries (entry_id, customer_id, kind, credits, available_delta, held_delta,
                                debt_delta, balance_after, lot_id, hold_id, feature, source, reason,
                                fingerprint, created_at)
    VALUES (:entry_id, :customer_id, :kind, :credits, :available_delta, :held_delta, :debt_delta,
            :balance_after, NULL, NULL, :feature, NULL, NULL, :fingerprint, :created_at)
    ON CONFLICT (entry_id) DO NOTHING
    RETURNING id
), draws AS (
    SELECT * FROM unnest(CAST(:lot_ids AS BIGINT[]), CAST(:lot_credits AS BIGINT[])) AS d (lot_id, credits)
), drawn AS (
    UPDATE credit_lots SET remaining_credits = credit_lots.remaining_credits - draws.credits
    FROM draws, entry WHERE credit_lots.id = draws.lot_id
), moved AS (
    INSERT INTO credit_movements (entry_pk, lot_id, hold_id, credits)
    SELECT entry.id, draws.lot_id, NULL, -draws.credits FROM entry, draws
), spent AS (
    UPDATE credit_balances
    SET available_credits = available_credits + :available_delta, version = version + 1,
        updated_at = :created_at
    WHERE customer_id = :customer_id AND EXISTS (SELECT 1 FROM entry)
)
SELECT id FROM entry
""").bindparams(bindparam("created_at", type_=UtcDateTime())).columns(id=BigInteger())


@dataclass(slots=True)
class LockedAccount:
    """A customer's balance and live lots as of the lock this transaction holds on them. No other
    transaction can change them until it ends, so the same transaction's next plain spend reads this
    (kept current by `ledger/hot_spend.py`) instead of the database; any write through the ORM drops it
    (`lock_balance`, `forget_nothing_due`)."""

    available_credits: int
    period_credits: int
    live_lots: list[LotView]  # remaining_credits > 0, by id
    next_hold_expiry: dt.datetime | None  # the soonest expiry of a pending hold

    def expiry_due(self, now: dt.datetime) -> bool:
        """A lot or a pending hold past its expiry, not written yet (as `expiry_due`)."""
        if self.next_hold_expiry is not None and self.next_hold_expiry <= now:
            return True
        return any(lot.expires_at is not None and lot.expires_at <= now for lot in self.live_lots)


def lock_account(session: Session, *, customer_id: int) -> LockedAccount | None:
    """Lock the customer's balance row (as `lock_balance`) and read it with the live lots, or this
    transaction's copy of them; None when the customer has no balance row yet (`lock_balance` creates it)."""
    locks = _locks(session)
    kept = locks.accounts.get(customer_id)
    if kept is not None:
        return kept
    rows = PreparedInSession.rows(session, _LOCK_ACCOUNT, {"customer_id": customer_id})
    if not rows:
        return None
    available, period, next_hold_expiry = rows[0][0], rows[0][1], rows[0][2]
    lots = [LotView(lot_id, remaining, expires_at) for *_, lot_id, remaining, expires_at in rows
            if lot_id is not None]
    account = LockedAccount(available, period, lots, next_hold_expiry)
    if locks.transaction is not None:
        locks.accounts[customer_id] = account
    return account


def write_spend(
    session: Session, *, entry: dict[str, Any], draws: list[tuple[int, int]], now: dt.datetime
) -> int | None:
    """Insert a spend entry, draw its lots (`(lot id, credits)`), record the movements and move the
    balance cache by the same credits; the entry's row id, or None (nothing written) when its entry id
    was used already. Under the customer's lock (`lock_account`)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # one round trip
        lots = {"lot_ids": [lot_id for lot_id, _ in draws], "lot_credits": [credits for _, credits in draws]}
        written = PreparedInSession.rows(session, _WRITE_SPEND_PG, {**entry, **lots})
        return written[0][0] if written else None
    inserted = PreparedInSession.rows(session, _INSERT_ENTRY_SQLITE, entry)
    if not inserted:
        return None
    entry_pk: int = inserted[0][0]
    PreparedInSession.many(session, _DRAW_LOT, [{"drawn_lot_id": lot_id, "drawn_credits": credits}
                                                for lot_id, credits in draws])
    PreparedInSession.many(session, _INSERT_MOVEMENT, [{"entry_pk": entry_pk, "lot_id": lot_id,
                                                        "credits": -credits} for lot_id, credits in draws])
    PreparedInSession.many(session, _SPEND_FROM_BALANCE, [{
        "account_id": entry["customer_id"], "spent_credits": -entry["available_delta"], "at": now}])
    return entry_pk


def forget_account(session: Session, *, customer_id: int) -> None:
    """After a write the ORM did not see (`write_spend`): what this session holds of the customer's
    balance and lots as ORM rows is stale, so the next ORM read of them loads them again."""
    locks = _locks(session)
    locks.nothing_due_at.pop(customer_id, None)
    locks.rows.pop(customer_id, None)
    for row in list(session.identity_map.values()):
        if isinstance(row, CreditBalance | CreditLot):
            session.expire(row)
