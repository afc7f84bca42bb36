"""/v1/charges: retrieve, list (charges come from payment intents), search."""

from __future__ import annotations

from typing import Any

from ..expand import register_expander
from ..pagination import filter_created, list_object, paginate
from ..params import get_str, merge_metadata, reject_unknown
from ..routing import Call, Router
from ..search import search
from ..store import Store

__all__ = ["router"]

router = Router()
NOUN = "charge"


@router.get("/v1/charges/search")
def search_charges(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"query", "limit", "page"})
    return search(call, call.store.all(NOUN), fields={"amount", "created", "currency", "customer",
                                                      "metadata", "status"},
                  url="/v1/charges/search")


@router.get("/v1/charges/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.post("/v1/charges/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"metadata", "description", "receipt_email"})
    charge = call.store.require(NOUN, call.path_params["id"])
    before = dict(charge)
    charge["metadata"] = merge_metadata(charge["metadata"], call.params.get("metadata"))
    for key in ("description", "receipt_email"):
        if key in call.params:
            charge[key] = get_str(call.params, key) or None
    call.store.touch()
    call.emit_update("charge.updated", charge, before)
    return charge


@router.get("/v1/charges")
def list_charges(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "customer",
                            "payment_intent", "transfer_group"})
    items = call.store.all(NOUN)
    for field in ("customer", "payment_intent"):
        value = get_str(params, field)
        if value:
            items = [c for c in items if c.get(field) == value]
    return paginate(call, filter_created(items, params), url="/v1/charges", noun=NOUN)


def _refunds(store: Store, charge: dict[str, Any]) -> dict[str, Any]:
    found = [refund for refund in store.all("refund") if refund["charge"] == charge["id"]]
    return list_object(list(reversed(found)), f"/v1/charges/{charge['id']}/refunds")


# Since 2022-11-15 a charge carries `refunds` only when asked for with expand[]=refunds.
register_expander(NOUN, "refunds", _refunds)
