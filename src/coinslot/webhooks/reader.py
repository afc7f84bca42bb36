"""Phase 1 of processing: re-read state-carrying objects from Stripe, outside any transaction.

`GatewayReader` wraps the gateway for one batch of events and reads each
object at most once per batch: every event of the batch was stored before the
batch began, so one read after the claim is at least as new as any of them.
Tests may pass any object with the same methods (a fake over stored
snapshots); nothing patches Stripe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from coinslot.clock import Clock
from coinslot.stripe_gateway import StripeGateway
from coinslot.stripe_gateway.charges import StripeChargeData
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData
from coinslot.stripe_gateway.invoices import StripeInvoiceData
from coinslot.stripe_gateway.payments import StripePaymentIntentData
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData

__all__ = ["GatewayReader", "Read", "StripeReader"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Read(Generic[T]):
    """An object as Stripe held it when read; `read_at_ms` orders it against other copies."""

    value: T
    read_at_ms: int


class StripeReader(Protocol):
    def subscription(self, subscription_id: str) -> Read[StripeSubscriptionData]: ...
    def invoice(self, invoice_id: str) -> Read[StripeInvoiceData]: ...
    def checkout_session(self, session_id: str) -> Read[StripeCheckoutSessionData]: ...
    def charge(self, charge_id: str) -> Read[StripeChargeData]: ...
    def checkout_session_id_for_payment_intent(self, payment_intent_id: str) -> str | None: ...
    def payment_intent(self, payment_intent_id: str) -> Read[StripePaymentIntentData]: ...
    def saved_payment_method(self, setup_intent_id: str) -> str | None: ...


class GatewayReader:
    """Reads through the Stripe gateway, each object once per batch; safe to call from several threads."""

    thread_safe = True  # the worker may then overlap a batch's reads

    def __init__(self, gateway: Callable[[], StripeGateway], clock: Clock) -> None:
        self._gateway = gateway  # resolved on first use: a batch of ignored events needs no Stripe key
        self._clock = clock
        self._cache: dict[tuple[str, str], object] = {}
        # The worker reads a batch from a few threads: one lock per object keeps it one read.
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _read(self, kind: str, object_id: str, load: Callable[[], T]) -> Read[T]:
        key = (kind, object_id)
        with self._locks_lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                value = load()
                self._cache[key] = Read(value, int(self._clock.now().timestamp() * 1000))
        found: Read[T] = self._cache[key]  # type: ignore[assignment]
        return found

    def subscription(self, subscription_id: str) -> Read[StripeSubscriptionData]:
        return self._read(
            "subscription", subscription_id, lambda: self._gateway().subscriptions.retrieve(subscription_id)
        )

    def invoice(self, invoice_id: str) -> Read[StripeInvoiceData]:
        return self._read("invoice", invoice_id, lambda: self._gateway().invoices.retrieve(invoice_id))

    def checkout_session(self, session_id: str) -> Read[StripeCheckoutSessionData]:
        return self._read(
            "checkout_session", session_id, lambda: self._gateway().checkout.retrieve_session(session_id)
        )

    def charge(self, charge_id: str) -> Read[StripeChargeData]:
        return self._read("charge", charge_id, lambda: self._gateway().charges.retrieve(charge_id))

    def test_clock_time(self, test_clock_id: str) -> int:
        """A Stripe test clock's time now (unix seconds): the time of the customers on it."""
        found = self._read("test_clock", test_clock_id,
                           lambda: self._gateway().test_clocks.frozen_time(test_clock_id))
        return found.value

    def checkout_session_id_for_payment_intent(self, payment_intent_id: str) -> str | None:
        found = self._read(
            "session_of_payment_intent",
            payment_intent_id,
            lambda: self._gateway().charges.checkout_session_id_for_payment_intent(payment_intent_id),
        )
        return found.value

    def payment_intent(self, payment_intent_id: str) -> Read[StripePaymentIntentData]:
        return self._read("payment_intent", payment_intent_id,
                          lambda: self._gateway().payments.retrieve_payment_intent(payment_intent_id))

    def saved_payment_method(self, setup_intent_id: str) -> str | None:
        """The card a setup-mode Checkout saved (None until its SetupIntent succeeded)."""
        found = self._read("setup_intent", setup_intent_id,
                           lambda: self._gateway().payments.saved_payment_method(setup_intent_id))
        return found.value
