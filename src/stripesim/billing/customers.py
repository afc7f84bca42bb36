"""Customers, the stored objects: a live one found, a new one made, the fields create and
update share.

Used by the API (`resources/customers.py`, and every resource taking `customer=`) and by
the engine: a completed Checkout Session makes its customer here.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..errors import InvalidRequestError, ParameterInvalid, ResourceMissing
from ..params import get_dict, get_int, get_list, get_str, merge_metadata
from ..shapes import address, shipping
from ..store import TEST_CLOCK_TYPE, Store, new_id
from .balance import adjust_balance
from .context import Ctx, ensure_clock_writable
from .payment_methods import attach_payment_method

__all__ = ["NOUN", "apply_fields", "create_customer", "live_customer"]

NOUN = "customer"
_TAX_EXEMPT = ("none", "exempt", "reverse")


def live_customer(store: Store, customer_id: Any, *, param: str = "id") -> dict[str, Any]:
    """A customer that exists and is not deleted, else 404 naming `param`."""
    customer = store.require(NOUN, customer_id, param=param)
    if customer.get("deleted"):
        raise ResourceMissing(NOUN, str(customer_id), param=param)
    return customer


def _new_customer(store: Store, test_clock: str | None) -> dict[str, Any]:
    return {
        "id": new_id("cus", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "business_name": None,
        "created": store.now_for_clock(test_clock),
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "individual_name": None,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": test_clock,
    }


def apply_fields(store: Store, customer: dict[str, Any], params: dict[str, Any]) -> None:
    """Set the fields create and update share."""
    for field in ("business_name", "description", "email", "individual_name", "name", "phone"):
        if field in params:
            customer[field] = get_str(params, field) or None
    if "invoice_prefix" in params:
        prefix = get_str(params, "invoice_prefix") or ""
        if not (3 <= len(prefix) <= 12 and prefix.isalnum() and prefix.isupper()):
            raise ParameterInvalid("invoice_prefix",
                                   "Invoice prefix must be 3-12 uppercase letters or numbers.")
        customer["invoice_prefix"] = prefix
    if "next_invoice_sequence" in params:
        customer["next_invoice_sequence"] = get_int(params, "next_invoice_sequence", minimum=1)
    if "preferred_locales" in params:
        customer["preferred_locales"] = [str(v) for v in get_list(params, "preferred_locales") or []]
    if "tax_exempt" in params:
        customer["tax_exempt"] = get_str(params, "tax_exempt", choices=_TAX_EXEMPT) or "none"
    customer["address"] = address(params.get("address"), "address", customer["address"])
    customer["shipping"] = shipping(params.get("shipping"), "shipping", customer["shipping"])
    customer["metadata"] = merge_metadata(customer["metadata"], params.get("metadata"))
    apply_invoice_settings(store, customer, get_dict(params, "invoice_settings"))


def apply_invoice_settings(store: Store, customer: dict[str, Any],
                           settings: dict[str, Any] | None) -> None:
    if settings is None:
        return
    target = customer["invoice_settings"]
    for key, value in settings.items():
        param = f"invoice_settings[{key}]"
        if key == "default_payment_method":
            target[key] = _default_payment_method(store, customer, value, param)
        elif key == "footer" or key in ("custom_fields", "rendering_options"):
            target[key] = value or None
        else:
            raise ParameterInvalid(param, f"Received unknown parameter: {param}",
                                   code="parameter_unknown")


def _default_payment_method(store: Store, customer: dict[str, Any], value: Any,
                            param: str) -> str | None:
    if not value:
        return None
    pm = store.get("payment_method", value) if isinstance(value, str) else None
    if pm is None or pm.get("customer") != customer["id"]:
        raise InvalidRequestError(
            f"The customer does not have a payment method with the ID {value}. The payment "
            "method must be attached to the customer.", code="resource_missing", param=param)
    return str(value)


def create_customer(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    """Create, store and announce a customer from create params (unknown ones refused
    before): `payment_method` is attached (an alias made real), `balance` opens the
    customer's balance ledger, `test_clock` puts it on a clock."""
    store = ctx.store
    clock = get_str(params, "test_clock") or None
    if clock is not None:
        store.require(TEST_CLOCK_TYPE, clock, param="test_clock", noun="test_clock")
        ensure_clock_writable(store, clock)
    balance = get_int(params, "balance")
    customer = store.insert(_new_customer(store, clock))
    pm_id = get_str(params, "payment_method")
    pm: dict[str, Any] | None = None
    try:
        apply_fields(store, customer, {k: v for k, v in params.items()
                                      if k != "invoice_settings"})
        if pm_id:
            pm = attach_payment_method(ctx, pm_id, customer, param="payment_method",
                                       announce=False)
            params = _rename_pm_alias(params, pm_id, pm["id"])
        apply_invoice_settings(store, customer, get_dict(params, "invoice_settings"))
    except Exception:
        store.delete(NOUN, customer["id"])
        if pm is not None and pm["id"] != pm_id:
            store.delete("payment_method", pm["id"])  # materialised from an alias here
        elif pm is not None:
            pm["customer"] = None
        raise
    if balance:
        adjust_balance(ctx, customer, balance, kind="initial", announce=False)
    ctx.emit("customer.created", customer)
    if pm is not None:
        ctx.emit("payment_method.attached", pm)
    return customer


def _rename_pm_alias(params: dict[str, Any], alias: str, pm_id: str) -> dict[str, Any]:
    """`payment_method=pm_card_visa&invoice_settings[default_payment_method]=pm_card_visa` works."""
    settings = params.get("invoice_settings")
    if isinstance(settings, dict) and settings.get("default_payment_method") == alias:
        return {**params, "invoice_settings": {**settings, "default_payment_method": pm_id}}
    return params
