"""/v1/refunds: full and partial refunds of a charge (or a payment intent's charge)."""

from __future__ import annotations

import copy
from typing import Any

from ..billing.account_balance import record_refund
from ..errors import InvalidRequestError
from ..pagination import filter_created, paginate
from ..params import get_int, get_str, merge_metadata, reject_unknown
from ..routing import Call, Router
from ..store import new_id

__all__ = ["router"]

router = Router()
NOUN = "refund"
_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _charge_for(call: Call) -> dict[str, Any]:
    params = call.params
    charge_id, pi_id = get_str(params, "charge"), get_str(params, "payment_intent")
    if charge_id and pi_id:
        raise InvalidRequestError("You can only specify one of these parameters: charge, "
                                  "payment_intent.", param="payment_intent")
    if pi_id:
        pi = call.store.require("payment_intent", pi_id, param="payment_intent")
        if pi["status"] != "succeeded" or not pi.get("latest_charge"):
            raise InvalidRequestError(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable", param="payment_intent")
        charge_id = pi["latest_charge"]
    if not charge_id:
        raise InvalidRequestError("One of the following params should be provided for this "
                                  "request: payment_intent or charge.", code="parameter_missing")
    return call.store.require("charge", charge_id, param="charge")


@router.post("/v1/refunds")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"charge", "payment_intent", "amount", "reason", "metadata",
                            "instructions_email", "refund_application_fee", "reverse_transfer",
                            "customer", "currency", "origin"})
    charge = _charge_for(call)
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
    now = call.store.now_for(charge.get("customer"))
    refund = call.store.insert({
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
    record_refund(call.store, refund)
    before = copy.deepcopy(charge)
    charge["amount_refunded"] = int(charge["amount_refunded"]) + amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    call.store.touch()
    call.emit("refund.created", refund)
    call.emit_update("charge.refunded", charge, before)
    return refund


@router.get("/v1/refunds/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.post("/v1/refunds/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"metadata"})
    refund = call.store.require(NOUN, call.path_params["id"])
    before = copy.deepcopy(refund)
    refund["metadata"] = merge_metadata(refund["metadata"], call.params.get("metadata"))
    call.store.touch()
    call.emit_update("refund.updated", refund, before)
    return refund


@router.get("/v1/refunds")
def list_refunds(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "charge",
                            "payment_intent"})
    items = call.store.all(NOUN)
    for field in ("charge", "payment_intent"):
        value = get_str(params, field)
        if value:
            items = [r for r in items if r.get(field) == value]
    return paginate(call, filter_created(items, params), url="/v1/refunds", noun=NOUN)
