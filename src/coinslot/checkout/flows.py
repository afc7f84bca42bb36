"""Starting Checkout and coming back from it: the use cases that call Stripe.

start_checkout   resolve item + URLs -> price id (Stripe read) -> customer (customers.flows)
                 -> tx1 save the attempt (+ order) -> Stripe create, key `coinslot-checkout-<id>`
                 -> tx2 record the session id and URL (or mark the attempt failed)
fulfil_return    re-read the session from Stripe -> tx fulfil_checkout_session (idempotent with the webhook)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from coinslot.catalog import prices as catalog_prices
from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog
from coinslot.checkout import core, repository, service
from coinslot.container import Container
from coinslot.customers import flows as customer_flows
from coinslot.customers import service as customers_service
from coinslot.errors import CoinslotError, Conflict, InvalidInput, NotFound
from coinslot.models import CheckoutSession, Order
from coinslot.stripe_gateway.checkout import CheckoutSessionRequest, StripeCheckoutSessionData
from coinslot.subscriptions import service as subscriptions_service
from coinslot.topups import flows as topup_flows
from coinslot.urls import check_redirect_url, with_checkout_params

__all__ = [
    "StartedCheckout",
    "create_order",
    "fulfil_return",
    "start_checkout",
    "start_order_checkout",
]


@dataclass(frozen=True, slots=True)
class StartedCheckout:
    checkout_id: int
    session_id: str
    url: str
    mode: str
    order_id: str | None
    amount_total_minor: int
    currency: str


def _price_id(container: Container, item: core.CheckoutItem) -> str:
    return catalog_prices.resolve_price(container.gateway, item.price)


def start_checkout(
    container: Container,
    *,
    host_user_id: str,
    item: core.ItemRequest,
    success_url: str,
    cancel_url: str,
    email: str | None = None,
    name: str | None = None,
    payload: dict[str, Any] | None = None,
) -> StartedCheckout:
    """Start a hosted Checkout for a plan, a one-time product (optionally with an order payload) or a pack."""
    catalog = catalog_service.get_catalog(container.settings)
    resolved = core.resolve_item(catalog, item)
    if payload is not None:
        if resolved.ref.kind != "product":
            raise InvalidInput("only a one-time product takes a payload", field="payload")
        core.check_payload_size(payload, max_bytes=container.settings.order_payload_max_bytes)
    urls = _checked_urls(container, success_url=success_url, cancel_url=cancel_url)
    # The first Stripe call is a read: when Stripe is unreachable, nothing has been written yet.
    price_id = _price_id(container, resolved)
    customer = customer_flows.ensure_stripe_customer(
        container, host_user_id=host_user_id, email=email, name=name
    )
    if resolved.mode == "subscription":
        _close_other_plan_checkout(container, customer_id=customer.id, item=resolved, catalog=catalog)
    with container.db.unit_of_work() as session:
        if resolved.mode == "subscription":
            live = service.live_subscription_checkout(
                session,
                customer_id=customer.id,
                catalog=catalog,
                now=container.clock.now(),
                grace=dt.timedelta(days=container.settings.past_due_grace_days),
            )
            if live is not None:
                return _reused(live, resolved, order_id=None)
        order = None
        if payload is not None:
            order = service.create_order(
                session,
                customer_id=customer.id,
                product_key=resolved.ref.key,
                payload=payload,
                catalog=catalog,
                max_payload_bytes=container.settings.order_payload_max_bytes,
                now=container.clock.now(),
            )
        intent = service.start_intent(
            session, customer_id=customer.id, item=resolved, order=order, now=container.clock.now()
        )
        intent_id, order_id = intent.id, order.public_id if order else None
    return _create_at_stripe(
        container,
        intent_id=intent_id,
        item=resolved,
        price_id=price_id,
        customer_id=customer.stripe_customer_id or "",
        host_user_id=customer.host_user_id,
        order_id=order_id,
        urls=urls,
    )


def _same_item(intent: CheckoutSession, item: core.CheckoutItem) -> bool:
    return (intent.item_kind, intent.item_key, intent.interval, intent.quantity) == (
        item.ref.kind, item.ref.key, item.ref.interval, item.quantity)


def _close_other_plan_checkout(
    container: Container, *, customer_id: int, item: core.CheckoutItem, catalog: Catalog
) -> None:
    """A user who backs out of one plan's Checkout and picks another must not wait a day for the
    first session to expire: it is expired at Stripe first (no transaction open meanwhile). The
    same plan is not closed: a second tab reuses its session (`_reused`)."""
    with container.db.unit_of_work(read_only=True) as session:
        live = service.live_subscription_checkout(
            session,
            customer_id=customer_id,
            catalog=catalog,
            now=container.clock.now(),
            grace=dt.timedelta(days=container.settings.past_due_grace_days),
        )
        stale = live.stripe_session_id if live is not None and not _same_item(live, item) else None
    if stale is not None:
        _close_previous(container, catalog=catalog, session_id=stale)


def _reused(intent: CheckoutSession, item: core.CheckoutItem, *, order_id: str | None) -> StartedCheckout:
    """A checkout still payable answers a second start for the same thing (a second tab, a double
    click): both pages lead to one session, so only one can be paid. Anything else is refused
    (another plan's session that could not be closed first, e.g. a concurrent start)."""
    if not _same_item(intent, item) or intent.stripe_session_id is None or intent.url is None:
        raise Conflict(
            f"a checkout for {intent.item_kind} {intent.item_key!r} is already open for this customer: "
            "pay it or let it expire before starting another",
            code="checkout_open",
        )
    return StartedCheckout(
        intent.id, intent.stripe_session_id, intent.url, intent.mode, order_id,
        item.amount_total_minor, item.price.currency,
    )


def create_order(
    container: Container,
    *,
    host_user_id: str,
    product: str,
    payload: dict[str, Any],
    email: str | None = None,
    name: str | None = None,
) -> Order:
    """Save a DRAFT order (no Stripe call): the form is safe before the user is sent to pay."""
    catalog = catalog_service.get_catalog(container.settings)
    with container.db.unit_of_work() as session:
        now = container.clock.now()
        customer = customers_service.ensure_customer(
            session, host_user_id=host_user_id, email=email, name=name, now=now
        )
        order = service.create_order(
            session,
            customer_id=customer.id,
            product_key=product,
            payload=payload,
            catalog=catalog,
            max_payload_bytes=container.settings.order_payload_max_bytes,
            now=now,
        )
        session.expunge(order)
    return order


def start_order_checkout(
    container: Container, *, order_id: str, success_url: str, cancel_url: str, host_user_id: str | None = None
) -> StartedCheckout:
    """A (new) Checkout for a DRAFT order: the first one, or a resume after an abandoned or expired one.

    A previous session still open is expired first, so the user cannot pay the same order twice.
    """
    catalog = catalog_service.get_catalog(container.settings)
    with container.db.unit_of_work(read_only=True) as session:
        order = service.get_order(session, order_id=order_id, host_user_id=host_user_id)
        customer_id, product_key, status = order.customer_id, order.product_key, order.status
        previous = [
            intent.stripe_session_id
            for intent in repository.open_intents_for_order(session, order.id)
            if intent.stripe_session_id
        ]
        owner = customers_service.get_by_id(session, customer_id=customer_id)
        assert owner is not None  # a foreign key
        host_user = owner.host_user_id
    if status != "draft":
        raise Conflict(f"order {order_id} is {status}: only a draft order can be paid", code="order_state")
    resolved = core.resolve_item(catalog, core.ItemRequest(product=product_key))
    urls = _checked_urls(container, success_url=success_url, cancel_url=cancel_url)
    for session_id in previous:
        _close_previous(container, catalog=catalog, session_id=session_id)
    price_id = _price_id(container, resolved)
    customer = customer_flows.ensure_stripe_customer(container, host_user_id=host_user)
    with container.db.unit_of_work() as session:
        # Locked, then looked at again: a concurrent resume may have opened a session since `previous`.
        order_row = repository.order_by_public_id(session, order_id, for_update=True)
        assert order_row is not None  # read above; orders are never deleted
        live = service.live_order_checkout(session, order=order_row, now=container.clock.now())
        if live is not None:
            return _reused(live, resolved, order_id=order_id)
        intent = service.start_intent(
            session, customer_id=customer.id, item=resolved, order=order_row, now=container.clock.now()
        )
        intent_id = intent.id
    return _create_at_stripe(
        container,
        intent_id=intent_id,
        item=resolved,
        price_id=price_id,
        customer_id=customer.stripe_customer_id or "",
        host_user_id=host_user,
        order_id=order_id,
        urls=urls,
    )


def _close_previous(container: Container, *, catalog: Catalog, session_id: str) -> None:
    """Expire a still-open earlier session; if it was paid meanwhile, fulfil it and refuse the new one."""
    checkout = container.gateway.checkout.retrieve_session(session_id)
    if checkout.status == "open":
        checkout = container.gateway.checkout.expire_session(session_id)
    with container.db.unit_of_work() as session:
        now = container.clock.now()
        if checkout.status == "expired":
            service.mark_expired(session, stripe_session_id=session_id, now=now)
            return
        result = service.fulfil_checkout_session(session, checkout=checkout, catalog=catalog, now=now)
    if result.applied or result.reason == "already_fulfilled":
        what = f"order {result.order_id}" if result.order_id else "the checkout opened earlier"
        raise Conflict(f"{what} was paid meanwhile (session {session_id})", code="order_state")


def _checked_urls(container: Container, *, success_url: str, cancel_url: str) -> tuple[str, str]:
    settings = container.settings
    allowed = [*settings.redirect_origins, settings.public_url.rstrip("/")]
    success = check_redirect_url(success_url, allowed_origins=allowed, field="success_url")
    cancel = check_redirect_url(cancel_url, allowed_origins=allowed, field="cancel_url")
    return (
        with_checkout_params(success, status="success"),
        with_checkout_params(cancel, status="cancel"),
    )


def _create_at_stripe(
    container: Container,
    *,
    intent_id: int,
    item: core.CheckoutItem,
    price_id: str,
    customer_id: str,
    host_user_id: str,
    order_id: str | None,
    urls: tuple[str, str],
) -> StartedCheckout:
    metadata = {service.METADATA_USER: host_user_id, service.METADATA_ITEM: item.metadata_item}
    if order_id:
        metadata[service.METADATA_ORDER] = order_id
    request = CheckoutSessionRequest(
        mode=item.mode,
        customer_id=customer_id,
        client_reference_id=host_user_id,
        price_id=price_id,
        quantity=item.quantity,
        success_url=urls[0],
        cancel_url=urls[1],
        metadata=metadata,
        # Derived from the saved attempt: a retry of this request can never open a second session.
        idempotency_key=f"coinslot-checkout-{intent_id}",
        trial_days=item.trial_days,
        allow_promotion_codes=item.allow_promotion_codes,
        automatic_tax=item.automatic_tax,
        trial_without_card=item.trial_without_card,
    )
    try:
        catalog = catalog_service.get_catalog(container.settings)
        metered = catalog_prices.overage_price_id(container.gateway, catalog, item.price)
        checkout = container.gateway.checkout.create_session(replace(request, metered_price_id=metered))
    except CoinslotError as exc:
        with container.db.unit_of_work() as session:
            service.record_session_failed(
                session, intent_id=intent_id, reason=exc.message, now=container.clock.now()
            )
        raise
    with container.db.unit_of_work() as session:
        service.record_session_created(
            session, intent_id=intent_id, checkout=checkout, now=container.clock.now()
        )
    return StartedCheckout(
        intent_id,
        checkout.id,
        checkout.url or "",
        item.mode,
        order_id,
        item.amount_total_minor,
        item.price.currency,
    )


def fulfil_return(
    container: Container, *, session_id: str, host_user_id: str | None = None
) -> tuple[StripeCheckoutSessionData, service.FulfilResult]:
    """The user is back on the success URL: re-read the session from Stripe and apply it now.

    Whichever of this and the webhook comes first does the work; the other finds it done. A setup-mode
    session saved a card for auto top-up (`POST /v1/customers/{id}/auto_topup`): the card is applied.
    """
    checkout = container.gateway.checkout.retrieve_session(session_id)
    if checkout.mode == "setup":
        confirmed = topup_flows.confirm_setup(container, checkout=checkout, host_user_id=host_user_id)
        reason = "auto_topup_on" if confirmed.saved else "card_not_saved"
        return checkout, service.FulfilResult(confirmed.applied, reason)
    owner = checkout.metadata.get(service.METADATA_USER) or checkout.client_reference_id
    if host_user_id is not None and owner != host_user_id:
        raise NotFound(f"no checkout session {session_id!r} for this user", field="session_id")
    catalog = catalog_service.get_catalog(container.settings)
    with container.db.unit_of_work() as session:
        result = service.fulfil_checkout_session(
            session, checkout=checkout, catalog=catalog, now=container.clock.now()
        )
    _sync_subscription(container, checkout=checkout, catalog=catalog)
    return checkout, result


def _sync_subscription(
    container: Container, *, checkout: StripeCheckoutSessionData, catalog: Catalog
) -> None:
    """Mirror the subscription a paid subscription-mode session created, and grant its first period.

    The webhook does the same on customer.subscription.* and invoice.paid; doing it here
    too means a user who lands before the webhooks sees the new plan at once. Both paths
    are idempotent (snapshot ordering by read time; ledger entry `invoice:<in_...>`).
    """
    if checkout.mode != "subscription" or checkout.subscription is None or checkout.status != "complete":
        return
    gateway = container.gateway
    snapshot = gateway.subscriptions.retrieve(checkout.subscription)
    seen_at_ms = int(container.clock.now().timestamp() * 1000)
    invoice = gateway.invoices.retrieve(checkout.invoice) if checkout.invoice else None
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        if invoice is None:
            subscriptions_service.sync_subscription(session, snapshot=snapshot, catalog=catalog, now=now,
                                                    seen_at_ms=seen_at_ms)
        else:
            subscriptions_service.apply_paid_invoice(
                session, invoice=invoice, subscription=snapshot, seen_at_ms=seen_at_ms, catalog=catalog,
                now=now, renewal_grace=dt.timedelta(days=container.settings.past_due_grace_days),
            )
