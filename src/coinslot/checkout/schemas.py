"""Request and response bodies of the checkout, order and customer-summary routes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from coinslot.limits import QUANTITY_MAX

__all__ = [
    "CheckoutStarted",
    "CreateOrder",
    "FulfilAnswer",
    "OrderCheckout",
    "OrderOut",
    "OrderStatusChange",
    "StartCheckout",
]


class StartCheckout(BaseModel):
    """Name exactly one of plan (+ interval), product, pack (+ quantity) or lookup_key."""

    host_user_id: str = Field(min_length=1, max_length=255, examples=["user_42"])
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=255)
    plan: str | None = Field(default=None, examples=["pro"])
    interval: Literal["month", "year"] | None = None
    product: str | None = Field(default=None, examples=["consultation"])
    pack: str | None = Field(default=None, examples=["credits"])
    lookup_key: str | None = None
    quantity: int = Field(default=1, le=QUANTITY_MAX)
    mode: Literal["payment", "subscription"] | None = Field(
        default=None, description="optional: when given it must agree with the price"
    )
    payload: dict[str, Any] | None = Field(
        default=None, description="for a product with accepts_payload: saved as a DRAFT order first"
    )
    success_url: str = Field(examples=["https://app.example.com/billing"])
    cancel_url: str = Field(examples=["https://app.example.com/pricing"])


class CheckoutStarted(BaseModel):
    checkout_id: int
    session_id: str
    url: str
    mode: str
    order_id: str | None
    amount_total_minor: int
    currency: str


class FulfilAnswer(BaseModel):
    session_id: str
    status: str | None
    payment_status: str
    mode: str
    applied: bool
    reason: str
    order_id: str | None
    credits: int


class CreateOrder(BaseModel):
    host_user_id: str = Field(min_length=1, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    product: str
    payload: dict[str, Any] = Field(default_factory=dict)


class OrderOut(BaseModel):
    id: str
    host_user_id: str
    product: str
    status: str
    payload: dict[str, Any]
    amount_minor: int
    currency: str
    checkout_session_id: str | None
    created_at: dt.datetime
    paid_at: dt.datetime | None
    fulfilled_at: dt.datetime | None
    canceled_at: dt.datetime | None


class OrderCheckout(BaseModel):
    success_url: str
    cancel_url: str
    host_user_id: str | None = Field(default=None, description="when given, the order must be this user's")


class OrderStatusChange(BaseModel):
    status: Literal["fulfilled", "canceled"]
    host_user_id: str | None = None
