"""Orders and checkout sessions inside one transaction (no Stripe calls: see `flows.py`)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog
from coinslot.checkout import core, repository
from coinslot.clock import from_unix
from coinslot.customers import service as customers_service
from coinslot.customers import test_clocks
from coinslot.errors import Conflict, InvalidInput, NotFound
from coinslot.ledger import ids as ledger_ids
from coinslot.ledger import service as ledger_service
from coinslot.models import CheckoutSession, Customer, Order
from coinslot.outbound import service as outbound
from coinslot.stripe_gateway.charges import StripeChargeData
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData
from coinslot.subscriptions import service as subscriptions_service

__all__ = [
    "CHECKOUT_LIFETIME",
    "FulfilResult",
    "create_order",
    "fulfil_checkout_session",
    "get_order",
    "list_orders",
    "live_order_checkout",
    "live_subscription_checkout",
    "mark_expired",
    "record_refunds",
    "record_session_created",
    "record_session_failed",
    "set_order_status",
    "start_intent",
]

METADATA_USER = "coinslot_user_id"
METADATA_ITEM = "coinslot_item"
METADATA_ORDER = "coinslot_order_id"
# Stripe's default life of a Checkout Session (coinslot sets no `expires_at`): after it, an attempt
# not yet closed by checkout.session.expired can no longer be paid.
CHECKOUT_LIFETIME = dt.timedelta(hours=24)
# Access reasons of a subscription a second one would bill twice.
_SUBSCRIBED = ("active", "trialing", "past_due_in_grace")


@dataclass(frozen=True, slots=True)
class FulfilResult:
    """What fulfilling a Checkout Session did. `applied` is False for a repeat or an unpaid session."""

    applied: bool
    reason: str  # "fulfilled", "already_fulfilled", "not_paid", "subscription" (granted by invoice.paid);
    # a card set-up for auto top-up: "auto_topup_on", "card_not_saved"
    customer_id: int | None = None
    order_id: str | None = None
    credits: int = 0


# --- orders -------------------------------------------------------------------------------------------


def create_order(
    session: Session,
    *,
    customer_id: int,
    product_key: str,
    payload: dict[str, Any],
    catalog: Catalog,
    max_payload_bytes: int,
    now: dt.datetime,
) -> Order:
    """A DRAFT order for a one-time product, holding the form the user filled in."""
    product = catalog.products.get(product_key)
    if product is None:
        raise NotFound(f"unknown product {product_key!r}", field="product")
    if payload and not product.accepts_payload:
        raise InvalidInput(
            f"product {product_key!r} takes no payload (accepts_payload is off)", field="payload"
        )
    core.check_payload_size(payload, max_bytes=max_payload_bytes)
    order = Order(
        public_id="ord_" + secrets.token_hex(10),
        customer_id=customer_id,
        product_key=product_key,
        payload=payload,
        status="draft",
        amount_minor=product.amount_minor,
        currency=product.currency,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    return order


def get_order(session: Session, *, order_id: str, host_user_id: str | None = None) -> Order:
    """The order `ord_...`; NotFound when it does not exist or belongs to another host user."""
    order = repository.order_by_public_id(session, order_id)
    if order is not None and host_user_id is not None:
        customer = customers_service.get_by_host_user_id(session, host_user_id)
        if customer is None or customer.id != order.customer_id:
            order = None
    if order is None:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    return order


def list_orders(
    session: Session, *, host_user_id: str | None = None, status: str | None = None, limit: int = 50
) -> list[Order]:
    """Newest first, optionally for one host user and one status."""
    return repository.list_orders(
        session, host_user_id=host_user_id, status=status, limit=min(max(limit, 1), 200)
    )


def set_order_status(
    session: Session, *, order_id: str, status: str, host_user_id: str | None = None, now: dt.datetime
) -> Order:
    """The host moves an order on: FULFILLED (after the service was delivered) or CANCELED."""
    if status not in core.HOST_SETTABLE_STATUSES:
        raise InvalidInput(
            f"the host may set an order to fulfilled or canceled, not {status!r}", field="status"
        )
    order = get_order(session, order_id=order_id, host_user_id=host_user_id)
    session.refresh(order, with_for_update=True)
    if order.status == status:
        return order  # a retried call changes nothing
    order.status = core.next_order_status(order.status, status)
    if status == "fulfilled":
        order.fulfilled_at = now
    else:
        order.canceled_at = now
    order.updated_at = now
    return order


# --- checkout sessions --------------------------------------------------------------------------------


def start_intent(
    session: Session, *, customer_id: int, item: core.CheckoutItem, order: Order | None, now: dt.datetime
) -> CheckoutSession:
    """Save the checkout attempt before Stripe is called: its id becomes the idempotency key."""
    if order is not None:
        if order.status != "draft":
            raise Conflict(
                f"order {order.public_id} is {order.status}: only a draft order can be paid",
                code="order_state",
            )
        if order.product_key != item.ref.key or item.ref.kind != "product":
            raise InvalidInput(
                f"order {order.public_id} is for product {order.product_key!r}", field="order_id"
            )
    intent = CheckoutSession(
        customer_id=customer_id,
        item_kind=item.ref.kind,
        item_key=item.ref.key,
        interval=item.ref.interval,
        quantity=item.quantity,
        mode=item.mode,
        order_id=order.id if order else None,
        status="creating",
        created_at=now,
        updated_at=now,
    )
    session.add(intent)
    session.flush()
    return intent


def live_subscription_checkout(
    session: Session, *, customer_id: int, catalog: Catalog, now: dt.datetime, grace: dt.timedelta
) -> CheckoutSession | None:
    """Before a subscription checkout starts: refuse a customer whose subscription grants access
    (Conflict `already_subscribed`: change plan instead), and return their subscription checkout still
    payable, which a second one must not duplicate (two tabs would make two subscriptions).

    Locks the customer row until the caller commits its new attempt, so concurrent starts take turns.
    """
    repository.lock_customer(session, customer_id)
    access = subscriptions_service.plan_access_for(
        session, customer_id=customer_id, catalog=catalog, now=now, grace=grace
    )
    if access.subscription_id is not None and access.reason in _SUBSCRIBED:
        raise Conflict(
            f"the customer already has a {access.status} subscription to {access.plan_key!r}: "
            "change its plan instead of starting a second one",
            code="already_subscribed",
        )
    return repository.live_intent(
        session, customer_id=customer_id, mode="subscription", created_after=now - CHECKOUT_LIFETIME
    )


def live_order_checkout(session: Session, *, order: Order, now: dt.datetime) -> CheckoutSession | None:
    """The order's checkout still payable, if any; call with the order row locked (`for_update`)."""
    return repository.live_intent(
        session, customer_id=order.customer_id, order_id=order.id, created_after=now - CHECKOUT_LIFETIME
    )


def record_session_created(
    session: Session, *, intent_id: int, checkout: StripeCheckoutSessionData, now: dt.datetime
) -> CheckoutSession:
    intent = _intent(session, intent_id)
    intent.stripe_session_id = checkout.id
    intent.url = checkout.url
    intent.status = "open" if intent.status == "creating" else intent.status
    intent.updated_at = now
    return intent


def record_session_failed(session: Session, *, intent_id: int, reason: str, now: dt.datetime) -> None:
    """Stripe refused or could not be reached: the attempt is closed, nothing exists at Stripe for it."""
    intent = _intent(session, intent_id)
    intent.status = "failed"
    intent.failure_reason = reason[:2000]
    intent.updated_at = now


def mark_expired(session: Session, *, stripe_session_id: str, now: dt.datetime) -> None:
    """An abandoned session: closed here too; its order stays DRAFT and can be checked out again."""
    intent = repository.intent_by_stripe_id(session, stripe_session_id, for_update=True)
    if intent is not None and intent.status in ("creating", "open"):
        intent.status = "expired"
        intent.updated_at = now


def _intent(session: Session, intent_id: int) -> CheckoutSession:
    intent = repository.intent_by_id(session, intent_id)
    if intent is None:
        raise NotFound(f"checkout attempt {intent_id} not found")
    return intent


# --- fulfilment ---------------------------------------------------------------------------------------


def fulfil_checkout_session(
    session: Session, *, checkout: StripeCheckoutSessionData, catalog: Catalog, now: dt.datetime
) -> FulfilResult:
    """Apply a paid Checkout Session: its order becomes PAID, its credit pack is credited.

    Idempotent, so the webhook and the user's return to the success URL can both
    call it: the intent row is locked, the ledger entry id is `checkout:<cs_...>`.
    Only a settled session changes anything: `paid`, or `no_payment_required` once complete (a trial, or
    a 100%-off promotion code: nothing was due). Subscription credits are granted by invoice.paid
    (`subscriptions.service.record_paid_invoice`), not here.
    """
    settled = checkout.payment_status == "paid" or (
        checkout.payment_status == "no_payment_required" and checkout.status == "complete")
    if not settled:
        return FulfilResult(False, "not_paid")
    intent = repository.intent_by_stripe_id(session, checkout.id, for_update=True)
    if intent is not None and intent.fulfilled_at is not None:
        return FulfilResult(False, "already_fulfilled", intent.customer_id)
    customer = _customer_of(session, checkout)
    if customer.stripe_test_clock_id is not None:  # test mode: the purchase happens at the clock's time
        now = test_clocks.time_of(session, customer_id=customer.id, now=now)
    kind, key = _item_of(checkout, intent, catalog)
    order_id = _pay_order(
        session, checkout=checkout, intent=intent, host_user_id=customer.host_user_id, now=now
    )
    credits = 0
    if kind == "pack":
        credits = _credit_pack(
            session,
            checkout=checkout,
            intent=intent,
            customer=customer,
            pack_key=key,
            catalog=catalog,
            now=now,
        )
    if intent is not None:
        intent.status = "complete"
        intent.fulfilled_at = now
        intent.updated_at = now
    reason = "subscription" if kind == "plan" else "fulfilled"
    return FulfilResult(True, reason, customer.id, order_id, credits)


def _customer_of(session: Session, checkout: StripeCheckoutSessionData) -> Customer:
    host_user_id = checkout.metadata.get(METADATA_USER) or checkout.client_reference_id
    customer = customers_service.get_by_host_user_id(session, host_user_id) if host_user_id else None
    if customer is None and checkout.customer:
        customer = customers_service.get_by_stripe_id(session, checkout.customer)
    if customer is None:
        # Never a silent drop: not retriable, so the webhook worker dead-letters it at once with an alert.
        raise InvalidInput(
            f"paid checkout session {checkout.id} names no known user "
            f"(metadata {METADATA_USER}={host_user_id!r}, customer {checkout.customer!r})",
            code="missing_metadata", retriable=False,
            field=METADATA_USER,
        )
    return customer


def _item_of(
    checkout: StripeCheckoutSessionData, intent: CheckoutSession | None, catalog: Catalog
) -> tuple[str, str]:
    if intent is not None:
        return intent.item_kind, intent.item_key
    kind, _, key = checkout.metadata.get(METADATA_ITEM, "").partition(":")
    if kind and key:
        return kind, key
    for line in checkout.line_items:
        ref = catalog.item_for_lookup_key(line.lookup_key) if line.lookup_key else None
        if ref is not None:
            return ref.kind, ref.key
    raise InvalidInput(
        f"paid checkout session {checkout.id} names no catalog item "
        f"(metadata {METADATA_ITEM} missing, no line item price in the catalog)",
        code="missing_metadata", retriable=False,
        field=METADATA_ITEM,
    )


def _pay_order(
    session: Session,
    *,
    checkout: StripeCheckoutSessionData,
    intent: CheckoutSession | None,
    host_user_id: str,
    now: dt.datetime,
) -> str | None:
    public_id = checkout.metadata.get(METADATA_ORDER)
    order = None
    if intent is not None and intent.order_id is not None:
        order = repository.order_by_id(session, intent.order_id, for_update=True)
    elif public_id:
        order = repository.order_by_public_id(session, public_id, for_update=True)
    if order is None:
        if public_id:
            raise NotFound(
                f"paid checkout session {checkout.id} names order {public_id}, which does not exist",
                code="missing_metadata", retriable=False,
            )
        return None
    if order.status == "draft":
        order.status = core.next_order_status(order.status, "paid")
        order.stripe_checkout_session_id = checkout.id
        order.stripe_payment_intent_id = checkout.payment_intent
        order.paid_at = now
        order.updated_at = now
        _announce_paid(session, order=order, host_user_id=host_user_id, now=now)
    elif order.stripe_checkout_session_id != checkout.id:
        # A second paid session for one order (two tabs), or a payment for an order the host
        # canceled meanwhile: the money is real, so say so loudly instead of dropping it.
        paid_by = order.stripe_checkout_session_id or "none"
        raise Conflict(
            f"order {order.public_id} is already {order.status} (paid by session {paid_by}); "
            f"session {checkout.id} paid it too: refund it",
            code="order_paid_twice", retriable=False,
        )
    return order.public_id


def _announce_paid(session: Session, *, order: Order, host_user_id: str, now: dt.datetime) -> None:
    """Tell the host (outbox `order.paid`), once: only the draft -> paid move calls this."""
    outbound.enqueue(session, event_type="order.paid", now=now, payload={
        "host_user_id": host_user_id,
        "order_id": order.public_id,
        "product_key": order.product_key,
        "amount_minor": order.amount_minor,
        "currency": order.currency,
        "checkout_session": order.stripe_checkout_session_id,
        "paid_at": now.isoformat(),
    })


def _credit_pack(
    session: Session,
    *,
    checkout: StripeCheckoutSessionData,
    intent: CheckoutSession | None,
    customer: Customer,
    pack_key: str,
    catalog: Catalog,
    now: dt.datetime,
) -> int:
    pack = catalog.packs.get(pack_key)
    if pack is None:
        raise NotFound(f"paid checkout session {checkout.id} is for pack {pack_key!r}, not in the catalog")
    quantity = sum(line.quantity for line in checkout.line_items) or (intent.quantity if intent else 1)
    credits = core.pack_credits(catalog, pack_key, quantity)
    # Counted from the session's creation, not from `now`: the webhook and the return page apply the
    # same session at different moments, and the ledger refuses one entry id with two expiry dates.
    bought_at = from_unix(checkout.created) or now
    expires_at = bought_at + dt.timedelta(days=pack.expires_after_days) if pack.expires_after_days else None
    ledger_service.credit(
        session,
        customer_id=customer.id,
        entry_id=ledger_ids.pack_purchase(checkout.id),
        kind="purchase",
        credits=credits,
        now=now,
        expires_at=expires_at,
        source=ledger_ids.pack_purchase(checkout.id),
        reason=f"pack:{pack_key}",
    )
    return credits


def record_refunds(session: Session, *, charge: StripeChargeData, checkout: StripeCheckoutSessionData | None,
                   now: dt.datetime) -> None:
    """Take back a refunded pack's credits, in proportion, once per refund (`ledger.service.refund_purchase`;
    an auto top-up's charge goes to `topups.charges.record_refunds` instead). A refund of a charge
    coinslot cannot map to a purchase raises alert `refund.unmapped`; a refunded one-time product (an
    order) has no credits to take back."""
    customer = customers_service.get_by_stripe_id(session, charge.customer_id) if charge.customer_id else None
    if checkout is None or customer is None:
        outbound.raise_alert(
            session, code="refund.unmapped", now=now, subject_type="charge", subject_id=charge.id,
            message=f"charge {charge.id} was refunded ({charge.amount_refunded_minor} {charge.currency}) "
            "but coinslot cannot tell which purchase it paid for: review the customer's credits by hand",
        )
        return
    if not checkout.metadata.get(METADATA_ITEM, "").startswith("pack:"):
        return  # an order's product: no credits were granted for it
    ledger_service.refund_purchase(session, customer_id=customer.id,
                                   source=ledger_ids.pack_purchase(checkout.id),
                                   charge_amount_minor=charge.amount_minor, refunds=charge.refunds, now=now)
