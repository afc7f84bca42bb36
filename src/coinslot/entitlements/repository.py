"""The one read behind `check`: customer, subscriptions and balance in a single statement.

`check` is on the host's hot path. Asked through each domain's repository it
took five ORM queries (customer, subscriptions, balance row, due lots, due
holds: 4.6 ms p50 in docs/benchmarks.md's first run). Here one Core SELECT,
built once at import and executed on the session's connection (no ORM
entities, no per-call statement construction), returns a row per mirrored
subscription with the customer id, the cached available credits and whether
anything has expired unwritten. Only in that last, rare case does the caller
take the ledger's exact lazy-expiry path.

`hot_check_snapshot` is the same statement, plus whether one lazily granted period (the default
plan's month) is granted yet, run Session-free on a pooled connection (`db.PreparedRead`) for
`entitlements/hot_check.py`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from coinslot.db import Database, PreparedInSession, UtcDateTime
from coinslot.models import (
    CreditBalance,
    CreditHold,
    CreditLot,
    Customer,
    LedgerEntry,
    StripeTestClock,
    Subscription,
)

__all__ = ["CheckSnapshot", "HotSnapshot", "SubscriptionView", "check_snapshot", "hot_check_snapshot",
           "hot_snapshot_in", "subscription"]

_customers = cast(Table, Customer.__table__)
_balances = cast(Table, CreditBalance.__table__)
_subscriptions = cast(Table, Subscription.__table__)
_lots = cast(Table, CreditLot.__table__)
_holds = cast(Table, CreditHold.__table__)
_clocks = cast(Table, StripeTestClock.__table__)
_entries = cast(Table, LedgerEntry.__table__)

_now = bindparam("now", type_=UtcDateTime())
# The same conditions as ledger.repository.due_lots / due_holds: when neither matches, the
# cached available_credits is exactly what ledger.reads.balance would compute.
_expiry_due = or_(
    exists().where(_lots.c.customer_id == _customers.c.id, _lots.c.remaining_credits > 0,
                   _lots.c.expires_at <= _now),
    exists().where(_holds.c.customer_id == _customers.c.id, _holds.c.status == "pending",
                   _holds.c.expires_at <= _now),
)
_CHECK_SNAPSHOT = (
    select(
        _customers.c.id.label("customer_id"),
        _balances.c.available_credits,
        _expiry_due.label("expiry_due"),
        _clocks.c.frozen_at.label("test_clock_at"),
        _subscriptions.c.id,
        _subscriptions.c.status,
        _subscriptions.c.plan_key,
        _subscriptions.c.past_due_since,
        _subscriptions.c.current_period_start,
        _subscriptions.c.current_period_end,
        _subscriptions.c.stripe_subscription_id,
        _subscriptions.c.interval,
        _subscriptions.c.quantity,
        _subscriptions.c.addons,
        _subscriptions.c.plan_version,
        _subscriptions.c.metered_price_id,
    )
    .select_from(_customers)
    .outerjoin(_balances, _balances.c.customer_id == _customers.c.id)
    .outerjoin(_clocks, _clocks.c.id == _customers.c.stripe_test_clock_id)
    .outerjoin(_subscriptions, _subscriptions.c.customer_id == _customers.c.id)
    .where(_customers.c.host_user_id == bindparam("host_user_id"))
    .order_by(_subscriptions.c.id.desc())  # newest first, as plan access expects
)

# The same condition as ledger.repository.period_opening_entry_id finding an entry: the period of
# this source that starts then has its first grant written.
_period_granted = exists().where(
    _lots.c.customer_id == _customers.c.id,
    _lots.c.period_start == bindparam("period_start", type_=UtcDateTime()),
    _lots.c.source == bindparam("period_source"),
    _entries.c.lot_id == _lots.c.id,
    _entries.c.lot_id.is_not(None),  # the partial index's condition (revision 0013)
    _entries.c.kind == "grant",
)
_HOT_CHECK_SNAPSHOT = _CHECK_SNAPSHOT.add_columns(_period_granted.label("period_granted"))


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A mirrored subscription as the access policy reads it (subscriptions.core.MirroredSubscription)."""

    id: int
    status: str
    plan_key: str | None
    past_due_since: dt.datetime | None
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    stripe_subscription_id: str
    interval: str | None  # a yearly period's months are granted lazily (entitlements.service)
    quantity: int | None  # seats
    addons: dict[str, int] | None  # add-on key -> quantity (their features, their monthly credits)
    plan_version: str | None = None  # the plan's terms follow the subscriber's version
    metered_price_id: str | None = None  # the plan's metered item: without it, no overage (Stripe bills none)


@dataclass(frozen=True, slots=True)
class CheckSnapshot:
    customer_id: int
    available_credits: int  # the balance cache (0 without a balance row)
    expiry_due: bool  # a lot or hold past its expiry not yet written: the cache is not the answer
    subscriptions: list[SubscriptionView]  # newest first
    test_clock_at: dt.datetime | None  # test mode: the customer lives at this Stripe test clock's time


def check_snapshot(session: Session, *, host_user_id: str, now: dt.datetime) -> CheckSnapshot | None:
    """What `check` needs of a host user, or None when coinslot has never seen them."""
    rows = session.connection().execute(_CHECK_SNAPSHOT, {"host_user_id": host_user_id, "now": now}).all()
    if not rows:
        return None
    first = rows[0]
    subscriptions = [SubscriptionView(row.id, row.status, row.plan_key, row.past_due_since,
                                      row.current_period_start, row.current_period_end,
                                      row.stripe_subscription_id, row.interval, row.quantity, row.addons,
                                      row.plan_version, row.metered_price_id)
                     for row in rows if row.id is not None]
    return CheckSnapshot(first.customer_id, first.available_credits or 0, bool(first.expiry_due),
                         subscriptions, first.test_clock_at)


@dataclass(frozen=True, slots=True)
class HotSnapshot:
    snapshot: CheckSnapshot
    period_granted: bool  # the period asked about (`period_source`, `period_start`) is granted


def hot_check_snapshot(
    database: Database, *, host_user_id: str, now: dt.datetime, period_source: str, period_start: dt.datetime
) -> HotSnapshot | None:
    """`check_snapshot` and whether one lazily granted period is granted, in one statement without a
    Session or a transaction (one statement is its own snapshot); None for a user never seen."""
    rows = database.prepared(_HOT_CHECK_SNAPSHOT).all({"host_user_id": host_user_id, "now": now,
                                                       "period_source": period_source,
                                                       "period_start": period_start})
    return _hot_snapshot(rows)


def hot_snapshot_in(
    session: Session, *, host_user_id: str, now: dt.datetime, period_source: str, period_start: dt.datetime
) -> HotSnapshot | None:
    """The same, in the session's transaction (a consume's, before it takes the account lock)."""
    rows = PreparedInSession.rows(session, _HOT_CHECK_SNAPSHOT, {"host_user_id": host_user_id, "now": now,
                                                                 "period_source": period_source,
                                                                 "period_start": period_start})
    return _hot_snapshot(rows)


_HOT_KEYS = tuple(str(column.key) for column in _HOT_CHECK_SNAPSHOT.selected_columns)


def _hot_snapshot(rows: list[tuple[object, ...]]) -> HotSnapshot | None:
    if not rows:
        return None
    named: list[dict[str, Any]] = [dict(zip(_HOT_KEYS, row, strict=True)) for row in rows]
    first = named[0]
    subscriptions = [SubscriptionView(row["id"], row["status"], row["plan_key"], row["past_due_since"],
                                      row["current_period_start"], row["current_period_end"],
                                      row["stripe_subscription_id"], row["interval"], row["quantity"],
                                      row["addons"], row["plan_version"], row["metered_price_id"])
                     for row in named if row["id"] is not None]
    snapshot = CheckSnapshot(first["customer_id"], first["available_credits"] or 0, bool(first["expiry_due"]),
                             subscriptions, first["test_clock_at"])
    return HotSnapshot(snapshot, bool(first["period_granted"]))


def subscription(session: Session, *, subscription_id: int) -> Subscription | None:
    """A mirrored subscription by local id; free when plan access has just loaded it (identity map)."""
    return session.get(Subscription, subscription_id)
