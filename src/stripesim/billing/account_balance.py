"""The account's balance transactions: what a succeeded charge or a refund does to it (the
customer's own balance, a credit ledger, is `billing.balance`).

A card charge lands as `type: charge` with Stripe's standard US card fee
(2.9% + 30¢, in the charge's currency's minor units) and becomes available two
days later; a refund lands as `type: refund`, negative, without a fee (Stripe
does not return the processing fee). `charge.balance_transaction` and
`refund.balance_transaction` name them, so both expand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..store import new_id

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["AVAILABLE_AFTER_S", "card_fee", "record_charge", "record_refund", "refresh_status"]

AVAILABLE_AFTER_S = 2 * 86_400
FEE_PERMILLE, FEE_FIXED_MINOR = 29, 30


def card_fee(amount_minor: int) -> int:
    """2.9% (rounded half up) + 30 minor units."""
    return (amount_minor * FEE_PERMILLE + 500) // 1000 + FEE_FIXED_MINOR


def _transaction(*, amount: int, fee: int, currency: str, created: int, source: str, kind: str,
                 description: str | None, clock: str | None) -> dict[str, Any]:
    fee_details = [] if fee == 0 else [{
        "amount": fee, "application": None, "currency": currency,
        "description": "Stripe processing fees", "type": "stripe_fee"}]
    return {
        "id": new_id("txn"), "object": "balance_transaction", "amount": amount,
        "available_on": created + AVAILABLE_AFTER_S, "balance_type": "payments",
        "created": created, "currency": currency, "description": description,
        "exchange_rate": None, "fee": fee, "fee_details": fee_details, "net": amount - fee,
        "reporting_category": kind, "source": source, "status": "pending", "type": kind,
        "_clock": clock,
    }


def record_charge(store: Store, charge: dict[str, Any]) -> dict[str, Any]:
    """The balance transaction of a succeeded charge; links it from the charge."""
    amount = int(charge["amount"])
    txn = store.insert(_transaction(
        amount=amount, fee=card_fee(amount), currency=charge["currency"],
        created=int(charge["created"]), source=charge["id"], kind="charge",
        description=charge.get("description"), clock=_clock_of(store, charge)))
    charge["balance_transaction"] = txn["id"]
    return txn


def record_refund(store: Store, refund: dict[str, Any]) -> dict[str, Any]:
    """The balance transaction of a refund (negative, no fee); links it from the refund."""
    txn = store.insert(_transaction(
        amount=-int(refund["amount"]), fee=0, currency=refund["currency"],
        created=int(refund["created"]), source=refund["id"], kind="refund",
        description=f"REFUND FOR CHARGE ({refund.get('charge')})",
        clock=_clock_of(store, refund)))
    refund["balance_transaction"] = txn["id"]
    return txn


def refresh_status(store: Store, txn: dict[str, Any]) -> dict[str, Any]:
    """`pending` until `available_on` (on the customer's test clock, if any), then `available`."""
    if txn["status"] == "pending" and store.now_for_clock(txn.get("_clock")) >= txn["available_on"]:
        txn["status"] = "available"
        store.touch()
    return txn


def _clock_of(store: Store, obj: dict[str, Any]) -> str | None:
    customer = store.get("customer", str(obj.get("customer")))
    clock = (customer or {}).get("test_clock")
    return clock if isinstance(clock, str) else None
