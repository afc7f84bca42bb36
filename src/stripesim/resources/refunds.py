"""/v1/refunds: full and partial refunds of a charge (or a payment intent's charge)."""

from __future__ import annotations

import copy
from typing import Any

from ..billing.context import Ctx
from ..billing.refunds import NOUN, create_refund
from ..pagination import filter_created, paginate
from ..params import get_str, merge_metadata, reject_unknown
from ..routing import Call, Router

__all__ = ["router"]

router = Router()


@router.post("/v1/refunds")
def create(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"charge", "payment_intent", "amount", "reason", "metadata",
                                 "instructions_email", "refund_application_fee", "reverse_transfer",
                                 "customer", "currency", "origin"})
    return create_refund(Ctx(call.sim, call), call.params)


@router.get("/v1/refunds/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.post("/v1/refunds/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"metadata"})
    refund = call.store.require(NOUN, call.path_params["id"])
    before = copy.deepcopy(refund)
    refund["metadata"] = merge_metadata(refund["metadata"], call.params.get("metadata"))
    call.store.touch()
    call.emit_update("refund.updated", refund, before)
    return refund


@router.get("/v1/refunds")
def list_refunds(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "charge",
                            "payment_intent"})
    items = call.store.all(NOUN)
    for field in ("charge", "payment_intent"):
        value = get_str(params, field)
        if value:
            items = [r for r in items if r.get(field) == value]
    return paginate(call, filter_created(items, params), url="/v1/refunds", noun=NOUN)
