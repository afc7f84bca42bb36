"""Off-session payments with a saved card (auto top-up), and saving that card first (setup-mode
Checkout, its SetupIntent)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData, session_from_object
from coinslot.stripe_gateway.client import retrieve_plain
from coinslot.stripe_gateway.errors import translate_stripe_errors
from coinslot.stripe_gateway.subscriptions import as_dict
from coinslot.stripe_ids import checked_stripe_id

__all__ = [
    "OffSessionCharge", "SetupSessionRequest", "StripePaymentIntentData", "StripePayments",
    "payment_intent_from_dict",
]


@dataclass(frozen=True, slots=True)
class StripePaymentIntentData:
    id: str
    status: str  # succeeded | requires_payment_method | requires_action | processing | canceled | ...
    amount_minor: int
    currency: str
    customer_id: str | None
    metadata: dict[str, str]
    created: int  # unix seconds
    failure_code: str | None = None  # last_payment_error.code: card_declined, authentication_required...
    failure_message: str | None = None


def payment_intent_from_dict(data: Mapping[str, Any]) -> StripePaymentIntentData:
    error = data.get("last_payment_error") or {}
    customer = data.get("customer")
    return StripePaymentIntentData(
        id=str(data["id"]), status=str(data.get("status") or ""), amount_minor=int(data.get("amount") or 0),
        currency=str(data.get("currency") or ""),
        customer_id=customer if customer is None or isinstance(customer, str) else str(customer["id"]),
        metadata=dict(data.get("metadata") or {}), created=int(data.get("created") or 0),
        failure_code=error.get("code"), failure_message=error.get("message"),
    )


@dataclass(frozen=True, slots=True)
class OffSessionCharge:
    """Stripe's answer to an off-session charge: the intent, succeeded or refused (a 402 carries it)."""

    payment_intent: StripePaymentIntentData

    @property
    def succeeded(self) -> bool:
        return self.payment_intent.status == "succeeded"


@dataclass(frozen=True, slots=True)
class SetupSessionRequest:
    customer_id: str
    currency: str  # of the payments the card is saved for
    success_url: str
    cancel_url: str
    metadata: dict[str, str]
    idempotency_key: str


class StripePayments:
    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client

    def charge_off_session(
        self, *, customer_id: str, payment_method_id: str, amount_minor: int, currency: str,
        metadata: dict[str, str], idempotency_key: str,
    ) -> OffSessionCharge:
        """Charge a saved card with the customer away. A decline or a card asking for authentication is an
        answer, not an error: Stripe's 402 carries the intent, returned with its failure code."""
        params: dict[str, Any] = {
            "amount": amount_minor, "currency": currency, "customer": customer_id,
            "payment_method": payment_method_id, "off_session": True, "confirm": True, "metadata": metadata,
        }
        with translate_stripe_errors(f"charge the saved card of {customer_id}"):
            try:
                obj = self._client.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                )
            except stripe.CardError as exc:
                body: dict[str, Any] = exc.json_body if isinstance(exc.json_body, dict) else {}
                intent = (body.get("error") or {}).get("payment_intent")
                if not intent:
                    raise
                return OffSessionCharge(payment_intent_from_dict(intent))
        return OffSessionCharge(payment_intent_from_dict(as_dict(obj)))

    def retrieve_payment_intent(self, payment_intent_id: str) -> StripePaymentIntentData:
        checked_stripe_id(payment_intent_id, "pi", field="payment_intent")
        with translate_stripe_errors(f"read payment intent {payment_intent_id}"):
            obj = retrieve_plain(self._client, "/v1/payment_intents", payment_intent_id)
        return payment_intent_from_dict(obj)

    def create_setup_session(self, request: SetupSessionRequest) -> StripeCheckoutSessionData:
        """A setup-mode Checkout Session: the customer saves a card for later off-session payments."""
        params: dict[str, Any] = {
            "mode": "setup", "customer": request.customer_id, "currency": request.currency,
            "success_url": request.success_url, "cancel_url": request.cancel_url,
            "metadata": request.metadata, "setup_intent_data": {"metadata": request.metadata},
        }
        with translate_stripe_errors("create a setup checkout session"):
            obj = self._client.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        return session_from_object(obj)

    def saved_payment_method(self, setup_intent_id: str) -> str | None:
        """The card a succeeded SetupIntent saved; None while it has not succeeded."""
        checked_stripe_id(setup_intent_id, "seti", field="setup_intent")
        with translate_stripe_errors(f"read setup intent {setup_intent_id}"):
            data = retrieve_plain(self._client, "/v1/setup_intents", setup_intent_id)
        method = data.get("payment_method")
        if data.get("status") != "succeeded" or not method:
            return None
        return method if isinstance(method, str) else str(method["id"])
