"""/v1/coupons: create, retrieve, update (name, metadata), delete, list.

A coupon is percent off (`percent_off`, up to two decimals) or an amount off
in one currency (`amount_off` + `currency`), for `once`, `repeating`
(`duration_in_months`) or `forever`; `max_redemptions` and `redeem_by` limit
it, `applies_to[products]` narrows it (shown with `expand[]=applies_to`).
Deleting a coupon stops new redemptions; discounts already made keep going.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import InvalidRequestError, ParameterInvalid, ResourceMissing
from ..expand import register_expander
from ..pagination import filter_created, paginate
from ..params import get_dict, get_int, get_list, get_str, merge_metadata, reject_unknown
from ..routing import Call, Router
from ..store import Store

__all__ = ["router"]

router = Router()
NOUN = "coupon"
_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_DURATIONS = ("once", "repeating", "forever")


def _new_id(store: Store) -> str:
    alphabet = string.ascii_uppercase + string.digits
    while True:
        coupon_id = "".join(secrets.choice(alphabet) for _ in range(8))
        if store.get(NOUN, coupon_id) is None:
            return coupon_id


def _percent(params: dict[str, Any]) -> str | None:
    """`percent_off` kept as its exact decimal text (0 < p ≤ 100, two decimals at most)."""
    raw = params.get("percent_off")
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ParameterInvalid("percent_off", f"Invalid decimal: {raw}") from None
    exponent = value.as_tuple().exponent
    if (not value.is_finite() or not isinstance(exponent, int) or exponent < -2
            or not Decimal(0) < value <= Decimal(100)):
        raise ParameterInvalid("percent_off", "percent_off must be greater than 0 and at most "
                                              "100, with at most two decimals.")
    return str(int(value)) if value == value.to_integral() else str(value)


def _amounts(params: dict[str, Any]) -> tuple[str | None, int | None, str | None]:
    percent = _percent(params)
    amount_off = get_int(params, "amount_off", minimum=1)
    if (percent is None) == (amount_off is None):
        raise InvalidRequestError("You must pass exactly one of `percent_off` and `amount_off`.",
                                  param="percent_off" if percent is None else "amount_off")
    currency = (get_str(params, "currency") or "").lower() or None
    if amount_off is not None and currency is None:
        raise InvalidRequestError("You must pass `currency` with `amount_off`.",
                                  code="parameter_missing", param="currency")
    if percent is not None and currency is not None:
        raise InvalidRequestError("`currency` goes with `amount_off` only.", param="currency")
    return percent, amount_off, currency


def _duration(params: dict[str, Any]) -> tuple[str, int | None]:
    duration = get_str(params, "duration", "once", choices=_DURATIONS) or "once"
    months = get_int(params, "duration_in_months", minimum=1, maximum=36)
    if duration == "repeating" and months is None:
        raise InvalidRequestError("You must pass `duration_in_months` with "
                                  "`duration=repeating`.", code="parameter_missing",
                                  param="duration_in_months")
    if duration != "repeating" and months is not None:
        raise InvalidRequestError("`duration_in_months` goes with `duration=repeating` only.",
                                  param="duration_in_months")
    return duration, months


def _products(call: Call, params: dict[str, Any]) -> list[str]:
    applies = get_dict(params, "applies_to") or {}
    products = [str(p) for p in get_list(applies, "products", param="applies_to[products]") or []]
    for index, product in enumerate(products):
        call.store.require("product", product, param=f"applies_to[products][{index}]")
    return products


@router.post("/v1/coupons")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"id", "percent_off", "amount_off", "currency", "duration",
                            "duration_in_months", "max_redemptions", "redeem_by", "name",
                            "metadata", "applies_to"})
    coupon_id = get_str(params, "id") or _new_id(call.store)
    if not _ID.fullmatch(coupon_id):
        raise ParameterInvalid("id", "A coupon id may only contain letters, digits, `_` and `-`.")
    if call.store.get(NOUN, coupon_id) is not None:
        raise InvalidRequestError("Coupon already exists.", code="resource_already_exists",
                                  param="id")
    percent, amount_off, currency = _amounts(params)
    duration, months = _duration(params)
    now = call.store.now()
    redeem_by = get_int(params, "redeem_by")
    if redeem_by is not None and redeem_by <= now:
        raise ParameterInvalid("redeem_by", "redeem_by must be in the future.")
    name = get_str(params, "name") or None
    if name is not None and len(name) > 40:
        raise ParameterInvalid("name", "A coupon name may be at most 40 characters long.")
    coupon = call.store.insert({
        "id": coupon_id, "object": NOUN, "amount_off": amount_off, "created": now,
        "currency": currency, "duration": duration, "duration_in_months": months,
        "livemode": False, "max_redemptions": get_int(params, "max_redemptions", minimum=1),
        "metadata": merge_metadata({}, params.get("metadata")), "name": name,
        "percent_off": float(percent) if percent is not None else None,
        "redeem_by": redeem_by, "times_redeemed": 0, "valid": True,
        "_percent_off": percent, "_products": _products(call, params),
    })
    call.emit("coupon.created", coupon)
    return coupon


def _coupon(call: Call) -> dict[str, Any]:
    coupon = call.store.require(NOUN, call.path_params["id"])
    if coupon.get("deleted"):
        raise ResourceMissing(NOUN, coupon["id"])
    _refresh(call.store, coupon)
    return coupon


def _refresh(store: Store, coupon: dict[str, Any]) -> None:
    """`valid` turns false once `redeem_by` has passed."""
    if coupon["valid"] and coupon["redeem_by"] is not None and store.now() > coupon["redeem_by"]:
        coupon["valid"] = False
        store.touch()


@router.get("/v1/coupons/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _coupon(call)


@router.post("/v1/coupons/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"name", "metadata"})
    coupon = _coupon(call)
    before = copy.deepcopy(coupon)
    if "name" in call.params:
        coupon["name"] = get_str(call.params, "name") or None
    coupon["metadata"] = merge_metadata(coupon["metadata"], call.params.get("metadata"))
    call.store.touch()
    call.emit_update("coupon.updated", coupon, before)
    return coupon


@router.delete("/v1/coupons/{id}")
def delete(call: Call) -> dict[str, Any]:
    coupon = _coupon(call)
    snapshot = copy.deepcopy(coupon)
    # Kept (not removed) so the discounts made from it still read their terms.
    coupon["deleted"] = True
    coupon["valid"] = False
    call.store.touch()
    call.emit("coupon.deleted", snapshot)
    return {"id": coupon["id"], "object": NOUN, "deleted": True}


@router.get("/v1/coupons")
def list_coupons(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"limit", "starting_after", "ending_before", "created"})
    items = [c for c in call.store.all(NOUN) if not c.get("deleted")]
    for coupon in items:
        _refresh(call.store, coupon)
    return paginate(call, filter_created(items, call.params), url="/v1/coupons", noun=NOUN)


register_expander(NOUN, "applies_to",
                  lambda store, coupon: {"products": list(coupon.get("_products") or [])})
