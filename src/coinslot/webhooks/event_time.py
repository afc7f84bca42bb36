"""The time an event's effects happen at: in test mode, the time of the Stripe test clock its customer
lives on (customers/test_clocks.py), moved on by the clock's time read with the event; else `now`.

What a transaction learns here (the customers' rows, the clocks it advanced, the clocks' times) is
kept in its `TransactionMemo` for the batch's next events: a batch of one customer's renewal asked the
same three questions of the database for every event, and a batch of many customers on one clock asked
each customer's row and time one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from coinslot.customers import service as customers_service
from coinslot.customers import test_clocks
from coinslot.models import Customer
from coinslot.stripe_gateway.events import StripeEventData
from coinslot.webhooks.memo import TransactionMemo

__all__ = [
    "BatchClocks", "batch_clocks", "customer_of", "event_time", "lock_customers", "settle_batch_clocks",
]


@dataclass
class BatchClocks:
    """What a batch says of test clocks: each clock's newest time, the customers (Stripe ids) on each, and
    the (clock id, unix seconds) pairs it names (`memo.advanced` once recorded)."""

    times: dict[str, dt.datetime] = field(default_factory=dict)
    customers: dict[str, set[str]] = field(default_factory=dict)
    pairs: set[tuple[str, int]] = field(default_factory=set)


def batch_clocks(batch: Iterable[tuple[StripeEventData, tuple[str, int] | None]]) -> BatchClocks:
    """The test clocks of a batch's events: the times read with the batch ((event, (clock id, unix
    seconds)) pairs) and those the clocks' own events carry. Live events name none."""
    found = BatchClocks()
    for event, read in batch:
        clock = read if read is not None else _clock_of_clock_event(event)
        if event.livemode or clock is None:
            continue
        clock_id, clock_s = clock
        frozen_at = dt.datetime.fromtimestamp(clock_s, dt.UTC)
        found.times[clock_id] = max(found.times.get(clock_id, frozen_at), frozen_at)
        found.pairs.add(clock)
        ref = customer_of(event) if read is not None else None
        if ref:
            found.customers.setdefault(clock_id, set()).add(ref)
    return found


def settle_batch_clocks(session: Session, clocks: BatchClocks, *, now: dt.datetime) -> None:
    """Test mode: move a batch's test clocks to their times and attach its customers to their clocks, in
    the caller's transaction: the worker's own, short and committed before the batch's. A clock's time
    is Stripe's, not an effect of an event, so a batch that rolls back leaves it right. Written inside the
    batch's transaction, after its customers' locks, a clock's row was held by one worker for the whole
    batch, and two workers' batches deadlocked on it and the customers (PostgreSQL tells after a second)."""
    test_clocks.settle_clocks(session, times=clocks.times, customers=clocks.customers, now=now)


def _clock_of_clock_event(event: StripeEventData) -> tuple[str, int] | None:
    """(clock id, unix seconds) a `test_helpers.test_clock.*` event tells, else None."""
    frozen_time = event.object.get("frozen_time")
    if not event.type.startswith("test_helpers.test_clock.") or not isinstance(frozen_time, int):
        return None
    return str(event.object["id"]), frozen_time


def lock_customers(session: Session, events: Iterable[StripeEventData], *, memo: TransactionMemo,
                   skip_busy: bool) -> frozenset[str]:
    """Lock and read the customers of a batch's events in one statement, before its first event: kept for
    `event_time` and the handlers (the subscription sync takes its customer from the memo). Returns the
    Stripe ids of the customers another transaction holds, left unlocked (`skip_busy`; else waited for).

    Locked at once and in one order, so that two workers whose batches share customers never deadlock:
    each event locks its customer's rows (subscription, balance, a first insert's conflict) in the
    batch's event order, and two batches that met in opposite orders waited on each other until
    PostgreSQL's deadlock check, or the lock timeout, broke the tie. With `skip_busy` a batch does not
    wait either: the worker applies the busy customers' events after the rest (worker.py). One not
    linked yet is asked again when its event comes: an earlier event of the batch may link it."""
    wanted = {ref for event in events if (ref := customer_of(event)) and ref not in memo.customers}
    locked = customers_service.lock_by_stripe_ids(session, wanted, skip_busy=skip_busy)
    memo.customers.update(locked.rows)
    return locked.busy


def event_time(session: Session, event: StripeEventData, *, now: dt.datetime,
               test_clock: tuple[str, int] | None, memo: TransactionMemo) -> dt.datetime:
    """When the event's effects happen. `test_clock`: (id, unix seconds) of the clock its object runs on,
    read with the batch."""
    if event.livemode:
        return now
    if test_clock is not None:
        _advance(session, test_clock, now=now, memo=memo)
    stripe_customer_id = customer_of(event)
    customer = _customer(session, stripe_customer_id, memo=memo) if stripe_customer_id else None
    if customer is None:
        return now
    if customer.stripe_test_clock_id is None and test_clock is not None:  # linked before it knew the clock
        test_clocks.attach_clock(session, customer=customer, test_clock_id=test_clock[0], frozen_at=None,
                                 now=now)
    clock_id = customer.stripe_test_clock_id
    if clock_id is None:
        return now
    if clock_id not in memo.times:  # the customer's time is their clock's: kept for the others on it
        memo.times[clock_id] = test_clocks.time_of(session, customer_id=customer.id, now=now)
    return memo.times[clock_id]


def _advance(session: Session, test_clock: tuple[str, int], *, now: dt.datetime,
             memo: TransactionMemo) -> None:
    if test_clock in memo.advanced:  # a clock only moves forward: a second advance to the time is a no-op
        return
    clock_id, clock_s = test_clock
    frozen_at = dt.datetime.fromtimestamp(clock_s, dt.UTC)
    test_clocks.advance_clock(session, test_clock_id=clock_id, frozen_at=frozen_at, now=now)
    memo.advanced.add(test_clock)
    memo.clocks_moved()


def customer_of(event: StripeEventData) -> str | None:
    """The Stripe customer id an event is about (its object's, or the object itself), or None."""
    obj = event.object
    ref = obj.get("id") if obj.get("object") == "customer" else obj.get("customer")
    found = ref.get("id") if isinstance(ref, dict) else ref
    return str(found) if found else None


def _customer(session: Session, stripe_customer_id: str, *, memo: TransactionMemo) -> Customer | None:
    found = memo.customers.get(stripe_customer_id)
    if found is None:
        found = customers_service.get_by_stripe_id(session, stripe_customer_id)
        if found is not None:  # one not linked yet may be linked by a later event: asked again then
            memo.customers[stripe_customer_id] = found
    return found
