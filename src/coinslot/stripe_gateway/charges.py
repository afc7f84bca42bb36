"""Stripe charges (for refunds) and the checkout session a payment came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_gateway.subscriptions import as_dict

__all__ = ["StripeChargeData", "StripeCharges", "charge_from_dict"]


@dataclass(frozen=True, slots=True)
class StripeChargeData:
    id: str
    customer_id: str | None
    payment_intent_id: str | None
    currency: str
    amount_minor: int
    amount_refunded_minor: int
    refunded: bool  # fully refunded


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def charge_from_dict(data: Mapping[str, Any]) -> StripeChargeData:
    return StripeChargeData(
        id=str(data["id"]),
        customer_id=_id(data.get("customer")),
        payment_intent_id=_id(data.get("payment_intent")),
        currency=str(data.get("currency") or ""),
        amount_minor=int(data.get("amount") or 0),
        amount_refunded_minor=int(data.get("amount_refunded") or 0),
        refunded=bool(data.get("refunded")),
    )


class StripeCharges:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def retrieve(self, charge_id: str) -> StripeChargeData:
        with translate_stripe_errors(f"read charge {charge_id}"):
            found = self._client.v1.charges.retrieve(charge_id)
        return charge_from_dict(as_dict(found))

    def checkout_session_id_for_payment_intent(self, payment_intent_id: str) -> str | None:
        """The checkout session that created this payment intent, if any."""
        with translate_stripe_errors(f"find the checkout session of {payment_intent_id}"):
            page = self._client.v1.checkout.sessions.list(
                params={"payment_intent": payment_intent_id, "limit": 1}
            )
        return page.data[0].id if page.data else None
