"""/v1/setup_intents (create, retrieve, update, confirm, cancel, list), /v1/setup_attempts.

`POST /_sim/setup_intents/{id}/authenticate` plays the customer's 3D Secure
challenge: `{"outcome": "succeed"}` (default) or `"fail"`. The behaviour of
each test card is in `billing.setup`.
"""

from __future__ import annotations

import copy
from typing import Any

from ..billing.context import Ctx, ensure_writable
from ..billing.customers import live_customer
from ..billing.payment_methods import resolve_payment_method
from ..billing.setup import authenticate_setup, confirm_setup, new_setup_intent
from ..cards import decline_error
from ..errors import InvalidRequestError
from ..expand import public
from ..pagination import filter_created, paginate
from ..params import get_bool, get_dict, get_list, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router

__all__ = ["control_router", "router"]

router = Router()
control_router = Router()
NOUN = "setup_intent"
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = _CONFIRMABLE
_CANCEL_REASONS = ("abandoned", "duplicate", "requested_by_customer")


def _intent(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"], param="intent")


def _usable_card(call: Call, pm_id: Any, customer_id: str | None, param: str) -> dict[str, Any]:
    """The card to set up (aliases materialised); refused when another customer owns it."""
    pm = resolve_payment_method(call.store, pm_id, param=param,
                                created=call.store.now_for(customer_id))
    owner = pm.get("customer")
    if owner is not None and owner != customer_id:
        raise InvalidRequestError(
            "The provided PaymentMethod belongs to another Customer. Pass that Customer's id, "
            "or use a PaymentMethod attached to this one.",
            code="payment_method_unexpected_state", param=param)
    return pm


def _set_payment_method(call: Call, si: dict[str, Any], pm_id: Any, param: str) -> None:
    si["payment_method"] = _usable_card(call, pm_id, si.get("customer"), param)["id"]


@router.post("/v1/setup_intents")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"customer", "payment_method", "confirm", "usage", "description",
                            "metadata", "payment_method_types", "automatic_payment_methods",
                            "return_url", "payment_method_options", "use_stripe_sdk",
                            "mandate_data", "flow_directions"})
    customer_id = get_str(params, "customer") or None
    if customer_id:
        live_customer(call.store, customer_id, param="customer")
        ensure_writable(call.store, customer_id)
    types = get_list(params, "payment_method_types")
    if types and any(t != "card" for t in types):
        raise InvalidRequestError("stripesim emulates card payment methods only.",
                                  param="payment_method_types")
    automatic = get_dict(params, "automatic_payment_methods")
    if types and automatic and get_bool(automatic, "enabled"):
        raise InvalidRequestError("You may only specify one of these parameters: "
                                  "automatic_payment_methods, payment_method_types.",
                                  param="automatic_payment_methods")
    usage = get_str(params, "usage", "off_session", choices=("off_session", "on_session"))
    confirm = get_bool(params, "confirm", False)
    if confirm and not params.get("payment_method"):
        raise InvalidRequestError(
            "You cannot confirm this SetupIntent because it's missing a payment method. "
            "Pass `payment_method` or confirm it later.", code="setup_intent_unexpected_state",
            param="payment_method")
    pm = (_usable_card(call, params["payment_method"], customer_id, "payment_method")
          if params.get("payment_method") else None)
    si = new_setup_intent(Ctx(call.sim, call), customer_id=customer_id,
                          created=call.store.now_for(customer_id), usage=str(usage),
                          description=get_str(params, "description") or None,
                          metadata=merge_metadata({}, params.get("metadata")),
                          automatic=not types and (automatic is None
                                                   or bool(get_bool(automatic, "enabled"))))
    if pm is not None:
        si.update(payment_method=pm["id"], status="requires_confirmation")
    if confirm:
        _confirm(call, si)
    return si


def _confirm(call: Call, si: dict[str, Any]) -> None:
    pm = call.store.require("payment_method", si["payment_method"], param="payment_method")
    result = confirm_setup(Ctx(call.sim, call), si, pm)
    if result.outcome == "decline":
        # Like a PaymentIntent: a 402 carrying the (updated) SetupIntent.
        raise decline_error(result, extra={"setup_intent": public(si),
                                           "payment_method": public(pm)})


@router.get("/v1/setup_intents/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"client_secret"})
    return _intent(call)


@router.post("/v1/setup_intents/{id}")
def update(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"customer", "payment_method", "description", "metadata",
                            "payment_method_types", "payment_method_options", "flow_directions"})
    si = _intent(call)
    if si["status"] in ("succeeded", "canceled"):
        raise InvalidRequestError(
            f"You cannot update this SetupIntent because it has a status of {si['status']}.",
            code="setup_intent_unexpected_state")
    ensure_writable(call.store, si.get("customer"))
    before = copy.deepcopy(si)
    try:
        if params.get("customer"):
            if si["customer"] not in (None, params["customer"]):
                raise InvalidRequestError("A SetupIntent's customer cannot be changed once set.",
                                          param="customer")
            si["customer"] = live_customer(call.store, params["customer"], param="customer")["id"]
        if params.get("payment_method"):
            _set_payment_method(call, si, params["payment_method"], "payment_method")
            si["status"] = "requires_confirmation"
        if "description" in params:
            si["description"] = get_str(params, "description") or None
        si["metadata"] = merge_metadata(si["metadata"], params.get("metadata"))
    except Exception:
        si.clear()
        si.update(before)
        raise
    call.store.touch()
    return si


@router.post("/v1/setup_intents/{id}/confirm")
def confirm(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"payment_method", "return_url", "mandate_data",
                                 "payment_method_options", "use_stripe_sdk", "client_secret"})
    si = _intent(call)
    ensure_writable(call.store, si.get("customer"))
    if si["status"] not in _CONFIRMABLE:
        raise InvalidRequestError(
            f"You cannot confirm this SetupIntent because it has a status of {si['status']}.",
            code="setup_intent_unexpected_state")
    if call.params.get("payment_method"):
        _set_payment_method(call, si, call.params["payment_method"], "payment_method")
    if not si.get("payment_method"):
        raise InvalidRequestError(
            "You cannot confirm this SetupIntent because it's missing a payment method. "
            "Update it with a payment method, or pass `payment_method` here.",
            code="setup_intent_unexpected_state", param="payment_method")
    _confirm(call, si)
    return si


@router.post("/v1/setup_intents/{id}/cancel")
def cancel(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"cancellation_reason"})
    si = _intent(call)
    ensure_writable(call.store, si.get("customer"))
    if si["status"] not in _CANCELABLE:
        raise InvalidRequestError(
            f"You cannot cancel this SetupIntent because it has a status of {si['status']}.",
            code="setup_intent_unexpected_state")
    reason = get_str(call.params, "cancellation_reason", choices=_CANCEL_REASONS)
    si.update(status="canceled", cancellation_reason=reason, next_action=None)
    call.store.touch()
    call.emit("setup_intent.canceled", si)
    return si


@router.get("/v1/setup_intents")
def list_intents(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "customer",
                            "payment_method", "attach_to_self", "customer_account"})
    items = call.store.all(NOUN)
    for field in ("customer", "payment_method"):
        value = get_str(params, field)
        if value:
            items = [si for si in items if si.get(field) == value]
    return paginate(call, filter_created(items, params), url="/v1/setup_intents", noun=NOUN)


@router.get("/v1/setup_attempts")
def list_attempts(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created",
                            "setup_intent"})
    si_id = require(params, "setup_intent")
    items = [a for a in call.store.all("setup_attempt") if a["setup_intent"] == si_id]
    return paginate(call, filter_created(items, params), url="/v1/setup_attempts",
                    noun="setup_attempt")


@control_router.post("/_sim/setup_intents/{id}/authenticate")
def authenticate_route(call: Call) -> dict[str, Any]:
    """Answer the 3D Secure challenge of a card set-up: {"outcome": "succeed" | "fail"}."""
    si = call.store.require(NOUN, call.path_params["id"])
    outcome = get_str(call.params, "outcome", "succeed", choices=("succeed", "fail"))
    authenticate(call, si, outcome == "succeed")
    return si


def authenticate(call: Call, si: dict[str, Any], succeed: bool) -> None:
    """The customer answered the 3D Secure challenge of `si` (API control route, 3DS page)."""
    if si["status"] != "requires_action":
        raise InvalidRequestError(f"SetupIntent {si['id']} does not require action "
                                  f"(status {si['status']}).")
    authenticate_setup(Ctx(call.sim, call), si, succeed)
