"""/v1/payment_methods: test cards, attach / detach, list by customer.

A `pm_card_*` alias is not stored: each use (attach, retrieve, customer
create with `payment_method=`) materialises a new `pm_...` remembering the
alias in `_test_card`, which `cards.card_behaviour` reads.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from ..billing.context import ensure_writable
from ..cards import TEST_CARDS, CardSpec, card_behaviour, decline_error, lookup_card
from ..errors import InvalidRequestError, ParameterInvalid, ResourceMissing
from ..pagination import paginate
from ..params import get_dict, get_int, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..shapes import address, blank_address
from ..store import Store, new_id

__all__ = ["attach_payment_method", "control_router", "materialise", "resolve_payment_method",
           "router"]

router = Router()
control_router = Router()
NOUN = "payment_method"
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


def materialise(store: Store, alias: str, *, created: int | None = None,
                exp_month: int = 12, exp_year: int = 2034) -> dict[str, Any]:
    """Store a new card payment method for a test-card alias."""
    spec = lookup_card(alias)
    if spec is None:
        raise ResourceMissing("PaymentMethod", alias)
    pm = {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": blank_address(), "email": None, "name": None,
                            "phone": None, "tax_id": None},
        "card": _card(spec, alias, exp_month, exp_year),
        "created": created if created is not None else store.now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
        "_test_card": alias,
    }
    return store.insert(pm)


def _card(spec: CardSpec, alias: str, exp_month: int, exp_year: int) -> dict[str, Any]:
    return {
        "brand": spec.brand,
        "checks": {"address_line1_check": None, "address_postal_code_check": None,
                   "cvc_check": "unchecked"},
        "country": spec.country,
        "display_brand": spec.brand,
        "exp_month": exp_month,
        "exp_year": exp_year,
        # Same card, same fingerprint: lets integrations spot duplicates, as on Stripe.
        "fingerprint": hashlib.sha256(alias.encode()).hexdigest()[:16],
        "funding": spec.funding,
        "generated_from": None,
        "last4": spec.last4,
        "networks": {"available": [spec.brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def resolve_payment_method(store: Store, pm_id: Any, *, param: str = "payment_method",
                           created: int | None = None) -> dict[str, Any]:
    """A stored payment method, or a fresh one for a `pm_card_*` alias; 404 otherwise."""
    if isinstance(pm_id, str) and pm_id in TEST_CARDS:
        return materialise(store, pm_id, created=created)
    pm = store.get(NOUN, pm_id) if isinstance(pm_id, str) else None
    if pm is None:
        raise ResourceMissing("PaymentMethod", str(pm_id), param=param)
    return pm


def attach_payment_method(call: Call, pm_id: Any, customer: dict[str, Any], *,
                          param: str = "payment_method", announce: bool = True) -> dict[str, Any]:
    """Attach (materialising aliases); 402 for cards Stripe refuses to attach.

    `announce=False` leaves emitting `payment_method.attached` to the caller
    (customer create announces the customer first, as cause precedes effect).
    """
    ensure_writable(call.store, customer["id"])
    spec = lookup_card(pm_id) if isinstance(pm_id, str) else None
    if spec is not None and not spec.attachable:
        charge = card_behaviour({"_test_card": pm_id})
        raise decline_error(charge, param=param)
    pm = resolve_payment_method(call.store, pm_id, param=param,
                                created=call.store.now_for(customer["id"]))
    if pm.get("customer") == customer["id"]:
        return pm
    if pm.get("customer") is not None:
        raise InvalidRequestError(
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state", param=param)
    pm["customer"] = customer["id"]
    call.store.touch()
    if announce:
        call.emit("payment_method.attached", pm)
    return pm


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
    from .customers import live_customer

    reject_unknown(call.params, {"customer", "customer_account"})
    customer = live_customer(call.store, require(call.params, "customer"), param="customer")
    return attach_payment_method(call, call.path_params["id"], customer, param="payment_method")


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
