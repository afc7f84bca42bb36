"""/v1/customers: CRUD, list, search, expansions (the object itself, which Checkout makes
too: `billing.customers`)."""

from __future__ import annotations

import copy
from typing import Any

from ..billing.balance import adjust_balance
from ..billing.context import Ctx, ensure_writable
from ..billing.customers import NOUN, apply_fields, create_customer, live_customer
from ..expand import register_expander
from ..pagination import filter_created, list_object, paginate
from ..params import get_int, get_str, reject_unknown
from ..routing import Call, Router
from ..search import search
from ..store import Store

__all__ = ["router"]

router = Router()
_COMMON = {"address", "balance", "business_name", "description", "email", "individual_name",
           "invoice_prefix", "invoice_settings", "metadata", "name", "next_invoice_sequence",
           "phone", "preferred_locales", "shipping", "tax", "tax_exempt"}
_CREATE = _COMMON | {"payment_method", "test_clock", "tax_id_data", "validate"}
_UPDATE = _COMMON | {"default_source"}


@router.post("/v1/customers")
def create(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, _CREATE)
    return create_customer(Ctx(call.sim, call), call.params)


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
        apply_fields(call.store, customer, params)
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


@router.get("/v1/customers/{id}/sources")
def list_sources(call: Call) -> dict[str, Any]:
    """Legacy sources (cards before payment methods): stripesim makes none."""
    reject_unknown(call.params, {"limit", "starting_after", "ending_before", "object"})
    customer = live_customer(call.store, call.path_params["id"])
    return paginate(call, [], url=f"/v1/customers/{customer['id']}/sources", noun="source")


@router.get("/v1/customers/{id}/tax_ids")
def list_tax_ids(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"limit", "starting_after", "ending_before"})
    customer = live_customer(call.store, call.path_params["id"])
    return paginate(call, [], url=f"/v1/customers/{customer['id']}/tax_ids", noun="tax_id")


def _empty_list(suffix: str) -> Any:
    return lambda store, customer: list_object([], f"/v1/customers/{customer['id']}/{suffix}")


register_expander(NOUN, "subscriptions", _subscriptions)
register_expander(NOUN, "sources", _empty_list("sources"))
register_expander(NOUN, "tax_ids", _empty_list("tax_ids"))
register_expander(NOUN, "invoice_credit_balance", lambda store, customer: {})
register_expander(NOUN, "cash_balance", lambda store, customer: None)


def _tax(store: Store, customer: dict[str, Any]) -> dict[str, Any]:
    """Where Stripe Tax would place the customer: from the billing address, if it has one."""
    address = customer.get("address") or {}
    country = address.get("country")
    return {"automatic_tax": "supported" if country else "unrecognized_location",
            "ip_address": None, "provider": "stripe",
            "location": {"country": country, "source": "billing_address",
                         "state": address.get("state")} if country else None}


register_expander(NOUN, "tax", _tax)
