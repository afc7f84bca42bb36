"""Signed Stripe events and a snapshot-backed Stripe reader, for the webhook pipeline's tests.

`SnapshotReader` is a fake of the worker's phase-1 reader (the same methods as
`coinslot.webhooks.reader.GatewayReader`) over objects the test stores: it
stands for "what Stripe holds now" where no network is needed. Tests that
exercise the real re-read go through stripesim over HTTP instead.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stripe

from coinslot.catalog.core import Catalog
from coinslot.catalog.parser import load_catalog
from coinslot.errors import NotFound
from coinslot.stripe_gateway.charges import StripeChargeData, charge_from_dict
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData
from coinslot.stripe_gateway.invoices import StripeInvoiceData, invoice_from_dict
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData, subscription_from_dict
from coinslot.webhooks.reader import Read

SECRET = "whsec_test_current_secret"
OLD_SECRET = "whsec_test_previous_secret"
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


def patch_hive() -> Catalog:
    return load_catalog(CATALOGS / "patch_hive.toml", display_name="patch_hive.toml")


def event_body(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
    previous: dict[str, Any] | None = None,
) -> bytes:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created if created is not None else int(time.time()),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    return json.dumps(event).encode()


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=timestamp)
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def price(lookup_key: str, *, price_id: str | None = None, interval: str = "month") -> dict[str, Any]:
    return {
        "id": price_id or f"price_{lookup_key}",
        "object": "price",
        "lookup_key": lookup_key,
        "recurring": {"interval": interval, "interval_count": 1},
    }


def subscription(
    sub_id: str,
    customer: str,
    status: str,
    *,
    lookup_key: str = "coinslot:plan:pro:month",
    period_start: int = 1_790_000_000,
    period_end: int = 1_792_592_000,
    cancel_at_period_end: bool = False,
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id}",
                    "object": "subscription_item",
                    "price": price(lookup_key),
                    "quantity": 1,
                    "current_period_start": period_start,
                    "current_period_end": period_end,
                }
            ],
        },
        "cancel_at_period_end": cancel_at_period_end,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "trial_end": None,
        "created": period_start,
        "livemode": False,
        "metadata": {},
    }


def invoice(
    invoice_id: str,
    customer: str,
    sub_id: str,
    *,
    status: str = "paid",
    period_start: int = 1_790_000_000,
    period_end: int = 1_792_592_000,
    billing_reason: str = "subscription_create",
) -> dict[str, Any]:
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": customer,
        "status": status,
        "billing_reason": billing_reason,
        "currency": "usd",
        "amount_due": 1499,
        "amount_paid": 1499 if status == "paid" else 0,
        "attempt_count": 1,
        "next_payment_attempt": None,
        "created": period_start,
        "livemode": False,
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub_id}},
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": f"il_{invoice_id}",
                    "amount": 1499,
                    "period": {"start": period_start, "end": period_end},
                    "pricing": {"price_details": {"price": "price_x"}},
                    "parent": {
                        "type": "subscription_item_details",
                        "subscription_item_details": {"proration": False, "subscription": sub_id},
                    },
                }
            ],
        },
    }


@dataclass
class SnapshotReader:
    """What Stripe holds now, as the test set it; reads are timestamped by a counter (ms)."""

    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, StripeCheckoutSessionData] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    session_of_payment_intent: dict[str, str] = field(default_factory=dict)
    clocks: dict[str, int] = field(default_factory=dict)  # test clock id -> its time (unix seconds)
    failures: list[Exception] = field(default_factory=list)  # raised by the next reads, in order
    reads: int = 0
    _ticks: Any = field(default_factory=lambda: itertools.count(1_800_000_000_000))

    def _read(self, store: dict[str, Any], object_id: str) -> Any:
        self.reads += 1
        if self.failures:
            raise self.failures.pop(0)
        if object_id not in store:
            raise NotFound(f"No such object: {object_id!r}", code="stripe_resource_missing")
        return store[object_id]

    def subscription(self, subscription_id: str) -> Read[StripeSubscriptionData]:
        data = self._read(self.subscriptions, subscription_id)
        return Read(subscription_from_dict(data), next(self._ticks))

    def invoice(self, invoice_id: str) -> Read[StripeInvoiceData]:
        return Read(invoice_from_dict(self._read(self.invoices, invoice_id)), next(self._ticks))

    def checkout_session(self, session_id: str) -> Read[StripeCheckoutSessionData]:
        return Read(self._read(self.sessions, session_id), next(self._ticks))

    def charge(self, charge_id: str) -> Read[StripeChargeData]:
        return Read(charge_from_dict(self._read(self.charges, charge_id)), next(self._ticks))

    def test_clock_time(self, test_clock_id: str) -> int:
        found: int = self._read(self.clocks, test_clock_id)
        return found

    def checkout_session_id_for_payment_intent(self, payment_intent_id: str) -> str | None:
        self.reads += 1
        return self.session_of_payment_intent.get(payment_intent_id)
