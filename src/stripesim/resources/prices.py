"""/v1/prices: create (with `product` or `product_data`), update, list, search.

Amounts are immutable after creation, as on Stripe. A lookup key belongs to
one price at a time: `transfer_lookup_key=true` moves it atomically.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ..errors import InvalidRequestError, ParameterInvalid, ParameterMissing
from ..pagination import filter_created, paginate
from ..params import get_bool, get_dict, get_int, get_list, get_str, merge_metadata, reject_unknown
from ..routing import Call, Router
from ..search import search
from ..store import new_id
from .currency_options import apply_currency_options
from .product_objects import create_product

__all__ = ["create_price", "router"]

router = Router()
NOUN = "price"
_CREATE = {"currency", "product", "product_data", "unit_amount", "unit_amount_decimal",
           "custom_unit_amount", "recurring", "lookup_key", "transfer_lookup_key", "metadata",
           "nickname", "active", "tax_behavior", "billing_scheme", "transform_quantity",
           "currency_options", "tiers", "tiers_mode"}
_UPDATE = {"active", "lookup_key", "transfer_lookup_key", "metadata", "nickname",
           "tax_behavior", "currency_options"}
_INTERVALS = ("day", "week", "month", "year")
_MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}
_TAX_BEHAVIORS = ("inclusive", "exclusive", "unspecified")


def create_price(call: Call, params: dict[str, Any], *, param_prefix: str = "") -> dict[str, Any]:
    """Validate, store and announce a price (also used by products' default_price_data)."""
    def name(p: str) -> str:
        return f"{param_prefix}[{p}]" if param_prefix else p

    store = call.store
    currency = str(params.get("currency") or "")
    if not currency:
        raise ParameterMissing(name("currency"))
    if not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise ParameterInvalid(name("currency"), f"Invalid currency: {currency}")
    if get_str(params, "billing_scheme", "per_unit", choices=("per_unit", "tiered"),
               param=name("billing_scheme")) == "tiered" or params.get("tiers"):
        raise InvalidRequestError("stripesim does not emulate tiered prices; use per_unit.",
                                  param=name("billing_scheme"))
    price: dict[str, Any] = {
        "id": new_id("price"), "object": "price",
        "active": get_bool(params, "active", True, param=name("active")),
        "billing_scheme": "per_unit", "created": store.now(), "currency": currency.lower(),
        "custom_unit_amount": None, "livemode": False, "lookup_key": None,
        "metadata": merge_metadata({}, params.get("metadata"), param=name("metadata")),
        "nickname": get_str(params, "nickname", param=name("nickname")) or None,
        "product": None, "recurring": _recurring(get_dict(params, "recurring"), name),
        "tax_behavior": get_str(params, "tax_behavior", "unspecified", choices=_TAX_BEHAVIORS,
                                param=name("tax_behavior")),
        "tiers_mode": None, "transform_quantity": _transform(params, name),
        "type": "one_time", "unit_amount": None, "unit_amount_decimal": None,
    }
    price["type"] = "recurring" if price["recurring"] else "one_time"
    _check_meter(call, price["recurring"], name)
    _amounts(price, params, name)
    apply_currency_options(price, params, name("currency_options"))
    key = get_str(params, "lookup_key", param=name("lookup_key"))
    transfer = get_bool(params, "transfer_lookup_key", False, param=name("transfer_lookup_key"))
    if key:
        _lookup_key_holder(call, price, key, bool(transfer))  # refuse before creating anything
    price["product"] = _product(call, params, name)
    store.insert(price)
    if key:
        _take_lookup_key(call, price, key, bool(transfer))
    call.emit("price.created", price)
    return price


def _recurring(spec: dict[str, Any] | None, name: Any) -> dict[str, Any] | None:
    if not spec:
        return None
    interval = spec.get("interval")
    if not interval:
        raise ParameterMissing(name("recurring[interval]"))
    if interval not in _INTERVALS:
        raise ParameterInvalid(name("recurring[interval]"),
                               f"Invalid recurring[interval]: must be one of {', '.join(_INTERVALS)}")
    count = get_int(spec, "interval_count", 1, minimum=1, maximum=_MAX_INTERVAL_COUNT[interval],
                    param=name("recurring[interval_count]")) or 1
    usage = get_str(spec, "usage_type", "licensed", choices=("licensed", "metered"),
                    param=name("recurring[usage_type]"))
    meter = get_str(spec, "meter", param=name("recurring[meter]"))
    if usage == "metered" and not meter:
        raise ParameterMissing(name("recurring[meter]"))
    return {"interval": interval, "interval_count": count, "meter": meter,
            "trial_period_days": get_int(spec, "trial_period_days", minimum=1,
                                         param=name("recurring[trial_period_days]")),
            "usage_type": usage}


def _check_meter(call: Call, recurring: dict[str, Any] | None, name: Any) -> None:
    """A metered price bills a meter that exists; only metered prices name one."""
    meter = (recurring or {}).get("meter")
    if not meter:
        return
    if recurring and recurring["usage_type"] != "metered":
        raise ParameterInvalid(name("recurring[meter]"),
                               "`recurring[meter]` goes with `recurring[usage_type]=metered` only.")
    call.store.require("billing.meter", meter, param=name("recurring[meter]"),
                       noun="billing.meter")


def _transform(params: dict[str, Any], name: Any) -> dict[str, Any] | None:
    spec = get_dict(params, "transform_quantity", param=name("transform_quantity"))
    if not spec:
        return None
    return {"divide_by": get_int(spec, "divide_by", minimum=1,
                                 param=name("transform_quantity[divide_by]")),
            "round": get_str(spec, "round", choices=("up", "down"),
                             param=name("transform_quantity[round]"))}


def _amounts(price: dict[str, Any], params: dict[str, Any], name: Any) -> None:
    custom = get_dict(params, "custom_unit_amount", param=name("custom_unit_amount"))
    if "unit_amount" in params:
        amount = get_int(params, "unit_amount", minimum=0, param=name("unit_amount"))
        price["unit_amount"], price["unit_amount_decimal"] = amount, str(amount)
    elif "unit_amount_decimal" in params:
        raw = str(params["unit_amount_decimal"])
        if not re.fullmatch(r"\d+(\.\d{1,12})?", raw):
            raise ParameterInvalid(name("unit_amount_decimal"), f"Invalid decimal: {raw}")
        whole, _, fraction = raw.partition(".")
        # Integer-valued decimals give an integer unit_amount; fractional ones leave it null.
        price["unit_amount"] = int(whole) if not fraction.strip("0") else None
        price["unit_amount_decimal"] = raw
    elif custom:
        price["custom_unit_amount"] = {
            key: get_int(custom, key, minimum=0, param=name(f"custom_unit_amount[{key}]"))
            for key in ("maximum", "minimum", "preset")}
    else:
        raise ParameterMissing(name("unit_amount"))


def _product(call: Call, params: dict[str, Any], name: Any) -> str:
    product_id, data = params.get("product"), get_dict(params, "product_data")
    if product_id and data:
        raise ParameterInvalid(name("product_data"),
                               "You may only specify one of these parameters: product, product_data.")
    if data:
        return str(create_product(call, data, param_prefix=name("product_data") + "[")["id"])
    if not product_id:
        raise ParameterMissing(name("product"))
    call.store.require("product", product_id, param=name("product"), noun="product")
    return str(product_id)


def _lookup_key_holder(call: Call, price: dict[str, Any], key: str,
                       transfer: bool) -> dict[str, Any] | None:
    """The other price holding `key`; 400 when it exists and `transfer` is not set."""
    if len(key) > 200:
        raise ParameterInvalid("lookup_key", "Lookup keys may be at most 200 characters long.")
    holder = next((p for p in call.store.all(NOUN)
                   if p["lookup_key"] == key and p["id"] != price["id"]), None)
    if holder is not None and not transfer:
        raise InvalidRequestError(
            f"A price (`{holder['id']}`) already uses that lookup key.",
            code="lookup_key_already_exists", param="lookup_key")
    return holder


def _take_lookup_key(call: Call, price: dict[str, Any], key: str, transfer: bool) -> None:
    """Give `key` to `price`, moving it from its holder only when `transfer` is set."""
    holder = _lookup_key_holder(call, price, key, transfer)
    if holder is not None:
        before = copy.deepcopy(holder)
        holder["lookup_key"] = None
        call.emit_update("price.updated", holder, before)
    price["lookup_key"] = key


@router.post("/v1/prices")
def create(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, _CREATE)
    return create_price(call, call.params)


@router.get("/v1/prices/search")
def search_prices(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"query", "limit", "page"})
    return search(call, call.store.all(NOUN),
                  fields={"active", "created", "currency", "lookup_key", "metadata", "product",
                          "type"},
                  url="/v1/prices/search")


@router.get("/v1/prices/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.post("/v1/prices/{id}")
def update(call: Call) -> dict[str, Any]:
    price = call.store.require(NOUN, call.path_params["id"])
    params = call.params
    reject_unknown(params, _UPDATE)
    before = copy.deepcopy(price)
    try:
        _apply_update(call, price, before, params)
    except Exception:
        price.clear()
        price.update(before)  # a refused update changes nothing
        raise
    call.store.touch()
    call.emit_update("price.updated", price, before)
    return price


def _apply_update(call: Call, price: dict[str, Any], before: dict[str, Any],
                  params: dict[str, Any]) -> None:
    active = get_bool(params, "active")
    if active is not None:
        price["active"] = active
    if "nickname" in params:
        price["nickname"] = get_str(params, "nickname") or None
    if "tax_behavior" in params:
        behavior = get_str(params, "tax_behavior", choices=_TAX_BEHAVIORS)
        if before["tax_behavior"] != "unspecified" and behavior != before["tax_behavior"]:
            raise ParameterInvalid("tax_behavior",
                                   "tax_behavior cannot be changed once it is set.")
        price["tax_behavior"] = behavior
    price["metadata"] = merge_metadata(price["metadata"], params.get("metadata"))
    apply_currency_options(price, params, "currency_options")
    if "lookup_key" in params:
        key = get_str(params, "lookup_key")
        if key:
            _take_lookup_key(call, price, key, get_bool(params, "transfer_lookup_key", False) or False)
        else:
            price["lookup_key"] = None


@router.get("/v1/prices")
def list_prices(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "active",
                            "currency", "product", "type", "lookup_keys", "recurring"})
    items = filter_created(call.store.all(NOUN), params)
    active = get_bool(params, "active")
    if active is not None:
        items = [p for p in items if p["active"] == active]
    for field in ("currency", "product"):
        if params.get(field):
            items = [p for p in items if p[field] == params[field]]
    price_type = get_str(params, "type", choices=("one_time", "recurring"))
    if price_type:
        items = [p for p in items if p["type"] == price_type]
    keys = get_list(params, "lookup_keys")
    if keys:
        if len(keys) > 10:
            raise ParameterInvalid("lookup_keys", "You may pass at most 10 lookup keys.")
        items = [p for p in items if p["lookup_key"] in keys]
    recurring = get_dict(params, "recurring") or {}
    for key in ("interval", "usage_type", "meter"):
        if recurring.get(key):
            items = [p for p in items if p["recurring"] and p["recurring"][key] == recurring[key]]
    return paginate(call, items, url="/v1/prices", noun=NOUN)
