"""Phase 1 of processing: re-read state-carrying objects from Stripe, outside any transaction.

`GatewayReader` wraps the gateway for one batch of events and reads each
object at most once per batch: every event of the batch was stored before the
batch began, so one read after the claim is at least as new as any of them.
Tests may pass any object with the same methods (a fake over stored
snapshots); nothing patches Stripe.

An object that an event of the batch shows in a final state (`settled.py`: a paid invoice, a
canceled subscription, a completed Checkout that sold a plan) is not read again: its payload is what a
read would answer, and counts as read when the read would have been made (`read_at_ms`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from coinslot.clock import Clock
from coinslot.stripe_gateway import StripeGateway
from coinslot.stripe_gateway.charges import StripeChargeData
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData, session_from_object
from coinslot.stripe_gateway.invoices import StripeInvoiceData, invoice_from_dict
from coinslot.stripe_gateway.payments import StripePaymentIntentData
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData, subscription_from_dict
from coinslot.webhooks.settled import settled_objects

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

    def __init__(
        self, gateway: Callable[[], StripeGateway], clock: Clock, *, skip_settled: bool = True
    ) -> None:
        self._gateway = gateway  # resolved on first use: a batch of ignored events needs no Stripe key
        self._clock = clock
        self._skip_settled = skip_settled
        self._settled: dict[tuple[str, str], Mapping[str, Any]] = {}
        self.reads_skipped = 0  # objects answered from a final-state payload instead of a read
        self._cache: dict[tuple[str, str], object] = {}
        # The worker reads a batch from a few threads: one lock per object keeps it one read.
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def note_payload(self, payload: Mapping[str, Any]) -> None:
        """An event of the batch: an object it shows in a final state is not read again (settled.py)."""
        if not self._skip_settled:
            return
        for found in settled_objects(payload):
            self._settled.setdefault((found.kind, found.object_id), found.payload)

    def _settled_payload(self, kind: str, object_id: str) -> Mapping[str, Any] | None:
        payload = self._settled.get((kind, object_id))
        if payload is not None:
            with self._locks_lock:
                self.reads_skipped += 1
        return payload

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

    def _settled_or_read(self, kind: str, object_id: str, from_payload: Callable[[Mapping[str, Any]], T],
                         read: Callable[[], T]) -> Read[T]:
        """The object from the payload that showed it final (`settled.py`), else read from Stripe."""
        def load() -> T:
            settled = self._settled_payload(kind, object_id)
            return from_payload(settled) if settled is not None else read()

        return self._read(kind, object_id, load)

    def subscription(self, subscription_id: str) -> Read[StripeSubscriptionData]:
        return self._settled_or_read("subscription", subscription_id, subscription_from_dict,
                                     lambda: self._gateway().subscriptions.retrieve(subscription_id))

    def invoice(self, invoice_id: str) -> Read[StripeInvoiceData]:
        return self._settled_or_read(
            "invoice", invoice_id,
            lambda payload: self._gateway().invoices.with_prices(invoice_from_dict(payload),
                                                                 read_price=self._price),
            lambda: self._gateway().invoices.retrieve(invoice_id, read_price=self._price))

    def _price(self, price_id: str) -> Mapping[str, Any]:
        """A price an invoice line bills, read once per batch however many invoices bill it."""
        return self._read("price", price_id, lambda: self._gateway().invoices.price(price_id)).value

    def checkout_session(self, session_id: str) -> Read[StripeCheckoutSessionData]:
        return self._settled_or_read("checkout_session", session_id, session_from_object,
                                     lambda: self._gateway().checkout.retrieve_session(session_id))

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
