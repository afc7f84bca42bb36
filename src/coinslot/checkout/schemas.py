"""Request and response bodies of the checkout, order and customer-summary routes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictInt

from coinslot.limits import QUANTITY_MAX
from coinslot.models import Order

__all__ = [
    "CheckoutStarted",
    "CreateOrder",
    "FulfilAnswer",
    "OrderCheckout",
    "OrderOut",
    "OrderStatusChange",
    "StartCheckout",
    "order_out",
]


HOST_USER_ID = "your app's id for the user"
RETURN_URL = "where Stripe sends the browser back (an allowed origin: COINSLOT_ALLOWED_REDIRECT_ORIGINS)"


class StartCheckout(BaseModel):
    """Name exactly one of plan (+ interval), product, pack (+ quantity) or lookup_key."""

    host_user_id: str = Field(min_length=1, max_length=255, examples=["user_42"], description=HOST_USER_ID)
    email: str | None = Field(default=None, max_length=320,
                              description="the user's email, for the Stripe customer (first time only)")
    name: str | None = Field(default=None, max_length=255, description="the user's name, likewise")
    plan: str | None = Field(default=None, examples=["pro"], description="a subscription plan's catalog key")
    interval: Literal["month", "year"] | None = Field(
        default=None, description="the plan's billing interval (default month)")
    product: str | None = Field(default=None, examples=["consultation"],
                                description="a one-time product's catalog key")
    pack: str | None = Field(default=None, examples=["credits"], description="a credit pack's catalog key")
    lookup_key: str | None = Field(default=None, description="any catalog price, by its Stripe lookup key")
    quantity: StrictInt = Field(default=1, le=QUANTITY_MAX,
                                description="packs: how many (credits of a per-credit pack, or bundles); "
                                            "a per-seat plan: the seats (its min_seats..max_seats)")
    mode: Literal["payment", "subscription"] | None = Field(
        default=None, description="optional: when given it must agree with the price"
    )
    payload: dict[str, Any] | None = Field(
        default=None, description="for a product with accepts_payload: saved as a DRAFT order first"
    )
    success_url: str = Field(examples=["https://app.example.com/billing"], description=RETURN_URL)
    cancel_url: str = Field(examples=["https://app.example.com/pricing"], description=RETURN_URL)


class CheckoutStarted(BaseModel):
    """A Checkout Session to send the browser to."""

    checkout_id: int = Field(description="coinslot's id of the attempt")
    session_id: str = Field(description="Stripe's Checkout Session id (cs_...)")
    url: str = Field(description="redirect the user's browser here")
    mode: str = Field(description="payment, subscription, or setup (a card saved for auto top-up)")
    order_id: str | None = Field(description="the DRAFT order the session pays, if any")
    amount_total_minor: int = Field(description="what the session charges now, in minor units")
    currency: str = Field(description="ISO currency code, lower case")


class FulfilAnswer(BaseModel):
    """The session as Stripe has it now, and what coinslot applied for it."""

    session_id: str = Field(description="Stripe's Checkout Session id")
    status: str | None = Field(description="open, complete or expired")
    payment_status: str = Field(description="paid, unpaid or no_payment_required")
    mode: str = Field(description="payment, subscription, or setup (a card saved for auto top-up)")
    applied: bool = Field(description="true when this call applied it (false: done already, or not paid)")
    reason: str = Field(description="why, in a word: e.g. already_fulfilled, not_paid, or what it applied "
                                    "(auto_topup_on: the card is saved and auto top-up is on)")
    order_id: str | None = Field(description="the order it paid, if any")
    credits: int = Field(description="credits it granted (packs)")


class CreateOrder(BaseModel):
    """A DRAFT order: what the user filled in, saved before payment."""

    host_user_id: str = Field(min_length=1, max_length=255, description=HOST_USER_ID)
    email: str | None = Field(default=None, max_length=320, description="the user's email")
    product: str = Field(description="a one-time product's catalog key (one that accepts a payload)")
    payload: dict[str, Any] = Field(default_factory=dict, description="the form, kept with the order")


class OrderOut(BaseModel):
    """An order and where it stands."""

    id: str = Field(description="the order's id (ord_...)")
    host_user_id: str = Field(description=HOST_USER_ID)
    product: str = Field(description="the product's catalog key")
    status: str = Field(description="draft, paid, fulfilled or canceled")
    payload: dict[str, Any] = Field(description="the form saved with it")
    amount_minor: int = Field(description="its price, in minor units")
    currency: str = Field(description="ISO currency code, lower case")
    checkout_session_id: str | None = Field(description="the Checkout Session that paid (or pays) it")
    created_at: dt.datetime = Field(description="when it was saved")
    paid_at: dt.datetime | None = Field(description="when Stripe's payment was applied")
    fulfilled_at: dt.datetime | None = Field(description="when the host marked it fulfilled")
    canceled_at: dt.datetime | None = Field(description="when it was canceled")


class OrderCheckout(BaseModel):
    """Where Stripe sends the browser back after paying a DRAFT order."""

    success_url: str = Field(description=RETURN_URL)
    cancel_url: str = Field(description=RETURN_URL)
    host_user_id: str | None = Field(default=None, description="when given, the order must be this user's")


class OrderStatusChange(BaseModel):
    """The host moves an order on."""

    status: Literal["fulfilled", "canceled"] = Field(description="fulfilled (after delivery) or canceled")
    host_user_id: str | None = Field(default=None, description="when given, the order must be this user's")


def order_out(order: Order, host_user_id: str) -> OrderOut:
    return OrderOut(
        id=order.public_id,
        host_user_id=host_user_id,
        product=order.product_key,
        status=order.status,
        payload=order.payload,
        amount_minor=order.amount_minor,
        currency=order.currency,
        checkout_session_id=order.stripe_checkout_session_id,
        created_at=order.created_at,
        paid_at=order.paid_at,
        fulfilled_at=order.fulfilled_at,
        canceled_at=order.canceled_at,
    )
