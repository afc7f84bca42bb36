"""The event -> handler table, and the handlers: small, one per event family.

Each handler has two halves. `fetch` runs outside any transaction and
re-reads the state-carrying object from Stripe (an event's payload is only a
snapshot of its moment, and events arrive out of order). `apply` runs in the
worker's transaction, together with the "processed" mark, and calls domain
services whose effects are keyed by Stripe object ids: a second delivery, a
replay or another event about the same invoice cannot grant twice.

Types not in the table are stored and marked ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog
from coinslot.checkout import service as checkout_service
from coinslot.customers import service as customers_service
from coinslot.errors import NotFound
from coinslot.ledger import service as ledger_service
from coinslot.outbound import service as outbox
from coinslot.stripe_gateway.charges import StripeChargeData
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData
from coinslot.stripe_gateway.events import StripeEventData
from coinslot.stripe_gateway.invoices import StripeInvoiceData
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData, subscription_from_dict
from coinslot.subscriptions import service as subscriptions_service
from coinslot.webhooks.reader import Read, StripeReader

__all__ = ["HANDLERS", "ApplyContext", "Handler", "Outcome"]

Outcome = Literal["processed", "ignored"]


@dataclass
class ApplyContext:
    """What `apply` gets: the open transaction, the time, and the catalog (loaded when first needed)."""

    session: Session
    now: dt.datetime
    load_catalog: Callable[[], Catalog]

    @cached_property
    def catalog(self) -> Catalog:
        return self.load_catalog()


class Handler(Protocol):
    def fetch(self, event: StripeEventData, stripe: StripeReader) -> Any: ...
    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: Any) -> Outcome: ...


def _read_subscription(
    event_created: int, subscription_id: str, stripe: StripeReader, payload: dict[str, Any] | None = None
) -> Read[StripeSubscriptionData]:
    """Stripe's current copy; the event's own snapshot (as old as the event) only if Stripe has none."""
    try:
        return stripe.subscription(subscription_id)
    except NotFound:
        if payload is None:
            raise
        return Read(subscription_from_dict(payload), event_created * 1000)


class SubscriptionChanged:
    """customer.subscription.created|updated|deleted|paused|resumed|...: mirror Stripe's current copy."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> Read[StripeSubscriptionData]:
        return _read_subscription(event.created, str(event.object["id"]), stripe, event.object)

    def apply(
        self, ctx: ApplyContext, event: StripeEventData, fetched: Read[StripeSubscriptionData]
    ) -> Outcome:
        subscriptions_service.sync_subscription(
            ctx.session,
            snapshot=fetched.value,
            catalog=ctx.catalog,
            now=ctx.now,
            seen_at_ms=fetched.read_at_ms,
        )
        return "processed"


@dataclass(frozen=True, slots=True)
class InvoiceReads:
    invoice: StripeInvoiceData
    subscription: Read[StripeSubscriptionData] | None


def _read_invoice(event: StripeEventData, stripe: StripeReader) -> InvoiceReads:
    invoice = stripe.invoice(str(event.object["id"])).value
    if invoice.subscription_id is None:
        return InvoiceReads(invoice, None)
    return InvoiceReads(invoice, _read_subscription(event.created, invoice.subscription_id, stripe))


def _sync_invoice_subscription(ctx: ApplyContext, reads: InvoiceReads) -> None:
    if reads.subscription is not None:
        subscriptions_service.sync_subscription(
            ctx.session,
            snapshot=reads.subscription.value,
            catalog=ctx.catalog,
            now=ctx.now,
            seen_at_ms=reads.subscription.read_at_ms,
        )


class InvoicePaid:
    """invoice.paid: the one place a subscription period's credits are granted (once per invoice)."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> InvoiceReads:
        return _read_invoice(event, stripe)

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: InvoiceReads) -> Outcome:
        # The subscription first: invoice.paid often arrives before customer.subscription.created.
        _sync_invoice_subscription(ctx, fetched)
        subscriptions_service.record_paid_invoice(
            ctx.session, invoice=fetched.invoice, catalog=ctx.catalog, now=ctx.now
        )
        return "processed"


class InvoicePaymentFailed:
    """invoice.payment_failed: tell the host (outbox) and re-sync the subscription (past_due...)."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> InvoiceReads:
        return _read_invoice(event, stripe)

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: InvoiceReads) -> Outcome:
        _sync_invoice_subscription(ctx, fetched)
        subscriptions_service.record_failed_invoice(ctx.session, invoice=fetched.invoice, now=ctx.now)
        return "processed"


class CheckoutCompleted:
    """checkout.session.completed|async_payment_succeeded: fulfil the order or pack, only if paid.

    Subscription credits are not granted here but by invoice.paid, so a
    purchase reported by both events is granted once.
    """

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> StripeCheckoutSessionData:
        return stripe.checkout_session(str(event.object["id"])).value

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: StripeCheckoutSessionData) -> Outcome:
        checkout_service.fulfil_checkout_session(
            ctx.session, checkout=fetched, catalog=ctx.catalog, now=ctx.now
        )
        return "processed"


class Noted:
    """Events that need no change: e.g. checkout.session.expired leaves the DRAFT order resumable as it is."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> None:
        return None

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: None) -> Outcome:
        return "processed"


@dataclass(frozen=True, slots=True)
class RefundReads:
    charge: StripeChargeData
    checkout_session_id: str | None


class ChargeRefunded:
    """charge.refunded: claw back the credits of the pack the charge paid for."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> RefundReads:
        charge = stripe.charge(str(event.object["id"])).value
        payment_intent = charge.payment_intent_id
        session_id = stripe.checkout_session_id_for_payment_intent(payment_intent) if payment_intent else None
        return RefundReads(charge, session_id)

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: RefundReads) -> Outcome:
        charge = fetched.charge
        customer = (
            customers_service.get_by_stripe_id(ctx.session, charge.customer_id)
            if charge.customer_id
            else None
        )
        if fetched.checkout_session_id is None or customer is None:
            outbox.raise_alert(
                ctx.session,
                code="refund.unmapped",
                now=ctx.now,
                subject_type="charge",
                subject_id=charge.id,
                message=f"charge {charge.id} was refunded ({charge.amount_refunded_minor} {charge.currency}) "
                "but coinslot cannot tell which purchase it paid for: review the customer's credits by hand",
            )
            return "processed"
        ledger_service.claw_back(
            ctx.session,
            customer_id=customer.id,
            now=ctx.now,
            entry_id=f"refund:{charge.id}:{charge.amount_refunded_minor}",
            source=f"checkout:{fetched.checkout_session_id}",
        )
        return "processed"


_subscription_changed = SubscriptionChanged()
_checkout_completed = CheckoutCompleted()

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "checkout.session.expired": Noted(),
    "checkout.session.async_payment_failed": Noted(),
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "customer.subscription.paused": _subscription_changed,
    "customer.subscription.resumed": _subscription_changed,
    "customer.subscription.pending_update_applied": _subscription_changed,
    "customer.subscription.pending_update_expired": _subscription_changed,
    "invoice.paid": InvoicePaid(),
    "invoice.payment_failed": InvoicePaymentFailed(),
    "charge.refunded": ChargeRefunded(),
}
