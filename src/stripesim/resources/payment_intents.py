"""/v1/payment_intents: create, confirm (3DS retry with another card), cancel, list.

Off-session payments (`off_session=true`, `confirm=true`, a card saved on the
customer) go as the test card says: success; a decline answers 402 with the
intent in the error; a card asking for 3D Secure is declined with
`authentication_required` and the intent goes back to
`requires_payment_method` (on-session it would wait in `requires_action`).
`setup_future_usage` saves the paying card on the customer.

`POST /_sim/payment_intents/{id}/authenticate` plays the customer's 3DS
challenge: `{"outcome": "succeed"}` (default) or `"fail"`.
"""

from __future__ import annotations

import copy
from typing import Any

from ..billing.context import Ctx, ensure_writable
from ..billing.customers import live_customer
from ..billing.payment import confirm as confirm_intent
from ..billing.payment import new_payment_intent
from ..billing.payment_methods import resolve_payment_method
from ..cards import decline_error
from ..errors import InvalidRequestError
from ..expand import public
from ..pagination import filter_created, paginate
from ..params import get_bool, get_int, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..search import search

__all__ = ["control_router", "router"]

router = Router()
control_router = Router()
NOUN = "payment_intent"
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


@router.post("/v1/payment_intents")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"amount", "currency", "customer", "payment_method", "confirm",
                            "metadata", "description", "off_session", "receipt_email",
                            "setup_future_usage", "payment_method_types", "statement_descriptor",
                            "automatic_payment_methods", "capture_method", "return_url",
                            "error_on_requires_action"})
    amount = get_int(params, "amount", minimum=1)
    if amount is None:
        require(params, "amount")
    currency = str(require(params, "currency")).lower()
    customer_id = get_str(params, "customer")
    if customer_id:
        live_customer(call.store, customer_id, param="customer")
        ensure_writable(call.store, customer_id)
    off_session = _off_session(params)
    if off_session and not get_bool(params, "confirm"):
        raise InvalidRequestError("`off_session` can only be used when `confirm=true`.",
                                  param="off_session")
    future = get_str(params, "setup_future_usage", choices=("off_session", "on_session"))
    if future and off_session:
        raise InvalidRequestError("You may only specify one of these parameters: off_session, "
                                  "setup_future_usage.", param="setup_future_usage")
    pm = _owned_card(call, params.get("payment_method"), customer_id)
    ctx = Ctx(call.sim, call)
    pi = new_payment_intent(ctx, amount=int(amount or 0), currency=currency,
                            customer_id=customer_id,
                            created=call.store.now_for(customer_id),
                            description=get_str(params, "description") or None,
                            metadata=merge_metadata({}, params.get("metadata")))
    pi["receipt_email"] = get_str(params, "receipt_email") or None
    pi["setup_future_usage"] = future or None
    if pm is not None:
        pi["payment_method"] = pm["id"]
        pi["status"] = "requires_confirmation"
    if get_bool(params, "confirm"):
        _confirm(call, pi, None, off_session=off_session,
                 strict=bool(get_bool(params, "error_on_requires_action")))
    return pi


def _off_session(params: dict[str, Any]) -> bool:
    """`off_session`: true/false, or Stripe's "one_off" / "recurring" (both mean true)."""
    value = params.get("off_session")
    if value in ("one_off", "recurring"):
        return True
    return bool(get_bool(params, "off_session", False))


def _owned_card(call: Call, pm_id: Any, customer_id: str | None) -> dict[str, Any] | None:
    """The card to charge; a card saved on a customer is charged only for that customer."""
    if not pm_id:
        return None
    pm = resolve_payment_method(call.store, pm_id, created=call.store.now_for(customer_id))
    owner = pm.get("customer")
    if owner is not None and owner != customer_id:
        raise InvalidRequestError(
            f"The PaymentMethod {pm['id']} is attached to another Customer than the one given "
            "(or none was given): pass `customer` with the Customer it belongs to.",
            code="payment_method_unexpected_state", param="payment_method")
    return pm


def _confirm(call: Call, pi: dict[str, Any], pm_param: str | None, *,
             off_session: bool = False, strict: bool = False) -> None:
    """Confirm with the card; off-session (or `error_on_requires_action`, `strict`) a card
    that needs 3D Secure is declined instead of waiting for the customer."""
    if pi["status"] not in _CONFIRMABLE:
        raise InvalidRequestError(
            f"This PaymentIntent's status is {pi['status']}, but it must be one of "
            f"{', '.join(_CONFIRMABLE)} to be confirmed.",
            code="payment_intent_unexpected_state", param=None)
    pm_id = pm_param or pi.get("payment_method")
    if not pm_id:
        raise InvalidRequestError(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state")
    pm = _owned_card(call, pm_id, pi.get("customer"))
    assert pm is not None
    result = confirm_intent(Ctx(call.sim, call), pi, pm, off_session=off_session,
                            decline_if_action=off_session or strict)
    if result.outcome == "decline":
        # Stripe answers a declined confirmation with a 402 carrying the (updated) intent.
        raise decline_error(result, extra={"charge": pi["latest_charge"],
                                           "payment_intent": public(pi),
                                           "payment_method": public(pm)})


@router.post("/v1/payment_intents/{id}/confirm")
def confirm(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"payment_method", "return_url", "off_session",
                                 "setup_future_usage", "receipt_email", "mandate_data",
                                 "error_on_requires_action"})
    pi = call.store.require(NOUN, call.path_params["id"])
    ensure_writable(call.store, pi.get("customer"))
    future = get_str(call.params, "setup_future_usage", choices=("off_session", "on_session"))
    if future:
        pi["setup_future_usage"] = future
    _confirm(call, pi, get_str(call.params, "payment_method"),
             off_session=_off_session(call.params),
             strict=bool(get_bool(call.params, "error_on_requires_action")))
    return pi


@router.post("/v1/payment_intents/{id}/cancel")
def cancel(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"cancellation_reason"})
    pi = call.store.require(NOUN, call.path_params["id"])
    if pi["status"] not in (*_CONFIRMABLE, "requires_capture"):
        raise InvalidRequestError(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.",
            code="payment_intent_unexpected_state")
    if pi.get("_invoice"):
        raise InvalidRequestError("You cannot cancel a PaymentIntent created by an invoice; "
                                  "void the invoice instead.", code="payment_intent_unexpected_state")
    pi.update(status="canceled", canceled_at=call.store.now_for(pi.get("customer")),
              cancellation_reason=get_str(call.params, "cancellation_reason") or "requested_by_customer",
              next_action=None)
    call.store.touch()
    call.emit("payment_intent.canceled", pi)
    return pi


@router.get("/v1/payment_intents/search")
def search_intents(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"query", "limit", "page"})
    return search(call, call.store.all(NOUN), fields={"amount", "created", "currency", "customer",
                                                      "metadata", "status"},
                  url="/v1/payment_intents/search")


@router.get("/v1/payment_intents/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.post("/v1/payment_intents/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"metadata", "description", "receipt_email", "payment_method"})
    pi = call.store.require(NOUN, call.path_params["id"])
    before = copy.deepcopy(pi)
    pi["metadata"] = merge_metadata(pi["metadata"], call.params.get("metadata"))
    for key in ("description", "receipt_email"):
        if key in call.params:
            pi[key] = get_str(call.params, key) or None
    if call.params.get("payment_method"):
        pi["payment_method"] = resolve_payment_method(call.store, call.params["payment_method"])["id"]
    call.store.touch()
    call.emit_update("payment_intent.updated", pi, before)
    return pi


@router.get("/v1/payment_intents")
def list_intents(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "customer"})
    items = call.store.all(NOUN)
    customer = get_str(params, "customer")
    if customer:
        items = [p for p in items if p.get("customer") == customer]
    return paginate(call, filter_created(items, params), url="/v1/payment_intents", noun=NOUN)


def authenticate(call: Call, pi: dict[str, Any], succeed: bool) -> None:
    """The customer finished (or failed) the 3DS challenge of `pi`."""
    if pi["status"] != "requires_action":
        raise InvalidRequestError(f"PaymentIntent {pi['id']} does not require action "
                                  f"(status {pi['status']}).")
    ctx = Ctx(call.sim, call)
    pm = call.store.require("payment_method", pi["payment_method"], param="payment_method")
    if succeed:
        confirm_intent(ctx, pi, pm, authenticated=True)
        return
    pi.update(status="requires_payment_method", next_action=None, last_payment_error={
        "advice_code": None, "charge": None, "code": "payment_intent_authentication_failure",
        "decline_code": None, "doc_url": "https://stripe.com/docs/error-codes/"
        "payment-intent-authentication-failure",
        "message": "The provided PaymentMethod has failed authentication.",
        "network_advice_code": None, "network_decline_code": None, "param": None,
        "payment_method": copy.deepcopy(pm), "payment_method_type": "card",
        "type": "invalid_request_error"})
    call.store.touch()
    ctx.emit("payment_intent.payment_failed", pi)


@control_router.post("/_sim/payment_intents/{id}/authenticate")
def authenticate_route(call: Call) -> dict[str, Any]:
    pi = call.store.require(NOUN, call.path_params["id"])
    outcome = get_str(call.params, "outcome", "succeed", choices=("succeed", "fail"))
    authenticate(call, pi, outcome == "succeed")
    return pi
