"""The subscription object as this API version shapes it (no top-level
current_period_*: periods live on the items; `billing_mode` is an object)."""

from __future__ import annotations

from typing import Any

from ..pagination import list_object
from ..store import new_id
from .objects import subscription_item
from .periods import next_boundary

__all__ = ["ItemSpec", "new_subscription", "period_end_of", "refresh_items_url"]

# (price dict, quantity, item metadata)
ItemSpec = tuple[dict[str, Any], int, dict[str, str]]


def period_end_of(sub: dict[str, Any]) -> int:
    """When the current period ends: the earliest item period end."""
    return min(int(item["current_period_end"]) for item in sub["items"]["data"])


def item_period_end(anchor: int, price: dict[str, Any], after: int) -> int:
    recurring = price["recurring"]
    return next_boundary(anchor, recurring["interval"], int(recurring.get("interval_count", 1)), after)


def new_subscription(customer: dict[str, Any], *, created: int, items: list[ItemSpec],
                     trial_end: int | None, metadata: dict[str, str],
                     default_payment_method: str | None, description: str | None = None,
                     missing_payment_method: str = "create_invoice") -> dict[str, Any]:
    sub_id = new_id("sub")
    anchor = trial_end or created
    data = []
    for price, quantity, item_metadata in items:
        end = trial_end or item_period_end(anchor, price, created)
        data.append(subscription_item(price, subscription_id=sub_id, quantity=quantity,
                                      created=created, period_start=created, period_end=end,
                                      metadata=item_metadata))
    return {
        "id": sub_id, "object": "subscription", "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": anchor, "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": {"proration_discounts": "included"}, "type": "flexible",
                         "updated_at": created},
        "billing_schedules": [], "billing_thresholds": None, "cancel_at": None,
        "cancel_at_period_end": False, "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically", "created": created,
        "currency": items[0][0]["currency"], "customer": customer["id"],
        "customer_account": None, "days_until_due": None,
        "default_payment_method": default_payment_method, "default_source": None,
        "default_tax_rates": [], "description": description, "discounts": [], "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "custom_fields": None, "description": None,
                             "footer": None, "issuer": {"type": "self"}},
        "items": list_object(data, f"/v1/subscription_items?subscription={sub_id}"),
        "latest_invoice": None, "livemode": False, "managed_payments": None,
        "metadata": metadata, "next_pending_invoice_item_invoice": None, "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None,
        "pending_update": None, "schedule": None, "start_date": created,
        "status": "trialing" if trial_end else "incomplete",
        "test_clock": customer.get("test_clock"), "transfer_data": None,
        "trial_end": trial_end, "trial_settings": {
            "end_behavior": {"missing_payment_method": missing_payment_method}},
        "trial_start": created if trial_end else None,
    }


def refresh_items_url(sub: dict[str, Any]) -> None:
    sub["items"]["url"] = f"/v1/subscription_items?subscription={sub['id']}"
