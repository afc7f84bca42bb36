"""Fields Stripe declares on a resource but renders only in some cases; `expand[]` may name
them on an object that lacks them (nothing happens), as Stripe allows (see expand.py)."""

from __future__ import annotations

from .expand import register_optional
from .payment_method_types import ALL

__all__: list[str] = []

register_optional("account", {"company", "individual"})
register_optional("charge", {"radar_options", "transfer"})
register_optional("checkout.session", {"tax_id_collection"})
register_optional("invoice", {"threshold_reason"})
register_optional("refund", {"failure_balance_transaction", "failure_reason", "next_action",
                             "instructions_email"})
# 2024-04-10 omits these when null (version_shapes).
register_optional("line_item", {"invoice_item", "subscription_item"})
register_optional("invoiceitem", {"subscription_item"})
# A payment method carries the hash of its own type only.
register_optional("payment_method", {*ALL, "radar_options"} - {"card"})
