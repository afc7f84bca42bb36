"""A price's `currency_options`: its amount in other currencies (includable with expand[]).

    POST /v1/prices  currency=usd unit_amount=1000
                     currency_options[eur][unit_amount]=900
    GET  /v1/prices/{id}?expand[]=currency_options
      -> {"usd": {"unit_amount": 1000, ...}, "eur": {"unit_amount": 900, ...}}

Kept privately on the price (`_currency_options`). stripesim bills in the
price's own currency; the options are stored, validated and shown.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequestError, ParameterInvalid
from ..expand import register_expander
from ..params import get_dict, get_int, get_str

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["apply_currency_options", "currency_options"]

_TAX_BEHAVIORS = ("inclusive", "exclusive", "unspecified")


def _option(spec: Any, param: str) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ParameterInvalid(param, f"Invalid hash: {param}")
    custom = get_dict(spec, "custom_unit_amount", param=f"{param}[custom_unit_amount]")
    amount = get_int(spec, "unit_amount", minimum=0, param=f"{param}[unit_amount]")
    decimal = get_str(spec, "unit_amount_decimal", param=f"{param}[unit_amount_decimal]")
    if amount is None and decimal and re.fullmatch(r"\d+", decimal):
        amount = int(decimal)
    if amount is None and not custom:
        raise InvalidRequestError(f"Missing required param: {param}[unit_amount].",
                                  code="parameter_missing", param=f"{param}[unit_amount]")
    return {
        "custom_unit_amount": None if not custom else {
            key: get_int(custom, key, minimum=0, param=f"{param}[custom_unit_amount][{key}]")
            for key in ("maximum", "minimum", "preset")},
        "tax_behavior": get_str(spec, "tax_behavior", "unspecified", choices=_TAX_BEHAVIORS,
                                param=f"{param}[tax_behavior]"),
        "unit_amount": amount,
        "unit_amount_decimal": None if amount is None else str(amount),
    }


def apply_currency_options(price: dict[str, Any], params: dict[str, Any], param: str) -> None:
    """Read `currency_options[<cur>][...]` into the price (create, or update: merged)."""
    given = get_dict(params, "currency_options", param=param)
    if given is None:
        return
    options = dict(price.get("_currency_options") or {})
    for currency, spec in given.items():
        code = str(currency).lower()
        if not re.fullmatch(r"[a-z]{3}", code):
            raise ParameterInvalid(f"{param}[{currency}]", f"Invalid currency: {currency}")
        if code == price["currency"]:
            raise ParameterInvalid(
                f"{param}[{currency}]",
                f"The currency_options can't include the price's own currency ({code}).")
        options[code] = _option(spec, f"{param}[{currency}]")
    price["_currency_options"] = options


def _own_option(price: dict[str, Any]) -> dict[str, Any]:
    return {"custom_unit_amount": price.get("custom_unit_amount"),
            "tax_behavior": price.get("tax_behavior"), "unit_amount": price.get("unit_amount"),
            "unit_amount_decimal": price.get("unit_amount_decimal")}


def currency_options(store: Store, price: dict[str, Any]) -> dict[str, Any]:
    """The includable field: the price's own currency first, then each option."""
    return {price["currency"]: _own_option(price), **(price.get("_currency_options") or {})}


register_expander("price", "currency_options", currency_options)
# stripesim refuses tiered prices, so `tiers` is always null; still a field one may include.
register_expander("price", "tiers", lambda store, price: None)
