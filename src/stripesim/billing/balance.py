"""The customer's invoice balance as a ledger: every change is a `customer_balance_transaction`.

Negative is a credit (the account owes the customer), positive a debit. The
balance moves only through `adjust_balance`, which writes the transaction,
so `customer.balance` is always the last transaction's `ending_balance`:
set on create (`initial`) or update (`adjustment`), created through the API
(`adjustment`), applied by an invoice at finalization (`applied_to_invoice`,
a negative invoice total too), given back when that invoice is voided
(`unapplied_from_invoice`), credited by a credit note (`credit_note`).
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError
from ..store import new_id
from .context import Ctx

__all__ = ["BALANCE_TYPES", "adjust_balance", "balance_currency"]

BALANCE_TYPES = ("adjustment", "applied_to_invoice", "credit_note", "initial",
                 "unapplied_from_invoice")
# A customer without a currency yet (no invoice, no balance) gets its balance in this one.
DEFAULT_CURRENCY = "usd"


def balance_currency(customer: dict[str, Any], currency: str | None, *,
                     param: str = "currency") -> str:
    """The currency of a balance change: the customer's, which a change must not contradict."""
    wanted = (currency or "").lower() or None
    have = customer.get("currency")
    if have and wanted and wanted != have:
        raise InvalidRequestError(
            f"The customer's balance is in {have}; a balance transaction in {wanted} cannot be "
            "applied to it.", param=param)
    return str(have or wanted or DEFAULT_CURRENCY)


def adjust_balance(ctx: Ctx, customer: dict[str, Any], amount: int, *, kind: str,
                   currency: str | None = None, invoice: str | None = None,
                   credit_note: str | None = None, checkout_session: str | None = None,
                   description: str | None = None,
                   metadata: dict[str, str] | None = None, at: int | None = None,
                   announce: bool = True) -> dict[str, Any]:
    """Move the customer's balance by `amount` and record it; `customer.updated` unless the
    caller announces the customer itself (`announce=False`)."""
    before = ctx.snapshot(customer)
    chosen = balance_currency(customer, currency)
    ending = int(customer.get("balance") or 0) + amount
    txn = {
        "id": new_id("cbtxn"), "object": "customer_balance_transaction", "amount": amount,
        "checkout_session": checkout_session,
        "created": at if at is not None else ctx.now(customer["id"]),
        "credit_note": credit_note, "currency": chosen, "customer": customer["id"],
        "customer_account": None, "description": description, "ending_balance": ending,
        "invoice": invoice, "livemode": False, "metadata": metadata or {}, "type": kind,
    }
    ctx.store.insert(txn)
    customer["balance"] = ending
    customer["currency"] = customer.get("currency") or chosen
    ctx.store.touch()
    if announce:
        ctx.emit_update("customer.updated", customer, before)
    return txn
