"""/v1/promotion_codes: customer-facing codes for a coupon (this API version's shape:
`promotion: {type: "coupon", coupon}`); create, retrieve, update, list.

A code is unique among active codes, case-insensitively (customers type it);
`restrictions` (first-time customers, a minimum amount in one currency), a
`customer`, `expires_at` and `max_redemptions` are checked when it is
redeemed (`billing.discounts.check_promotion`).
"""

from __future__ import annotations

import copy
import re
import secrets
import string
from typing import Any

from ..billing.customers import live_customer
from ..billing.discounts import find_active_code
from ..errors import InvalidRequestError, ParameterInvalid
from ..pagination import filter_created, paginate
from ..params import get_bool, get_dict, get_int, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router
from ..store import Store, new_id

__all__ = ["router"]

router = Router()
NOUN = "promotion_code"
_CODE = re.compile(r"[A-Za-z0-9_-]{1,500}")


def _new_code(store: Store) -> str:
    alphabet = string.ascii_uppercase + string.digits
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(8))
        if find_active_code(store, code) is None:
            return code


def _restrictions(params: dict[str, Any]) -> dict[str, Any]:
    raw = get_dict(params, "restrictions") or {}
    unknown = set(raw) - {"first_time_transaction", "minimum_amount", "minimum_amount_currency"}
    if unknown:
        key = sorted(unknown)[0]
        raise ParameterInvalid(f"restrictions[{key}]",
                               f"Received unknown parameter: restrictions[{key}]",
                               code="parameter_unknown")
    minimum = get_int(raw, "minimum_amount", minimum=0, param="restrictions[minimum_amount]")
    currency = (get_str(raw, "minimum_amount_currency",
                        param="restrictions[minimum_amount_currency]") or "").lower() or None
    if (minimum is None) != (currency is None):
        raise InvalidRequestError("`restrictions[minimum_amount]` and "
                                  "`restrictions[minimum_amount_currency]` go together.",
                                  param="restrictions[minimum_amount_currency]")
    return {"first_time_transaction": bool(get_bool(raw, "first_time_transaction", False,
                                                    param="restrictions[first_time_transaction]")),
            "minimum_amount": minimum, "minimum_amount_currency": currency}


@router.post("/v1/promotion_codes")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"promotion", "code", "active", "customer", "expires_at",
                            "max_redemptions", "restrictions", "metadata", "customer_account"})
    promotion = get_dict(params, "promotion")
    if not promotion:
        require(params, "promotion")
    assert promotion is not None
    get_str(promotion, "type", choices=("coupon",), param="promotion[type]") or require(
        {}, "promotion[type]")
    coupon = call.store.require("coupon", require(promotion, "coupon") if promotion.get("coupon")
                                else require({}, "promotion[coupon]"), param="promotion[coupon]")
    if coupon.get("deleted"):
        call.store.require("coupon", "", param="promotion[coupon]")
    code = get_str(params, "code") or _new_code(call.store)
    if not _CODE.fullmatch(code):
        raise ParameterInvalid("code", "A promotion code may only contain letters, digits, `_` "
                                       "and `-`.")
    active = get_bool(params, "active", True)
    if active and find_active_code(call.store, code) is not None:
        raise InvalidRequestError("An active promotion code with that code already exists.",
                                  code="resource_already_exists", param="code")
    customer = get_str(params, "customer") or None
    if customer:
        live_customer(call.store, customer, param="customer")
    now = call.store.now()
    expires_at = get_int(params, "expires_at")
    if expires_at is not None and expires_at <= now:
        raise ParameterInvalid("expires_at", "expires_at must be in the future.")
    promo = call.store.insert({
        "id": new_id("promo"), "object": NOUN, "active": bool(active), "code": code,
        "created": now, "customer": customer, "customer_account": None,
        "expires_at": expires_at, "livemode": False,
        "max_redemptions": get_int(params, "max_redemptions", minimum=1),
        "metadata": merge_metadata({}, params.get("metadata")),
        "promotion": {"coupon": coupon["id"], "type": "coupon"},
        "restrictions": _restrictions(params), "times_redeemed": 0,
    })
    call.emit("promotion_code.created", promo)
    return promo


def _promo(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.get("/v1/promotion_codes/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _promo(call)


@router.post("/v1/promotion_codes/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"active", "metadata"})
    promo = _promo(call)
    before = copy.deepcopy(promo)
    active = get_bool(call.params, "active")
    if active and not promo["active"]:
        holder = find_active_code(call.store, promo["code"])
        if holder is not None:
            raise InvalidRequestError(f"Another active promotion code ({holder['id']}) already "
                                      "uses this code.", param="active")
    if active is not None:
        promo["active"] = active
    promo["metadata"] = merge_metadata(promo["metadata"], call.params.get("metadata"))
    call.store.touch()
    call.emit_update("promotion_code.updated", promo, before)
    return promo


@router.get("/v1/promotion_codes")
def list_codes(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "active",
                            "code", "coupon", "customer", "customer_account"})
    items = call.store.all(NOUN)
    active = get_bool(params, "active")
    if active is not None:
        items = [p for p in items if p["active"] == active]
    code = get_str(params, "code")
    if code:
        items = [p for p in items if p["code"].upper() == code.upper()]
    coupon = get_str(params, "coupon")
    if coupon:
        items = [p for p in items if p["promotion"]["coupon"] == coupon]
    customer = get_str(params, "customer")
    if customer:
        items = [p for p in items if p["customer"] == customer]
    return paginate(call, filter_created(items, params), url="/v1/promotion_codes", noun=NOUN)
