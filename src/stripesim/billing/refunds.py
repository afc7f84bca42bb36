"""Refunds: what refunding a charge checks and does, for `/v1/refunds` and for a credit
note that refunds part of a paid invoice."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError
from ..params import get_int, get_str, merge_metadata
from ..store import Store, new_id
from .account_balance import record_refund
from .context import Ctx

__all__ = ["NOUN", "create_refund"]

NOUN = "refund"
_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _charge_for(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    charge_id, pi_id = get_str(params, "charge"), get_str(params, "payment_intent")
    if charge_id and pi_id:
        raise InvalidRequestError("You can only specify one of these parameters: charge, "
                                  "payment_intent.", param="payment_intent")
    if pi_id:
        pi = store.require("payment_intent", pi_id, param="payment_intent")
        if pi["status"] != "succeeded" or not pi.get("latest_charge"):
            raise InvalidRequestError(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable", param="payment_intent")
        charge_id = pi["latest_charge"]
    if not charge_id:
        raise InvalidRequestError("One of the following params should be provided for this "
                                  "request: payment_intent or charge.", code="parameter_missing")
    return store.require("charge", charge_id, param="charge")


def create_refund(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    """Refund a charge (`charge`, or a payment intent's latest) in full or `amount`, from
    create params (unknown ones refused before): stores and announces the refund, updates
    the charge and the account's balance."""
    store = ctx.store
    charge = _charge_for(store, params)
    if charge["status"] != "succeeded":
        raise InvalidRequestError(f"Charge {charge['id']} has not succeeded; it cannot be refunded.",
                                  code="charge_not_refundable", param="charge")
    left = int(charge["amount"]) - int(charge["amount_refunded"])
    amount = get_int(params, "amount", left, minimum=1)
    if left == 0:
        raise InvalidRequestError(f"Charge {charge['id']} has already been refunded.",
                                  code="charge_already_refunded", param="charge")
    if amount is None or amount > left:
        raise InvalidRequestError(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            param="amount")
    now = store.now_for(charge.get("customer"))
    refund = store.insert({
        "id": new_id("re"), "object": NOUN, "amount": amount, "application": None,
        "balance_transaction": None, "charge": charge["id"], "created": now,
        "currency": charge["currency"], "customer": charge.get("customer"),
        "customer_account": None, "description": None,
        "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                         "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": merge_metadata({}, params.get("metadata")),
        "payment_intent": charge.get("payment_intent"),
        "payment_method": charge.get("payment_method"),
        "reason": get_str(params, "reason", choices=_REASONS), "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
    })
    record_refund(store, refund)
    before = ctx.snapshot(charge)
    charge["amount_refunded"] = int(charge["amount_refunded"]) + amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    store.touch()
    ctx.emit("refund.created", refund)
    ctx.emit_update("charge.refunded", charge, before)
    return refund
