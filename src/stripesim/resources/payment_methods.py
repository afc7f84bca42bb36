"""/v1/payment_methods: test cards, attach / detach, list by customer (the objects
themselves, and aliases like `pm_card_visa`, are `billing.payment_methods`)."""

from __future__ import annotations

import copy
from typing import Any

from ..billing.context import Ctx, ensure_writable
from ..billing.customers import live_customer
from ..billing.payment_methods import NOUN, attach_payment_method, materialise, resolve_payment_method
from ..cards import TEST_CARDS, lookup_card
from ..errors import InvalidRequestError, ParameterInvalid, ResourceMissing
from ..pagination import paginate
from ..params import get_dict, get_int, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..shapes import address

__all__ = ["control_router", "router"]

router = Router()
control_router = Router()
_BY_NUMBER = {"4242424242424242": "pm_card_visa", "4000056655665556": "pm_card_visa_debit",
              "5555555555554444": "pm_card_mastercard", "378282246310005": "pm_card_amex",
              "4000000000000002": "pm_card_visa_chargeDeclined",
              "4000000000000341": "pm_card_chargeCustomerFail",
              "4000000000003220": "pm_card_threeDSecure2Required",
              "4000002760003184": "pm_card_authenticationRequired",
              "4000002500003155": "pm_card_authenticationRequiredOnSetup",
              "4000000000009995": "pm_card_visa_chargeDeclinedInsufficientFunds",
              "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
              "4000000000009987": "pm_card_visa_chargeDeclinedLostCard",
              "4000000000009979": "pm_card_visa_chargeDeclinedStolenCard"}


@router.post("/v1/payment_methods")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"type", "card", "billing_details", "metadata", "allow_redisplay",
                            "customer", "payment_method"})
    get_str(params, "type", choices=("card",))
    card = get_dict(params, "card") or {}
    alias = _alias_from_card(card)
    pm = materialise(call.store, alias,
                     exp_month=get_int(card, "exp_month", 12, minimum=1, maximum=12,
                                       param="card[exp_month]") or 12,
                     exp_year=get_int(card, "exp_year", 2034, param="card[exp_year]") or 2034)
    _apply(pm, params)
    return pm


def _alias_from_card(card: dict[str, Any]) -> str:
    token = card.get("token")
    if token:
        alias = "pm_card_" + str(token).removeprefix("tok_")
        if alias not in TEST_CARDS:
            raise ResourceMissing("token", str(token), param="card[token]")
        return alias
    number = str(require(card, "number") if card else require({}, "card")).replace(" ", "")
    if number not in _BY_NUMBER:
        raise ParameterInvalid("card[number]", "Your card number is incorrect.",
                               code="incorrect_number")
    return _BY_NUMBER[number]


def _apply(pm: dict[str, Any], params: dict[str, Any]) -> None:
    pm["metadata"] = merge_metadata(pm["metadata"], params.get("metadata"))
    if "allow_redisplay" in params:
        pm["allow_redisplay"] = get_str(params, "allow_redisplay",
                                        choices=("always", "limited", "unspecified"))
    details = get_dict(params, "billing_details")
    if details:
        target = pm["billing_details"]
        for key, value in details.items():
            if key == "address":
                target["address"] = address(value, "billing_details[address]", target["address"])
            elif key in ("email", "name", "phone", "tax_id"):
                target[key] = value or None
            else:
                raise ParameterInvalid(f"billing_details[{key}]",
                                       f"Received unknown parameter: billing_details[{key}]")


@router.get("/v1/payment_methods/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return resolve_payment_method(call.store, call.path_params["id"], param="id")


@router.post("/v1/payment_methods/{id}")
def update(call: Call) -> dict[str, Any]:
    pm = resolve_payment_method(call.store, call.path_params["id"], param="id")
    params = call.params
    reject_unknown(params, {"metadata", "billing_details", "allow_redisplay", "card"})
    ensure_writable(call.store, pm.get("customer"))
    before = copy.deepcopy(pm)
    card = get_dict(params, "card") or {}
    for key in ("exp_month", "exp_year"):
        if key in card:
            pm["card"][key] = get_int(card, key, param=f"card[{key}]")
    _apply(pm, params)
    call.store.touch()
    call.emit_update("payment_method.updated", pm, before)
    return pm


@router.post("/v1/payment_methods/{id}/attach")
def attach(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"customer", "customer_account"})
    customer = live_customer(call.store, require(call.params, "customer"), param="customer")
    return attach_payment_method(Ctx(call.sim, call), call.path_params["id"], customer,
                                 param="payment_method")


@router.post("/v1/payment_methods/{id}/detach")
def detach(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, set())
    pm = resolve_payment_method(call.store, call.path_params["id"], param="payment_method")
    customer_id = pm.get("customer")
    if customer_id is None:
        raise InvalidRequestError("The payment method you provided is not attached to a customer "
                                  "so detachment is impossible.",
                                  code="payment_method_unexpected_state", param="payment_method")
    ensure_writable(call.store, customer_id)
    pm["customer"] = None
    call.store.touch()
    call.emit("payment_method.detached", pm)
    _forget_default(call, customer_id, pm["id"])
    return pm


def _forget_default(call: Call, customer_id: str, pm_id: str) -> None:
    """A detached card stops being the customer's default, with customer.updated."""
    customer = call.store.get("customer", customer_id)
    if customer is None or customer.get("deleted"):
        return
    if customer["invoice_settings"].get("default_payment_method") == pm_id:
        before = copy.deepcopy(customer)
        customer["invoice_settings"]["default_payment_method"] = None
        call.emit_update("customer.updated", customer, before)


def _list_for(call: Call, customer_id: str | None, url: str) -> dict[str, Any]:
    pm_type = get_str(call.params, "type")
    items = [pm for pm in call.store.all(NOUN)
             if (customer_id is None or pm.get("customer") == customer_id)
             and (pm_type is None or pm["type"] == pm_type)]
    return paginate(call, items, url=url, noun=NOUN)


@router.get("/v1/payment_methods")
def list_payment_methods(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"customer", "type", "limit", "starting_after", "ending_before",
                                 "customer_account", "allow_redisplay"})
    customer_id = get_str(call.params, "customer")
    if customer_id:
        call.store.require("customer", customer_id, param="customer")
    return _list_for(call, customer_id, "/v1/payment_methods")


@router.get("/v1/customers/{customer}/payment_methods")
def list_customer_payment_methods(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"type", "limit", "starting_after", "ending_before",
                                 "allow_redisplay"})
    customer_id = call.path_params["customer"]
    call.store.require("customer", customer_id, param="customer")
    return _list_for(call, customer_id, f"/v1/customers/{customer_id}/payment_methods")


@router.get("/v1/customers/{customer}/payment_methods/{id}")
def retrieve_customer_payment_method(call: Call) -> dict[str, Any]:
    pm = call.store.get(NOUN, call.path_params["id"])
    if pm is None or pm.get("customer") != call.path_params["customer"]:
        raise ResourceMissing("PaymentMethod", call.path_params["id"], param="payment_method")
    return pm


@control_router.post("/_sim/payment_methods/{id}/behave_like")
def behave_like(call: Call) -> dict[str, Any]:
    """Test helper: charges on this stored card now go as on test card `card`, e.g.
    `pm_card_visa_chargeDeclinedLostCard` (a card reported lost after it was attached)."""
    pm = call.store.require(NOUN, call.path_params["id"], noun="PaymentMethod")
    alias = str(require(call.params, "card"))
    if lookup_card(alias) is None:
        raise ParameterInvalid("card", f"Unknown test card: {alias}.")
    pm["_test_card"] = alias
    call.store.touch()
    return pm
