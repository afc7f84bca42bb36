"""/v1/customers/{customer}/balance_transactions: the customer's balance ledger.

Create (an `adjustment` of the balance), retrieve, update (description and
metadata only: amounts are immutable), list newest first. Transactions the
engine writes (invoices applying the balance, credit notes, voids) are listed
here too; see `billing.balance`.
"""

from __future__ import annotations

from typing import Any

from ..billing.balance import adjust_balance
from ..billing.context import Ctx, ensure_writable
from ..billing.customers import live_customer
from ..errors import ParameterInvalid, ResourceMissing
from ..pagination import filter_created, paginate
from ..params import get_int, get_str, merge_metadata, reject_unknown, require
from ..routing import Call, Router

__all__ = ["router"]

router = Router()
NOUN = "customer_balance_transaction"


def _customer(call: Call) -> dict[str, Any]:
    return live_customer(call.store, call.path_params["customer"], param="customer")


def _transaction(call: Call) -> dict[str, Any]:
    customer = _customer(call)
    txn = call.store.get(NOUN, call.path_params["id"])
    if txn is None or txn["customer"] != customer["id"]:
        raise ResourceMissing(NOUN, call.path_params["id"])
    return txn


@router.post("/v1/customers/{customer}/balance_transactions")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"amount", "currency", "description", "metadata"})
    customer = _customer(call)
    ensure_writable(call.store, customer["id"])
    amount = get_int(params, "amount")
    if amount is None:
        require(params, "amount")
    if amount == 0:
        raise ParameterInvalid("amount", "The amount of a balance transaction cannot be zero.")
    currency = str(require(params, "currency"))
    return adjust_balance(Ctx(call.sim, call), customer, int(amount or 0), kind="adjustment",
                          currency=currency, description=get_str(params, "description") or None,
                          metadata=merge_metadata({}, params.get("metadata")))


@router.get("/v1/customers/{customer}/balance_transactions/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _transaction(call)


@router.post("/v1/customers/{customer}/balance_transactions/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"description", "metadata"})
    txn = _transaction(call)
    if "description" in call.params:
        txn["description"] = get_str(call.params, "description") or None
    txn["metadata"] = merge_metadata(txn["metadata"] or {}, call.params.get("metadata"))
    call.store.touch()
    return txn


@router.get("/v1/customers/{customer}/balance_transactions")
def list_transactions(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created", "invoice"})
    customer = _customer(call)
    items = [t for t in call.store.all(NOUN) if t["customer"] == customer["id"]]
    invoice = get_str(params, "invoice")
    if invoice:
        items = [t for t in items if t["invoice"] == invoice]
    return paginate(call, filter_created(items, params),
                    url=f"/v1/customers/{customer['id']}/balance_transactions", noun=NOUN)
