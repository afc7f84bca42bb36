"""Stripe charges (for refunds) and the checkout session a payment came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import stripe

from coinslot.stripe_gateway.client import retrieve_plain
from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_gateway.subscriptions import as_dict
from coinslot.stripe_ids import checked_stripe_id

__all__ = ["StripeChargeData", "StripeCharges", "StripeRefundData", "charge_from_dict", "refund_from_dict"]

# A pending refund already counts in the charge's amount_refunded; failed and canceled ones never do.
_COUNTED_REFUND_STATUSES = ("succeeded", "pending", "requires_action")


@dataclass(frozen=True, slots=True)
class StripeRefundData:
    id: str
    amount_minor: int
    status: str
    created_s: int

    @property
    def counts(self) -> bool:
        """Whether this refund takes money back (is, or may still become, succeeded)."""
        return self.status in _COUNTED_REFUND_STATUSES


@dataclass(frozen=True, slots=True)
class StripeChargeData:
    id: str
    customer_id: str | None
    payment_intent_id: str | None
    currency: str
    amount_minor: int
    amount_refunded_minor: int
    refunded: bool  # fully refunded
    refunds: tuple[StripeRefundData, ...] = ()  # oldest first


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def refund_from_dict(data: Mapping[str, Any]) -> StripeRefundData:
    return StripeRefundData(
        id=str(data["id"]),
        amount_minor=int(data.get("amount") or 0),
        status=str(data.get("status") or ""),
        created_s=int(data.get("created") or 0),
    )


def _oldest_first(refunds: list[StripeRefundData]) -> tuple[StripeRefundData, ...]:
    # Stripe lists newest first; a stable sort on `created` keeps that order reversed within a second.
    return tuple(sorted(reversed(refunds), key=lambda refund: refund.created_s))


def charge_from_dict(data: Mapping[str, Any]) -> StripeChargeData:
    """A charge; its `refunds` when the dict carries them (an expanded charge, or a test's copy)."""
    listed = (data.get("refunds") or {}).get("data") or []
    return StripeChargeData(
        id=str(data["id"]),
        customer_id=_id(data.get("customer")),
        payment_intent_id=_id(data.get("payment_intent")),
        currency=str(data.get("currency") or ""),
        amount_minor=int(data.get("amount") or 0),
        amount_refunded_minor=int(data.get("amount_refunded") or 0),
        refunded=bool(data.get("refunded")),
        refunds=_oldest_first([refund_from_dict(refund) for refund in listed]),
    )


class StripeCharges:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def retrieve(self, charge_id: str) -> StripeChargeData:
        """The charge with every refund made on it (listed: a charge's embedded list is partial)."""
        checked_stripe_id(charge_id, "ch", "py", field="charge_id")
        with translate_stripe_errors(f"read charge {charge_id}"):
            found = retrieve_plain(self._client, "/v1/charges", charge_id)
            listed = self._client.v1.refunds.list(params={"charge": charge_id, "limit": 100})
            refunds = [refund_from_dict(as_dict(refund)) for refund in listed.auto_paging_iter()]
        charge = charge_from_dict({**as_dict(found), "refunds": None})
        return replace(charge, refunds=_oldest_first(refunds))

    def checkout_session_id_for_payment_intent(self, payment_intent_id: str) -> str | None:
        """The checkout session that created this payment intent, if any."""
        with translate_stripe_errors(f"find the checkout session of {payment_intent_id}"):
            page = self._client.v1.checkout.sessions.list(
                params={"payment_intent": payment_intent_id, "limit": 1}
            )
        return page.data[0].id if page.data else None
