"""Host users and their local customer rows (no Stripe calls here; see `flows.py`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coinslot.customers import repository
from coinslot.errors import Conflict, InvalidInput, NotFound
from coinslot.models import Customer

__all__ = [
    "adopt_stripe_customer", "ensure_customer", "find_customers", "get_by_host_user_id", "get_by_id",
    "get_by_stripe_id", "link_stripe_customer", "lock_by_stripe_ids", "require", "stripe_id_for_mode",
]

_HOST_USER_ID_MAX = 255


def _checked_host_user_id(host_user_id: str) -> str:
    value = host_user_id.strip()
    if not value or len(value) > _HOST_USER_ID_MAX:
        raise InvalidInput(
            "host_user_id must be 1-255 characters: your app's id for the user", field="host_user_id"
        )
    return value


def ensure_customer(
    session: Session,
    *,
    host_user_id: str,
    email: str | None = None,
    name: str | None = None,
    now: dt.datetime,
) -> Customer:
    """The customer row of `host_user_id`, created if missing; email/name filled in when first known.

    Safe when two requests create the same user at once: the unique index on
    host_user_id rejects the second insert, which then reads the winner's row.
    """
    host_user_id = _checked_host_user_id(host_user_id)
    existing = repository.by_host_user_id(session, host_user_id)
    if existing is None:
        try:
            # A savepoint, so losing the insert race rolls back only the insert, not the caller's work.
            with session.begin_nested():
                existing = Customer(
                    host_user_id=host_user_id,
                    email=email,
                    name=name,
                    livemode=False,
                    created_at=now,
                    updated_at=now,
                )
                session.add(existing)
        except IntegrityError:
            existing = repository.by_host_user_id(session, host_user_id)
            if existing is None:
                raise
    if (email and not existing.email) or (name and not existing.name):
        existing.email = existing.email or email
        existing.name = existing.name or name
        existing.updated_at = now
    return existing


def get_by_host_user_id(session: Session, host_user_id: str) -> Customer | None:
    """The customer row of a host user id, or None."""
    return repository.by_host_user_id(session, host_user_id)


def get_by_stripe_id(session: Session, stripe_customer_id: str) -> Customer | None:
    """The customer linked to a Stripe customer id (`cus_...`), or None."""
    return repository.by_stripe_id(session, stripe_customer_id)


@dataclass(frozen=True, slots=True)
class LockedCustomers:
    """Customers locked by Stripe id, and the Stripe ids whose customers another transaction holds."""

    rows: dict[str, Customer]
    busy: frozenset[str]


def lock_by_stripe_ids(session: Session, stripe_customer_ids: Collection[str], *,
                       skip_busy: bool = False) -> LockedCustomers:
    """The customers linked to these Stripe customer ids, by Stripe id (those linked to none are left out),
    locked for the rest of the transaction, all at once and in one order (by id): two transactions that
    lock customers this way first never wait on each other's in a cycle. With `skip_busy`, customers
    another transaction holds are not waited for: their Stripe ids are `busy` (PostgreSQL only)."""
    if not stripe_customer_ids:
        return LockedCustomers({}, frozenset())
    found = repository.lock_by_stripe_ids(session, stripe_customer_ids, skip_locked=skip_busy)
    rows = {str(row.stripe_customer_id): row for row in found}
    missing = set(stripe_customer_ids) - set(rows)
    busy = repository.linked_stripe_ids(session, missing) if skip_busy and missing else set()
    return LockedCustomers(rows, frozenset(busy))


def get_by_id(session: Session, *, customer_id: int) -> Customer | None:
    """The customer row with local id `customer_id`, or None."""
    return repository.by_id(session, customer_id)


def find_customers(session: Session, *, text: str, before_id: int | None = None,
                   limit: int = 50) -> Sequence[Customer]:
    """Up to `limit` customers whose host user id, email, name or Stripe id contain `text`
    (case-insensitive; all if empty), newest first: the admin console's search. `before_id` pages on
    (keyset: the customers older than that id, so a deep page costs what the first does)."""
    return repository.search(session, text=text, before_id=before_id, limit=limit)


def require(session: Session, host_user_id: str) -> Customer:
    """The customer row of `host_user_id`; NotFound when the host never created it."""
    customer = repository.by_host_user_id(session, host_user_id)
    if customer is None:
        raise NotFound(f"no customer with host_user_id {host_user_id!r}", field="host_user_id")
    return customer


def link_stripe_customer(
    session: Session, *, customer_id: int, stripe_customer_id: str, livemode: bool, now: dt.datetime
) -> Customer:
    """Record the Stripe customer of a row unless another one was linked first; returns the fresh row."""
    repository.link_stripe_id(
        session, customer_id=customer_id, stripe_customer_id=stripe_customer_id, livemode=livemode, now=now
    )
    customer = repository.by_id(session, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} vanished")
    session.refresh(customer)
    return customer


def adopt_stripe_customer(
    session: Session, *, host_user_id: str, stripe_customer_id: str, email: str | None, name: str | None,
    livemode: bool, now: dt.datetime,
) -> Customer:
    """Link a host user to a Stripe customer that existed before coinslot (an imported account): the
    customer row is created if missing, and linked unless it already is. Conflict when either side is
    linked to another: an import never moves a link (an operator decides which one is right)."""
    owner = repository.by_stripe_id(session, stripe_customer_id)
    if owner is not None and owner.host_user_id != host_user_id:
        raise Conflict(f"Stripe customer {stripe_customer_id} is linked to host user {owner.host_user_id!r}",
                       code="stripe_customer_linked_elsewhere", field="stripe_customer_id")
    customer = ensure_customer(session, host_user_id=host_user_id, email=email, name=name, now=now)
    if customer.stripe_customer_id is None:
        # Conditional: a checkout linking the same user meanwhile wins, and is then the conflict below.
        customer = link_stripe_customer(session, customer_id=customer.id,
                                        stripe_customer_id=stripe_customer_id, livemode=livemode, now=now)
    if customer.stripe_customer_id != stripe_customer_id:
        raise Conflict(f"host user {host_user_id!r} is linked to Stripe customer "
                       f"{customer.stripe_customer_id}", code="host_user_linked_elsewhere",
                       field="host_user_id")
    return customer


def stripe_id_for_mode(customer: Customer, *, livemode: bool) -> str | None:
    """The customer's Stripe id to use with a key of `livemode` (None when not linked yet).

    A row linked in the other mode (a test database reused with a live key, or the reverse) is never
    used: Stripe would not know the id, or worse, it would bill the wrong account. Conflict tells
    the operator to relink.
    """
    if customer.stripe_customer_id is None or customer.livemode == livemode:
        return customer.stripe_customer_id
    linked, key = ("live", "test") if customer.livemode else ("test", "live")
    raise Conflict(
        f"user {customer.host_user_id!r} is linked to {linked}-mode Stripe customer "
        f"{customer.stripe_customer_id} but coinslot runs with a {key} key. Relink it: clear "
        f"stripe_customer_id of customer {customer.id} (the next checkout links a {key}-mode customer), "
        f"or serve it with a {linked} key.",
        code="customer_other_mode",
    )
