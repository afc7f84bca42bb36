"""Stripe Checkout Sessions: create, re-read, expire, and the dataclasses they return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import stripe

from coinslot.stripe_gateway.client import retrieve_plain
from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_ids import checked_stripe_id

__all__ = [
    "CheckoutSessionRequest", "StripeCheckout", "StripeCheckoutSessionData", "StripeLineItem",
    "session_from_object",
]

_EXPAND = ["line_items", "line_items.data.price"]


@dataclass(frozen=True, slots=True)
class StripeLineItem:
    price_id: str
    lookup_key: str | None
    quantity: int


@dataclass(frozen=True, slots=True)
class StripeCheckoutSessionData:
    id: str
    url: str | None
    status: str | None  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    mode: str  # payment | subscription | setup
    customer: str | None
    subscription: str | None
    payment_intent: str | None
    invoice: str | None
    metadata: dict[str, str]
    client_reference_id: str | None
    amount_total: int | None
    currency: str | None
    line_items: tuple[StripeLineItem, ...] = ()
    livemode: bool = False
    created: int | None = None  # unix seconds
    setup_intent: str | None = None  # setup mode: the SetupIntent that saved the card


@dataclass(frozen=True, slots=True)
class CheckoutSessionRequest:
    """What coinslot asks Stripe for; built by `checkout.flows` from the catalog."""

    mode: Literal["payment", "subscription"]
    customer_id: str
    client_reference_id: str
    price_id: str
    quantity: int
    success_url: str
    cancel_url: str
    metadata: dict[str, str]
    idempotency_key: str
    trial_days: int = 0
    allow_promotion_codes: bool = False
    automatic_tax: bool = False
    # A plan with overage: its metered price, the subscription's second item (no quantity: usage bills it).
    metered_price_id: str | None = None
    # A trial without a card: Checkout asks for none, and Stripe does this at the trial's end without one
    # ("cancel", "pause", "create_invoice"); None: a card is asked for before the trial starts.
    trial_without_card: str | None = None


def _id(value: Any) -> str | None:
    """An expandable field: an id, or the expanded object whose id we want."""
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def session_from_object(obj: Any) -> StripeCheckoutSessionData:
    # stripe 16's objects are not dicts: read them as plain data, once.
    data: dict[str, Any] = obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)
    items: list[StripeLineItem] = []
    for item in (data.get("line_items") or {}).get("data") or []:
        price = item.get("price")
        items.append(
            StripeLineItem(
                price_id=_id(price) or "",
                quantity=int(item.get("quantity") or 0),
                lookup_key=price.get("lookup_key") if isinstance(price, dict) else None,
            )
        )
    return StripeCheckoutSessionData(
        id=data["id"],
        url=data.get("url"),
        status=data.get("status"),
        payment_status=data.get("payment_status") or "unpaid",
        mode=data.get("mode") or "payment",
        customer=_id(data.get("customer")),
        subscription=_id(data.get("subscription")),
        payment_intent=_id(data.get("payment_intent")),
        invoice=_id(data.get("invoice")),
        metadata=dict(data.get("metadata") or {}),
        client_reference_id=data.get("client_reference_id"),
        amount_total=data.get("amount_total"),
        currency=data.get("currency"),
        line_items=tuple(items),
        livemode=bool(data.get("livemode")),
        created=data.get("created"),
        setup_intent=_id(data.get("setup_intent")),
    )


def _params(request: CheckoutSessionRequest) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": request.mode,
        "customer": request.customer_id,
        "client_reference_id": request.client_reference_id,
        "line_items": [{"price": request.price_id, "quantity": request.quantity}]
        + ([{"price": request.metered_price_id}] if request.metered_price_id else []),
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "metadata": request.metadata,
        "expand": _EXPAND,
    }
    # The same metadata on the object that outlives the session, so invoice and refund
    # events (which never see the session) can still name the user and the order.
    if request.mode == "subscription":
        subscription_data: dict[str, Any] = {"metadata": request.metadata}
        if request.trial_days:
            subscription_data["trial_period_days"] = request.trial_days
        if request.trial_days and request.trial_without_card:
            params["payment_method_collection"] = "if_required"
            subscription_data["trial_settings"] = {
                "end_behavior": {"missing_payment_method": request.trial_without_card}}
        params["subscription_data"] = subscription_data
    else:
        params["payment_intent_data"] = {"metadata": request.metadata}
    if request.allow_promotion_codes:
        params["allow_promotion_codes"] = True
    if request.automatic_tax:
        params["automatic_tax"] = {"enabled": True}
        # Stripe refuses automatic tax for an existing customer without an address
        # (customer_tax_location_invalid) unless Checkout may save the address the buyer types.
        params["customer_update"] = {"address": "auto"}
    return params


class StripeCheckout:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def create_session(self, request: CheckoutSessionRequest) -> StripeCheckoutSessionData:
        with translate_stripe_errors("create checkout session"):
            obj = self._client.v1.checkout.sessions.create(
                params=_params(request),  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        return session_from_object(obj)

    def retrieve_session(self, session_id: str) -> StripeCheckoutSessionData:
        """Stripe's current copy of the session, with its line items and their prices."""
        checked_stripe_id(session_id, "cs", field="session_id")
        with translate_stripe_errors(f"retrieve checkout session {session_id}"):
            obj = retrieve_plain(self._client, "/v1/checkout/sessions", session_id, expand=_EXPAND)
        return session_from_object(obj)

    def expire_session(self, session_id: str) -> StripeCheckoutSessionData:
        checked_stripe_id(session_id, "cs", field="session_id")
        with translate_stripe_errors(f"expire checkout session {session_id}"):
            obj = self._client.v1.checkout.sessions.expire(session_id, params={"expand": _EXPAND})
        return session_from_object(obj)
