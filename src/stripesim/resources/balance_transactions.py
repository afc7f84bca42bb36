"""/v1/balance_transactions: retrieve and list (charges and refunds create them)."""

from __future__ import annotations

from typing import Any

from ..billing.account_balance import refresh_status
from ..pagination import filter_created, paginate
from ..params import get_str, reject_unknown
from ..routing import Call, Router

__all__ = ["router"]

router = Router()
NOUN = "balance_transaction"


@router.get("/v1/balance_transactions/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return refresh_status(call.store, call.store.require(NOUN, call.path_params["id"]))


@router.get("/v1/balance_transactions")
def list_transactions(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "currency",
                            "payout", "source", "type"})
    items = [refresh_status(call.store, txn) for txn in call.store.all(NOUN)]
    for field in ("currency", "source", "type"):
        value = get_str(params, field)
        if value:
            items = [txn for txn in items if txn.get(field) == value]
    if get_str(params, "payout"):
        items = []  # stripesim makes no payouts
    return paginate(call, filter_created(items, params), url="/v1/balance_transactions", noun=NOUN)
