"""Host user -> exactly one Stripe customer, safe under concurrent calls.

tx1  ensure the local row (unique host_user_id) and commit: its id names the customer
---  if unlinked: reuse a Stripe customer found by metadata (or by email, when
     `reuse_stripe_customers_by_email` is on), else create one
     with idempotency key `coinslot-customer-<row id>`, so racing callers get the same one
tx2  link it with a conditional update (first writer wins; the others read the winner)
"""

from __future__ import annotations

import time

from coinslot.clock import from_unix
from coinslot.container import Container
from coinslot.customers import service, test_clocks
from coinslot.models import Customer
from coinslot.stripe_gateway.customers import RequestInFlight, StripeCustomerData

__all__ = ["METADATA_USER_KEY", "ensure_stripe_customer"]

METADATA_USER_KEY = "coinslot_user_id"
# Stripe answers 409 to a request whose idempotency key is still being processed by another one.
_IN_FLIGHT_ATTEMPTS = 8
_IN_FLIGHT_WAIT_S = 0.1


def ensure_stripe_customer(
    container: Container, *, host_user_id: str, email: str | None = None, name: str | None = None
) -> Customer:
    """The customer of `host_user_id`, linked to its one Stripe customer (created at most once)."""
    with container.db.unit_of_work() as session:
        customer = service.ensure_customer(
            session, host_user_id=host_user_id, email=email, name=name, now=container.clock.now()
        )
        session.expunge(customer)
    if service.stripe_id_for_mode(customer, livemode=container.settings.livemode) is not None:
        return customer
    gateway = container.gateway
    found = _find_existing(container, host_user_id=customer.host_user_id, email=customer.email)
    if found is None:
        found = _create(container, customer)
    elif found.metadata.get(METADATA_USER_KEY) != customer.host_user_id:
        gateway.customers.add_metadata(found.id, {METADATA_USER_KEY: customer.host_user_id})
    # Test mode: the customer lives on Stripe's test clock from now on (customers/test_clocks.py).
    frozen_s = gateway.test_clocks.frozen_time(found.test_clock_id) if found.test_clock_id else None
    with container.db.unit_of_work() as session:
        now = container.clock.now()
        linked = service.link_stripe_customer(
            session, customer_id=customer.id, stripe_customer_id=found.id, livemode=gateway.livemode, now=now,
        )
        test_clocks.attach_clock(session, customer=linked, test_clock_id=found.test_clock_id,
                                 frozen_at=from_unix(frozen_s), now=now)
        session.expunge(linked)
    return linked


def _create(container: Container, customer: Customer) -> StripeCustomerData:
    """Create at Stripe; racing callers share the key and wait for the first one's answer."""
    attempt = 0
    while True:
        try:
            return container.gateway.customers.create(
                email=customer.email,
                name=customer.name,
                metadata={METADATA_USER_KEY: customer.host_user_id},
                # Derived from the saved row: every racing or retried call for this user sends the same
                # key, so Stripe answers them all with the one customer it created first.
                idempotency_key=f"coinslot-customer-{customer.id}",
            )
        except RequestInFlight:
            attempt += 1
            if attempt == _IN_FLIGHT_ATTEMPTS:
                raise
            time.sleep(_IN_FLIGHT_WAIT_S * attempt)


def _find_existing(
    container: Container, *, host_user_id: str, email: str | None
) -> StripeCustomerData | None:
    """A Stripe customer made for this user before the local link existed (lost write, restored backup)."""
    customers = container.gateway.customers
    by_metadata = customers.find_by_metadata(METADATA_USER_KEY, host_user_id)
    if by_metadata:
        return by_metadata[0]
    if email and container.settings.reuse_stripe_customers_by_email:
        # Only one that no other host user claims: an email can be shared by two accounts of the host.
        for candidate in customers.find_by_email(email):
            if candidate.metadata.get(METADATA_USER_KEY) in (None, host_user_id):
                return candidate
    return None
