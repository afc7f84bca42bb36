"""Every ledger entry id and lot source coinslot writes, in one place. An entry's id is its idempotency
key: the same purchase, invoice or refund, however often its events arrive, always makes the same id, so
the ledger writes it once (a retry with the same id returns the first result).

    invoice:<in_...>              a subscription period paid by an invoice
    invoice:<in_...>:m<n>         month n of a paid yearly period (granted at its first use)
    free:<customer id>:<YYYY-MM>  a free plan's month (granted at its first use)
    checkout:<cs_...>             a pack bought through Checkout
    auto_topup:<pi_...>           a pack bought by an auto top-up (a saved card charged off-session)
    refund:<re_...>               a refund taking a pack's credits back
    key:<customer id>:<key>       a host's use (consume, hold), by the host's idempotency key

The ledger derives the rest itself:

    hold:<id>:capture|release|expired   how a hold was resolved (once)
    lot:<id>:expired:<n>                a lot's expiry at the balance's version n
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "auto_topup",
    "caller",
    "free_month",
    "hold_resolution",
    "invoice_grant",
    "lot_expiry",
    "pack_purchase",
    "plan_source",
    "refund",
    "subscription_source",
    "yearly_month",
]


def invoice_grant(invoice_id: str) -> str:
    return f"invoice:{invoice_id}"


def yearly_month(opening_entry_id: str, month_number: int) -> str:
    """Month `month_number` (2..12) of the yearly period the entry `opening_entry_id` opened."""
    return f"{opening_entry_id}:m{month_number}"


def free_month(customer_id: int, at: dt.datetime) -> str:
    return f"free:{customer_id}:{at.astimezone(dt.UTC):%Y-%m}"


def pack_purchase(checkout_session_id: str) -> str:
    """The entry of a pack's credits, and the source of its lot (a refund takes back from it)."""
    return f"checkout:{checkout_session_id}"


def auto_topup(payment_intent_id: str) -> str:
    """The entry of an auto top-up's credits, and the source of its lot, keyed by the intent that paid."""
    return f"auto_topup:{payment_intent_id}"


def refund(refund_id: str) -> str:
    return f"refund:{refund_id}"


def caller(customer_id: int, idempotency_key: str) -> str:
    """A host's idempotency key, scoped to the customer: hosts pick keys like "export-42" per user, and
    unscoped two users' keys would collide (one answered with the other's entry)."""
    return f"key:{customer_id}:{idempotency_key}"


def subscription_source(stripe_subscription_id: str) -> str:
    """The source of a subscription's period lots: a second subscription never expires the first's."""
    return f"subscription:{stripe_subscription_id}"


def plan_source(plan_key: str) -> str:
    """The source of a free plan's month lots."""
    return f"plan:{plan_key}"


def hold_resolution(hold_id: int, how: str) -> str:
    """`how`: capture, release or expired. A hold resolves once, so this id is its idempotency key."""
    return f"hold:{hold_id}:{how}"


def lot_expiry(lot_id: int, balance_version: int) -> str:
    """One expiry per lot and moment: a lot given credits back after expiring expires again later."""
    return f"lot:{lot_id}:expired:{balance_version}"
