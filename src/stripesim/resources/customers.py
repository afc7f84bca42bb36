"""/v1/customers: CRUD, list, search, and the customer's payment-method views."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from ..billing.balance import adjust_balance
from ..billing.context import Ctx, ensure_clock_writable, ensure_writable
from ..errors import InvalidRequestError, ParameterInvalid, ResourceMissing
from ..expand import register_expander
from ..pagination import filter_created, list_object, paginate
from ..params import get_dict, get_int, get_list, get_str, merge_metadata, reject_unknown
from ..routing import Call, Router
from ..search import search
from ..shapes import address, shipping
from ..store import TEST_CLOCK_TYPE, Store, new_id

__all__ = ["live_customer", "router"]

router = Router()
NOUN = "customer"
_COMMON = {"address", "balance", "business_name", "description", "email", "individual_name",
           "invoice_prefix", "invoice_settings", "metadata", "name", "next_invoice_sequence",
           "phone", "preferred_locales", "shipping", "tax", "tax_exempt"}
_CREATE = _COMMON | {"payment_method", "test_clock", "tax_id_data", "validate"}
_UPDATE = _COMMON | {"default_source"}
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


def _apply(store: Store, customer: dict[str, Any], params: dict[str, Any]) -> None:
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
    _apply_invoice_settings(store, customer, get_dict(params, "invoice_settings"))


def _apply_invoice_settings(store: Store, customer: dict[str, Any],
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


@router.post("/v1/customers")
def create(call: Call) -> dict[str, Any]:
    from .payment_methods import attach_payment_method

    params = call.params
    reject_unknown(params, _CREATE)
    clock = get_str(params, "test_clock") or None
    if clock is not None:
        call.store.require(TEST_CLOCK_TYPE, clock, param="test_clock", noun="test_clock")
        ensure_clock_writable(call.store, clock)
    balance = get_int(params, "balance")
    customer = call.store.insert(_new_customer(call.store, clock))
    pm_id = get_str(params, "payment_method")
    pm: dict[str, Any] | None = None
    try:
        _apply(call.store, customer, {k: v for k, v in params.items()
                                      if k != "invoice_settings"})
        if pm_id:
            pm = attach_payment_method(call, pm_id, customer, param="payment_method",
                                       announce=False)
            params = _rename_pm_alias(params, pm_id, pm["id"])
        _apply_invoice_settings(call.store, customer, get_dict(params, "invoice_settings"))
    except Exception:
        call.store.delete(NOUN, customer["id"])
        if pm is not None and pm["id"] != pm_id:
            call.store.delete("payment_method", pm["id"])  # materialised from an alias here
        elif pm is not None:
            pm["customer"] = None
        raise
    if balance:
        adjust_balance(Ctx(call.sim, call), customer, balance, kind="initial", announce=False)
    call.emit("customer.created", customer)
    if pm is not None:
        call.emit("payment_method.attached", pm)
    return customer


def _rename_pm_alias(params: dict[str, Any], alias: str, pm_id: str) -> dict[str, Any]:
    """`payment_method=pm_card_visa&invoice_settings[default_payment_method]=pm_card_visa` works."""
    settings = params.get("invoice_settings")
    if isinstance(settings, dict) and settings.get("default_payment_method") == alias:
        return {**params, "invoice_settings": {**settings, "default_payment_method": pm_id}}
    return params


@router.get("/v1/customers/search")
def search_customers(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"query", "limit", "page"})
    items = [c for c in call.store.all(NOUN) if not c.get("deleted")]
    return search(call, items, fields={"created", "email", "metadata", "name", "phone"},
                  url="/v1/customers/search")


@router.get("/v1/customers/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    # A deleted customer still answers, as the stub {id, object, deleted: true}.
    return call.store.require(NOUN, call.path_params["id"])


@router.post("/v1/customers/{id}")
def update(call: Call) -> dict[str, Any]:
    customer = live_customer(call.store, call.path_params["id"])
    params = call.params
    reject_unknown(params, _UPDATE)
    ensure_writable(call.store, customer["id"])
    before = copy.deepcopy(customer)
    balance = get_int(params, "balance")
    try:
        _apply(call.store, customer, params)
    except Exception:
        customer.clear()
        customer.update(before)
        raise
    if balance is not None and balance != int(customer.get("balance") or 0):
        adjust_balance(Ctx(call.sim, call), customer, balance - int(customer.get("balance") or 0),
                       kind="adjustment", announce=False)
    call.store.touch()
    call.emit_update("customer.updated", customer, before)
    return customer


@router.delete("/v1/customers/{id}")
def delete(call: Call) -> dict[str, Any]:
    customer = live_customer(call.store, call.path_params["id"])
    ensure_writable(call.store, customer["id"])
    snapshot = copy.deepcopy(customer)
    customer.clear()
    customer.update({"id": snapshot["id"], "object": NOUN, "deleted": True})
    call.store.touch()
    call.emit("customer.deleted", snapshot)
    return customer


@router.get("/v1/customers")
def list_customers(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "email",
                            "test_clock"})
    items = [c for c in call.store.all(NOUN) if not c.get("deleted")]
    email = get_str(params, "email")
    if email:
        items = [c for c in items if c.get("email") == email]
    clock = get_str(params, "test_clock")
    if clock:
        items = [c for c in items if c.get("test_clock") == clock]
    return paginate(call, filter_created(items, params), url="/v1/customers", noun=NOUN)


def _subscriptions(store: Store, customer: dict[str, Any]) -> dict[str, Any]:
    subs = [s for s in reversed(store.all("subscription"))
            if s.get("customer") == customer["id"] and s.get("status") != "canceled"]
    return list_object(subs, f"/v1/customers/{customer['id']}/subscriptions")


def _empty_list(suffix: str) -> Any:
    return lambda store, customer: list_object([], f"/v1/customers/{customer['id']}/{suffix}")


register_expander(NOUN, "subscriptions", _subscriptions)
register_expander(NOUN, "sources", _empty_list("sources"))
register_expander(NOUN, "tax_ids", _empty_list("tax_ids"))
register_expander(NOUN, "invoice_credit_balance", lambda store, customer: {})
