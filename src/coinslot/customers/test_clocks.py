"""A customer's time, in test mode: the time of the Stripe test clock its Stripe customer lives on.

Stripe runs every object on a test clock at the clock's frozen time; coinslot does the same for the
customer, so a host that advances a clock (in its CI, against Stripe or stripesim) sees the renewal, its
credits, the expiry of the last period's and the end of a grace period, as production would over time.
A customer on no clock (every customer in live mode) lives at the process's time.

The clock's time is what Stripe last told: read when a customer on it is linked, then from the clock's
`test_helpers.test_clock.*` events (`ready` closes each advance); it only moves forward. Events of an
advance applied before its `ready` happen at the time before it: a grant is then written a little early,
and a past-due grace starts a little early (never late).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from sqlalchemy.orm import Session

from coinslot.customers import repository
from coinslot.models import Customer

__all__ = ["advance_clock", "attach_clock", "settle_clocks", "time_of", "time_of_host_user"]


def advance_clock(session: Session, *, test_clock_id: str, frozen_at: dt.datetime,
                  now: dt.datetime) -> dt.datetime:
    """Record that the clock is at least at `frozen_at`; its time after (never earlier than before)."""
    clock = repository.test_clock(session, test_clock_id=test_clock_id)
    if clock is None:
        clock = repository.add_test_clock(session, test_clock_id=test_clock_id, frozen_at=frozen_at, now=now)
    if frozen_at > clock.frozen_at:
        clock.frozen_at = frozen_at
        clock.updated_at = now
    return clock.frozen_at


def attach_clock(session: Session, *, customer: Customer, test_clock_id: str | None,
                 frozen_at: dt.datetime | None, now: dt.datetime) -> None:
    """The customer lives on this test clock (as Stripe's customer object says); `frozen_at`, when known,
    is the clock's time now."""
    if test_clock_id is None or customer.livemode:
        return
    customer.stripe_test_clock_id = test_clock_id
    if frozen_at is not None:
        advance_clock(session, test_clock_id=test_clock_id, frozen_at=frozen_at, now=now)


def settle_clocks(session: Session, *, times: Mapping[str, dt.datetime],
                  customers: Mapping[str, Collection[str]], now: dt.datetime) -> None:
    """What a batch of reads from Stripe said of test clocks: each clock of `times` is at least at its time,
    and the customers named with a clock (`customers`: clock id -> Stripe customer ids) live on it when
    they knew no clock yet. Clocks in one order: two workers settling the same clocks queue, never
    deadlock."""
    for clock_id in sorted(times):
        advance_clock(session, test_clock_id=clock_id, frozen_at=times[clock_id], now=now)
    for clock_id in sorted(customers):
        repository.attach_clocks(session, test_clock_id=clock_id, stripe_customer_ids=customers[clock_id])


def time_of(session: Session, *, customer_id: int | None, now: dt.datetime) -> dt.datetime:
    """The customer's "now": their test clock's time, or `now` when they live on none."""
    if customer_id is None:
        return now
    frozen_at = repository.clock_time(session, customer_id=customer_id)
    return frozen_at if frozen_at is not None else now


def time_of_host_user(session: Session, *, host_user_id: str, now: dt.datetime) -> dt.datetime:
    """`time_of` by the host's user id (a user coinslot has not seen lives at `now`)."""
    frozen_at = repository.clock_time(session, host_user_id=host_user_id)
    return frozen_at if frozen_at is not None else now
