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
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog
from coinslot.checkout import service as checkout_service
from coinslot.clock import from_unix
from coinslot.customers import test_clocks
from coinslot.errors import NotFound
from coinslot.stripe_gateway.charges import StripeChargeData
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData
from coinslot.stripe_gateway.events import StripeEventData
from coinslot.stripe_gateway.invoices import StripeInvoiceData
from coinslot.stripe_gateway.payments import StripePaymentIntentData
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData, subscription_from_dict
from coinslot.subscriptions import service as subscriptions_service
from coinslot.topups import charges as topup_charges
from coinslot.topups import service as topups_service
from coinslot.webhooks.memo import TransactionMemo
from coinslot.webhooks.reader import Read, StripeReader

__all__ = ["HANDLERS", "ApplyContext", "Handler", "Outcome"]

Outcome = Literal["processed", "ignored"]


@dataclass
class ApplyContext:
    """What `apply` gets: the open transaction, the time, the catalog (loaded when first needed), how
    long period credits outlive their period awaiting the renewal (the past-due grace), and what the
    transaction learned applying the batch's earlier events (memo.py)."""

    session: Session
    now: dt.datetime
    load_catalog: Callable[[], Catalog]
    renewal_grace: dt.timedelta
    memo: TransactionMemo = field(default_factory=TransactionMemo)

    @cached_property
    def catalog(self) -> Catalog:
        return self.load_catalog()


class Handler(Protocol):
    def wants(self, event: StripeEventData) -> bool:
        """False for an event of the handler's types that it ignores as sent (no read, nothing applied):
        the worker marks it ignored with the types no handler takes."""
        return True

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> Any: ...
    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: Any) -> Outcome: ...


def _read_subscription(
    event_created_s: int, subscription_id: str, stripe: StripeReader, payload: dict[str, Any] | None = None
) -> Read[StripeSubscriptionData]:
    """Stripe's current copy; the event's own snapshot (as old as the event) only if Stripe has none."""
    try:
        return stripe.subscription(subscription_id)
    except NotFound:
        if payload is None:
            raise
        return Read(subscription_from_dict(payload), event_created_s * 1000)


def _synced_already(ctx: ApplyContext, read: Read[StripeSubscriptionData]) -> bool:
    """True when this transaction synced this very read at this time (another event of the batch about
    the same subscription): syncing it again would change nothing. Otherwise it is noted as synced now."""
    key = (read.value.id, ctx.now)
    if ctx.memo.synced.get(key) is read:
        return True
    ctx.memo.synced[key] = read  # forgotten with the rest if the event's savepoint rolls back
    return False


def _sync(ctx: ApplyContext, read: Read[StripeSubscriptionData]) -> None:
    if not _synced_already(ctx, read):
        ctx.memo.mirrored[read.value.id] = subscriptions_service.sync_subscription(
            ctx.session,
            snapshot=read.value,
            catalog=ctx.catalog,
            now=ctx.now,
            seen_at_ms=read.read_at_ms,
            customer=ctx.memo.customers.get(read.value.customer_id),
        )


class SubscriptionChanged(Handler):
    """customer.subscription.created|updated|deleted|paused|resumed|...: mirror Stripe's current copy."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> Read[StripeSubscriptionData]:
        return _read_subscription(event.created_s, str(event.object["id"]), stripe, event.object)

    def apply(
        self, ctx: ApplyContext, event: StripeEventData, fetched: Read[StripeSubscriptionData]
    ) -> Outcome:
        _sync(ctx, fetched)
        return "processed"


@dataclass(frozen=True, slots=True)
class InvoiceReads:
    invoice: StripeInvoiceData
    subscription: Read[StripeSubscriptionData] | None


def _read_invoice(event: StripeEventData, stripe: StripeReader) -> InvoiceReads:
    invoice = stripe.invoice(str(event.object["id"])).value
    if invoice.subscription_id is None:
        return InvoiceReads(invoice, None)
    return InvoiceReads(invoice, _read_subscription(event.created_s, invoice.subscription_id, stripe))


class InvoicePaid(Handler):
    """invoice.paid: the one place a subscription period's credits are granted (once per invoice)."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> InvoiceReads:
        return _read_invoice(event, stripe)

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: InvoiceReads) -> Outcome:
        read = fetched.subscription
        # A read this transaction synced already is not passed again: the invoice is granted on it as is.
        to_sync = read if read is not None and not _synced_already(ctx, read) else None
        row = subscriptions_service.apply_paid_invoice(
            ctx.session, invoice=fetched.invoice, subscription=to_sync.value if to_sync else None,
            seen_at_ms=to_sync.read_at_ms if to_sync else 0, catalog=ctx.catalog, now=ctx.now,
            renewal_grace=ctx.renewal_grace, customer=ctx.memo.customers.get(fetched.invoice.customer_id),
            mirrored=ctx.memo.mirrored.get(fetched.invoice.subscription_id or ""),
        )
        if to_sync is not None and row is not None:
            ctx.memo.mirrored[to_sync.value.id] = row
        return "processed"


class InvoicePaymentFailed(Handler):
    """invoice.payment_failed: tell the host (outbox) and re-sync the subscription (past_due...)."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> InvoiceReads:
        return _read_invoice(event, stripe)

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: InvoiceReads) -> Outcome:
        if fetched.subscription is not None:
            _sync(ctx, fetched.subscription)
        subscriptions_service.record_failed_invoice(ctx.session, invoice=fetched.invoice, now=ctx.now)
        return "processed"


@dataclass(frozen=True, slots=True)
class CheckoutReads:
    checkout: StripeCheckoutSessionData
    saved_payment_method: str | None  # setup mode: the card its SetupIntent saved


class CheckoutCompleted(Handler):
    """checkout.session.completed|async_payment_succeeded: fulfil the order or pack, only if paid; a
    setup-mode session saved the card auto top-up charges (and turns it on).

    Subscription credits are not granted here but by invoice.paid, so a
    purchase reported by both events is granted once.
    """

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> CheckoutReads:
        checkout = stripe.checkout_session(str(event.object["id"])).value
        saved = None
        if checkout.mode == "setup" and checkout.setup_intent:
            saved = stripe.saved_payment_method(checkout.setup_intent)
        return CheckoutReads(checkout, saved)

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: CheckoutReads) -> Outcome:
        if fetched.checkout.mode == "setup":
            applied = topups_service.complete_setup(
                ctx.session, setup_session_id=fetched.checkout.id,
                payment_method_id=fetched.saved_payment_method, now=ctx.now)
            return "processed" if applied else "ignored"
        checkout_service.fulfil_checkout_session(
            ctx.session, checkout=fetched.checkout, catalog=ctx.catalog, now=ctx.now
        )
        return "processed"


class TopupPayment(Handler):
    """payment_intent.succeeded|payment_failed of an auto top-up (its metadata names the row): grant the
    pack's credits, or turn auto top-up off with a notice, once (the worker's own answer may come first).
    Other payment intents (Checkout's, invoices') are ignored as sent: no Stripe read, no transaction work."""

    def wants(self, event: StripeEventData) -> bool:
        return topup_charges.METADATA_TOPUP in (event.object.get("metadata") or {})

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> StripePaymentIntentData:
        return stripe.payment_intent(str(event.object["id"])).value

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: StripePaymentIntentData) -> Outcome:
        outcome = topup_charges.record_payment_intent(ctx.session, payment_intent=fetched,
                                                      catalog=ctx.catalog, now=ctx.now)
        return "ignored" if outcome == "unknown" else "processed"


class CheckoutExpired(Handler):
    """checkout.session.expired: close coinslot's checkout attempt; the order stays DRAFT, resumable.

    Expiry is final at Stripe, so the event's own id is all it needs: no re-read.
    """

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> None:
        return None

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: None) -> Outcome:
        checkout_service.mark_expired(ctx.session, stripe_session_id=str(event.object["id"]), now=ctx.now)
        return "processed"


class Noted(Handler):
    """Events that need no change: e.g. an async payment that failed leaves the DRAFT order as it is."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> None:
        return None

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: None) -> Outcome:
        return "processed"


@dataclass(frozen=True, slots=True)
class RefundReads:
    charge: StripeChargeData
    checkout: StripeCheckoutSessionData | None
    topup: StripePaymentIntentData | None  # the charge paid an auto top-up (no Checkout)


class ChargeRefunded(Handler):
    """charge.refunded: claw back the credits of the pack or the auto top-up the charge paid for, in
    proportion.

    The rule: every refund on the charge (re-read, oldest first) takes back the
    share of the purchase's credits its amount paid for (`ledger.core.refunded_credits`); a full
    refund takes back all that is left. Each refund is one ledger entry keyed by
    its id (`refund:<re_...>`), so the events of several partial refunds, in any
    order and however often delivered, take back each share once. Spent credits
    become debt (the ledger's rule). A charge of a subscription invoice, or of
    no checkout or top-up coinslot knows, raises alert `refund.unmapped`; a refunded
    one-time product (an order) has no credits to take back.
    """

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> RefundReads:
        charge = stripe.charge(str(event.object["id"])).value
        payment_intent = charge.payment_intent_id
        session_id = stripe.checkout_session_id_for_payment_intent(payment_intent) if payment_intent else None
        checkout = stripe.checkout_session(session_id).value if session_id else None
        # No Checkout: an auto top-up's off-session intent, if its metadata says so.
        paid_by = stripe.payment_intent(payment_intent).value if payment_intent and not checkout else None
        return RefundReads(charge, checkout, paid_by if paid_by and topup_charges.is_topup(paid_by) else None)

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: RefundReads) -> Outcome:
        topup = fetched.topup
        if topup is not None and topup_charges.record_refunds(ctx.session, charge=fetched.charge,
                                                              payment_intent=topup, now=ctx.now):
            return "processed"
        checkout_service.record_refunds(ctx.session, charge=fetched.charge, checkout=fetched.checkout,
                                        now=ctx.now)
        return "processed"


class TestClockMoved(Handler):
    """test_helpers.test_clock.created|advancing|ready: the clock's time, for the customers on it."""

    def fetch(self, event: StripeEventData, stripe: StripeReader) -> None:
        return None  # the event carries the clock's time; only the newest time is kept

    def apply(self, ctx: ApplyContext, event: StripeEventData, fetched: None) -> Outcome:
        frozen_at = from_unix(event.object.get("frozen_time"))
        if (str(event.object["id"]), event.object.get("frozen_time")) in ctx.memo.advanced:
            return "processed"  # recorded before the batch (event_time.settle_batch_clocks)
        if frozen_at is not None:
            test_clocks.advance_clock(ctx.session, test_clock_id=str(event.object["id"]), frozen_at=frozen_at,
                                      now=ctx.now)
            ctx.memo.clocks_moved()
        return "processed"


_subscription_changed = SubscriptionChanged()
_test_clock_moved = TestClockMoved()
_checkout_completed = CheckoutCompleted()
_topup_payment = TopupPayment()

HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "checkout.session.expired": CheckoutExpired(),
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
    "payment_intent.succeeded": _topup_payment,
    "payment_intent.payment_failed": _topup_payment,
    "test_helpers.test_clock.created": _test_clock_moved,
    "test_helpers.test_clock.advancing": _test_clock_moved,
    "test_helpers.test_clock.ready": _test_clock_moved,
}
