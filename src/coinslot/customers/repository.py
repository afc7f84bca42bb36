"""Every SQL query of the customers domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from coinslot.models import Customer, StripeTestClock

__all__ = ["by_host_user_id", "by_id", "by_stripe_id", "clock_time", "link_stripe_id", "search", "test_clock"]


# Built once: every consume starts here (docs/benchmarks.md, consume).
_BY_HOST_USER_ID = select(Customer).where(Customer.host_user_id == bindparam("host_user_id"))


def by_host_user_id(session: Session, host_user_id: str) -> Customer | None:
    return session.scalar(_BY_HOST_USER_ID, {"host_user_id": host_user_id})


def by_stripe_id(session: Session, stripe_customer_id: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.stripe_customer_id == stripe_customer_id))


def lock_by_stripe_ids(session: Session, stripe_customer_ids: Collection[str], *,
                       skip_locked: bool = False) -> list[Customer]:
    """The customers linked to these Stripe ids, locked in the order of their ids; with `skip_locked`, those
    another transaction holds are left out (PostgreSQL; SQLite has one writer at a time)."""
    query = (select(Customer).where(Customer.stripe_customer_id.in_(sorted(stripe_customer_ids)))
             .order_by(Customer.id).with_for_update(skip_locked=skip_locked))
    return list(session.scalars(query))


def linked_stripe_ids(session: Session, stripe_customer_ids: Collection[str]) -> set[str]:
    """Which of these Stripe customer ids a customer is linked to."""
    linked = Customer.stripe_customer_id.in_(sorted(stripe_customer_ids))
    query = select(Customer.stripe_customer_id).where(linked)
    return {str(found) for found in session.scalars(query)}


def by_id(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def link_stripe_id(
    session: Session, *, customer_id: int, stripe_customer_id: str, livemode: bool, now: dt.datetime
) -> bool:
    """Set the Stripe id only if none is set yet; True when this call set it.

    Conditional, so two racing requests cannot overwrite each other's link.
    """
    result = session.execute(
        update(Customer)
        .where(Customer.id == customer_id, Customer.stripe_customer_id.is_(None))
        .values(stripe_customer_id=stripe_customer_id, livemode=livemode, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def search(session: Session, *, text: str, before_id: int | None, limit: int) -> Sequence[Customer]:
    """Customers whose host user id, email, name or Stripe id contain `text` (all if empty), newest first,
    older than `before_id` when given."""
    query = select(Customer).order_by(Customer.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Customer.id < before_id)
    needle = text.strip().lower()
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(
            func.lower(Customer.host_user_id).like(pattern, escape="\\"),
            func.lower(func.coalesce(Customer.email, "")).like(pattern, escape="\\"),
            func.lower(func.coalesce(Customer.name, "")).like(pattern, escape="\\"),
            func.lower(func.coalesce(Customer.stripe_customer_id, "")).like(pattern, escape="\\"),
        ))
    return session.scalars(query).all()


def test_clock(session: Session, *, test_clock_id: str) -> StripeTestClock | None:
    """A test clock's row, locked for the rest of the transaction (its time only moves forward)."""
    return session.get(StripeTestClock, test_clock_id, with_for_update=True)


def add_test_clock(session: Session, *, test_clock_id: str, frozen_at: dt.datetime,
                   now: dt.datetime) -> StripeTestClock:
    """A test clock's row, inserted if missing, locked for the rest of the transaction. Two workers may meet
    a new clock at once: the loser's insert does nothing, and it then waits on the winner's row."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(StripeTestClock).values(id=test_clock_id, frozen_at=frozen_at, updated_at=now)
                    .on_conflict_do_nothing())
    found = session.get(StripeTestClock, test_clock_id, with_for_update=True, populate_existing=True)
    assert found is not None  # inserted above or by the racing writer
    return found


def attach_clocks(session: Session, *, test_clock_id: str, stripe_customer_ids: Collection[str]) -> None:
    """Test-mode customers linked to these Stripe ids that know no clock yet live on this one."""
    session.execute(
        update(Customer)
        .where(Customer.stripe_customer_id.in_(sorted(stripe_customer_ids)), Customer.livemode.is_(False),
               Customer.stripe_test_clock_id.is_(None))
        .values(stripe_test_clock_id=test_clock_id)
        .execution_options(synchronize_session=False)
    )


def clock_time(session: Session, *, customer_id: int | None = None,
               host_user_id: str | None = None) -> dt.datetime | None:
    """The time of the test clock a customer lives on, or None (no clock)."""
    query = (select(StripeTestClock.frozen_at)
             .join(Customer, Customer.stripe_test_clock_id == StripeTestClock.id))
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    else:
        query = query.where(Customer.host_user_id == host_user_id)
    return session.scalar(query)
