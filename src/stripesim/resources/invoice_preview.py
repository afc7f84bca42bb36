"""POST /v1/invoices/create_preview: what the next invoice would be (see billing.preview)."""

from __future__ import annotations

from typing import Any

from ..billing.context import Ctx
from ..billing.customers import live_customer
from ..billing.preview import Change, preview_invoice
from ..billing.proration import BEHAVIOURS
from ..errors import InvalidRequestError, ParameterInvalid
from ..params import get_dict, get_int, get_list, get_str, reject_unknown, require
from ..routing import Call, Router
from .subscription_item_changes import item_ops

__all__ = ["router"]

router = Router()
_DETAILS = {"items", "proration_date", "proration_behavior"}


def _changes(call: Call, sub: dict[str, Any], raw_items: list[Any]) -> list[Change]:
    """`subscription_details[items]`, checked by the same rules as a real update."""
    changes: list[Change] = []
    for op in item_ops(call, sub, raw_items, prefix="subscription_details[items]"):
        if op[0] == "remove":
            changes.append(("remove", op[1]["id"], None, 0))
        elif op[0] == "add":
            changes.append(("add", None, op[1], int(op[2])))
        else:
            changes.append(("change", op[1]["id"], op[2], int(op[3])))
    return changes


@router.post("/v1/invoices/create_preview")
def create_preview(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"customer", "subscription", "subscription_details", "currency",
                            "preview_mode", "automatic_tax"})
    details = get_dict(params, "subscription_details") or {}
    unknown = sorted(set(details) - _DETAILS)
    if unknown:
        raise ParameterInvalid(f"subscription_details[{unknown[0]}]",
                               f"stripesim does not emulate subscription_details[{unknown[0]}].")
    sub = None
    if params.get("subscription"):
        sub = call.store.require("subscription", params["subscription"], param="subscription")
    customer_id = params.get("customer") or (sub["customer"] if sub else None)
    if customer_id is None:
        require(params, "customer")
    customer = live_customer(call.store, customer_id, param="customer")
    if sub is not None and sub["customer"] != customer["id"]:
        raise InvalidRequestError("The subscription belongs to another customer.",
                                  param="subscription")
    now = call.store.now_for(customer["id"])
    at = get_int(details, "proration_date", now, param="subscription_details[proration_date]")
    behaviour = get_str(details, "proration_behavior", "create_prorations", choices=BEHAVIOURS,
                        param="subscription_details[proration_behavior]")
    raw_items = get_list(details, "items") or []
    if raw_items and sub is None:
        raise InvalidRequestError("Pass `subscription` to preview changes of its items.",
                                  param="subscription")
    changes = _changes(call, sub, raw_items) if sub is not None else []
    return preview_invoice(Ctx(call.sim, call), customer, sub, changes=changes,
                           behaviour=str(behaviour), at=int(at if at is not None else now))
