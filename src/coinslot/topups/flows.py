"""Auto top-up's use cases that call Stripe: save first and commit, call Stripe with an idempotency key
derived from the saved row, record the answer in a new transaction.

    start_setup   consent stored -> setup-mode Checkout (key: the setting row and the consent's moment),
                  back to `success_url?checkout_status=success&session_id=cs_...`
    confirm_setup back from it: the saved card applied at once (the pages' return, Checkout's `fulfil`)
    charge_due    the worker: claim pending top-ups (a lease) -> off-session PaymentIntent
                  (key: the top-up row) -> `charges.record_payment_intent`
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.customers import service as customers
from coinslot.customers.flows import METADATA_USER_KEY, ensure_stripe_customer
from coinslot.errors import CoinslotError, NotFound, StripeUnavailable
from coinslot.outbound import service as outbound
from coinslot.queue import policy
from coinslot.queue import repository as queue
from coinslot.queue.kinds import AUTO_TOPUPS
from coinslot.queue.runner import new_worker_id, run_loop, start_loop_thread
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData
from coinslot.stripe_gateway.payments import SetupSessionRequest
from coinslot.subscriptions import service as subscriptions
from coinslot.topups import charges, service
from coinslot.urls import check_redirect_url, with_checkout_params

__all__ = [
    "RETRY", "SETUP_ITEM", "SetupReturn", "StartedSetup", "charge_due", "complete_return", "confirm_setup",
    "plan_key_of", "start_charger", "start_setup", "turn_off", "view_of",
]

log = logging.getLogger("coinslot.topups")
# Stripe unreachable: tried again with backoff; after the last attempt the top-up is dead (an alert).
RETRY = policy.RetryPolicy(base_s=30.0, cap_s=3600.0, max_attempts=8)
_LEASE_SLACK_S = 30.0
BATCH_SIZE = 10
# On the setup-mode Checkout (`coinslot_item`): the card it saves is auto top-up's.
SETUP_ITEM = "auto_topup:setup"


@dataclass(frozen=True, slots=True)
class StartedSetup:
    """Where to send the customer to save a card, and what they agreed to."""

    url: str
    session_id: str
    consent_text: str


def plan_key_of(container: Container, session: Session, *, customer_id: int, catalog: Catalog,
                now: dt.datetime) -> str | None:
    """The customer's plan now (the terms may be offered on some plans only)."""
    grace = dt.timedelta(days=container.settings.past_due_grace_days)
    return subscriptions.plan_access_for(session, customer_id=customer_id, catalog=catalog, now=now,
                                         grace=grace).plan_key


def view_of(container: Container, *, host_user_id: str) -> service.AutoTopupView:
    """A customer's auto top-up now (a user coinslot has not seen: off), for the API and the pages."""
    catalog = catalog_service.get_catalog(container.settings)
    with container.db.unit_of_work(read_only=True) as session:
        customer = customers.get_by_host_user_id(session, host_user_id)
        now = container.clock.now()
        if customer is None:
            return service.view(session, customer_id=None, plan_key=catalog.default_plan, catalog=catalog,
                                now=now)
        plan_key = plan_key_of(container, session, customer_id=customer.id, catalog=catalog, now=now)
        return service.view(session, customer_id=customer.id, plan_key=plan_key, catalog=catalog, now=now)


def turn_off(container: Container, *, host_user_id: str) -> None:
    """The customer turns auto top-up off (a user coinslot has not seen has nothing to turn off)."""
    with container.db.unit_of_work() as session:
        customer = customers.get_by_host_user_id(session, host_user_id)
        if customer is not None:
            service.turn_off(session, customer_id=customer.id, now=container.clock.now())


def start_setup(container: Container, *, host_user_id: str, pack_key: str | None, consent: bool,
                success_url: str, cancel_url: str) -> StartedSetup:
    """Turn auto top-up on: store the consent, then open a setup-mode Checkout that saves the card; the
    checkout's completion (webhook `checkout.session.completed`) turns it on, or the return to
    `success_url` does first (`confirm_setup`), which Stripe gives the session's id as after any Checkout."""
    catalog = catalog_service.get_catalog(container.settings)
    service.offer(catalog, pack_key=pack_key)  # bad input refused before anything is written
    allowed = [*container.settings.redirect_origins, container.settings.public_url.rstrip("/")]
    success = with_checkout_params(check_redirect_url(success_url, allowed_origins=allowed,
                                                      field="success_url"), status="success")
    cancel = with_checkout_params(check_redirect_url(cancel_url, allowed_origins=allowed, field="cancel_url"),
                                  status="cancel")
    customer = ensure_stripe_customer(container, host_user_id=host_user_id)
    with container.db.unit_of_work() as session:
        now = container.clock.now()
        plan_key = plan_key_of(container, session, customer_id=customer.id, catalog=catalog, now=now)
        row = service.begin_setup(session, customer_id=customer.id, plan_key=plan_key, pack_key=pack_key,
                                  consent=consent, catalog=catalog, now=now)
        # One key per consent given: a retried request reopens the same session, a new consent a new one.
        key = f"coinslot-auto-topup-setup-{row.id}-{int(now.timestamp() * 1000)}"
        consent_text = row.consent_text or ""
        currency = service.offer(catalog, pack_key=row.pack_key).currency
    checkout = container.gateway.payments.create_setup_session(SetupSessionRequest(
        customer_id=customer.stripe_customer_id or "", currency=currency, success_url=success,
        cancel_url=cancel, metadata={METADATA_USER_KEY: host_user_id, "coinslot_item": SETUP_ITEM},
        idempotency_key=key,
    ))
    with container.db.unit_of_work() as session:
        service.record_setup_session(session, customer_id=customer.id, setup_session_id=checkout.id,
                                     url=checkout.url, now=container.clock.now())
    return StartedSetup(checkout.url or "", checkout.id, consent_text)


@dataclass(frozen=True, slots=True)
class SetupReturn:
    """What the return from the setup page found."""

    saved: bool  # the card is saved: auto top-up is on
    applied: bool  # this return turned it on (False: the webhook or an earlier return did, or no card yet)


def complete_return(container: Container, *, session_id: str, host_user_id: str) -> bool:
    """The billing page's return from the setup page (`confirm_setup`): whether the card is saved."""
    checkout = container.gateway.checkout.retrieve_session(session_id)
    return confirm_setup(container, checkout=checkout, host_user_id=host_user_id).saved


def confirm_setup(container: Container, *, checkout: StripeCheckoutSessionData,
                  host_user_id: str | None) -> SetupReturn:
    """The customer is back from the setup page: apply the saved card now (the webhook will find it done),
    so auto top-up shows on at once. NotFound for a session that is not an auto top-up's card set-up (of
    `host_user_id`, when given)."""
    owner = checkout.metadata.get(METADATA_USER_KEY)
    if (checkout.mode != "setup" or checkout.metadata.get("coinslot_item") != SETUP_ITEM
            or (host_user_id is not None and owner != host_user_id)):
        raise NotFound(f"no card set-up {checkout.id} of this customer", field="session_id")
    setup_intent = checkout.setup_intent
    saved = container.gateway.payments.saved_payment_method(setup_intent) if setup_intent else None
    with container.db.unit_of_work() as session:
        applied = service.complete_setup(session, setup_session_id=checkout.id, payment_method_id=saved,
                                         now=container.clock.now())
    return SetupReturn(saved is not None, applied)


@dataclass(frozen=True, slots=True)
class _Claimed:
    topup_id: int
    stripe_customer_id: str
    payment_method_id: str
    host_user_id: str
    amount_minor: int
    currency: str


def _claim(container: Container, *, worker: str, limit: int) -> list[_Claimed]:
    now = container.clock.now()
    lease_until = now + dt.timedelta(seconds=container.settings.stripe_timeout_s * limit + _LEASE_SLACK_S)
    with container.db.unit_of_work() as session:
        rows = queue.claim_due(session, AUTO_TOPUPS, now=now, worker=worker, lease_until=lease_until,
                               limit=limit)
        claimed = []
        for row in rows:
            customer = customers.get_by_id(session, customer_id=row.customer_id)
            assert customer is not None  # a foreign key
            claimed.append(_Claimed(row.id, customer.stripe_customer_id or "", row.stripe_payment_method_id,
                                    customer.host_user_id, row.amount_minor, row.currency))
        return claimed


def charge_due(container: Container, *, limit: int = BATCH_SIZE, worker: str | None = None) -> int:
    """Charge one batch of due top-ups off-session; the number claimed (0: nothing due)."""
    worker = worker or new_worker_id()
    batch = _claim(container, worker=worker, limit=limit)
    if not batch:
        return 0
    catalog = catalog_service.get_catalog(container.settings)
    for claimed in batch:
        _charge(container, claimed, catalog=catalog, worker=worker)
    return len(batch)


def _charge(container: Container, claimed: _Claimed, *, catalog: Catalog, worker: str) -> None:
    try:
        answer = container.gateway.payments.charge_off_session(
            customer_id=claimed.stripe_customer_id, payment_method_id=claimed.payment_method_id,
            amount_minor=claimed.amount_minor, currency=claimed.currency,
            metadata={charges.METADATA_TOPUP: str(claimed.topup_id),
                      METADATA_USER_KEY: claimed.host_user_id},
            # Derived from the saved top-up: a retry, or a second worker after a lost lease, gets the one
            # PaymentIntent Stripe made for it; the customer is never charged twice for one top-up.
            idempotency_key=f"coinslot-auto-topup-{claimed.topup_id}",
        )
    except CoinslotError as exc:
        _failed(container, claimed, exc, worker=worker)
        return
    with container.db.unit_of_work() as session:
        outcome = charges.record_payment_intent(session, payment_intent=answer.payment_intent,
                                                catalog=catalog, now=container.clock.now(),
                                                topup_id=claimed.topup_id)
    log.info("auto top-up charged", extra={"auto_topup_id": claimed.topup_id, "outcome": outcome})


def _failed(container: Container, claimed: _Claimed, exc: CoinslotError, *, worker: str) -> None:
    """Stripe did not answer (retried later), or refused the request itself (dead at once: an alert)."""
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        row = queue.held_lease(session, AUTO_TOPUPS, row_id=claimed.topup_id, worker=worker)
        if row is None:
            return  # another worker took it over, or the webhook resolved it
        row.last_error = exc.message[:2000]
        retriable = isinstance(exc, StripeUnavailable)
        if policy.fail(row, policy=RETRY, seed=str(row.id), now=now, retriable=retriable) == "dead":
            outbound.raise_alert(
                session, code="auto_topup.dead", now=now, subject_type="auto_topup", subject_id=str(row.id),
                message=f"auto top-up {row.id} of {claimed.host_user_id} could not be charged after "
                        f"{row.attempts} attempt(s): {exc.message}",
            )
    log.warning("auto top-up not charged", extra={"auto_topup_id": claimed.topup_id, "error": exc.message})


def start_charger(container: Container) -> Callable[[], None] | None:
    """Charge due top-ups in a thread beside the webhook worker (`coinslot worker`, or the in-process
    worker of `coinslot serve`); returns the function that stops it. Several may run: leases."""
    if not container.settings.billing_enabled:
        return None
    worker = new_worker_id()

    def loop(stop: threading.Event) -> None:
        run_loop(f"auto top-up charger {worker}", lambda: charge_due(container, worker=worker), stop=stop,
                 poll_s=container.settings.worker_poll_interval_s)

    return start_loop_thread("coinslot-auto-topup", loop)
