"""Builders for the small objects the engine stamps out: subscription items,
their `plan` twin, invoice items and invoice lines (this API version's shapes:
lines point at what they bill through `parent`)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ..expand import register_current
from ..money import format_minor
from ..store import new_id

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "describe_price",
    "invoice_item",
    "is_metered",
    "line_from_invoice_item",
    "line_from_sub_item",
    "line_from_usage",
    "plan_from_price",
    "price_of",
    "pricing",
    "quantity_of",
    "subscription_item",
    "usage_amount",
]


def plan_from_price(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` Stripe still mirrors on each subscription item."""
    recurring = price.get("recurring") or {}
    amount = price.get("unit_amount")
    return {
        "id": price["id"], "object": "plan", "active": price.get("active", True),
        "amount": amount, "amount_decimal": None if amount is None else str(amount),
        "billing_scheme": price.get("billing_scheme", "per_unit"), "created": price["created"],
        "currency": price["currency"], "interval": recurring.get("interval", "month"),
        "interval_count": recurring.get("interval_count", 1), "livemode": False,
        "metadata": dict(price.get("metadata") or {}), "meter": recurring.get("meter"),
        "nickname": price.get("nickname"), "product": price.get("product"),
        "tiers_mode": None, "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def _current_price(store: Store, embedded: dict[str, Any]) -> dict[str, Any] | None:
    return store.get("price", str(embedded["id"]))


def _current_plan(store: Store, embedded: dict[str, Any]) -> dict[str, Any] | None:
    price = _current_price(store, embedded)
    return plan_from_price(price) if price is not None else None


# Items and Checkout line items keep a copy of their price (the engine bills from it; amounts are
# immutable), but Stripe shows the price as it is now: its lookup key, `active`, metadata.
register_current("price", _current_price)
register_current("plan", _current_plan)


def is_metered(price: dict[str, Any]) -> bool:
    """A price billed in arrears from a meter's usage (no quantity of its own)."""
    return (price.get("recurring") or {}).get("usage_type") == "metered"


def quantity_of(item: dict[str, Any]) -> int:
    """A subscription item's quantity; metered items have none (0 for the arithmetic)."""
    return int(item.get("quantity") or 0)


def subscription_item(price: dict[str, Any], *, subscription_id: str, quantity: int,
                      created: int, period_start: int, period_end: int,
                      metadata: dict[str, str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": new_id("si", 14), "object": "subscription_item", "billing_thresholds": None,
        "created": created, "current_period_end": period_end,
        "current_period_start": period_start, "discounts": [], "metadata": metadata or {},
        "plan": plan_from_price(price), "price": copy.deepcopy(price), "quantity": quantity,
        "subscription": subscription_id, "tax_rates": [],
    }
    if is_metered(price):
        del item["quantity"]  # usage, not a quantity, decides what a metered item bills
    return item


def product_name(store: Store, price: dict[str, Any]) -> str:
    product = store.get("product", str(price.get("product")))
    return str(product.get("name") or "Product") if product else "Product"


def describe_price(store: Store, price: dict[str, Any], quantity: int) -> str:
    """Stripe's line wording: "1 × Pro (at $20.00 / month)"."""
    name = product_name(store, price)
    recurring = price.get("recurring")
    amount = format_minor(int(price.get("unit_amount") or 0), price["currency"])
    if not recurring:
        return f"{quantity} × {name}"
    every = recurring["interval"]
    if recurring.get("interval_count", 1) > 1:
        every = f"every {recurring['interval_count']} {every}s"
    return f"{quantity} × {name} (at {amount} / {every})"


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y")


def invoice_item(store: Store, *, customer: dict[str, Any], price: dict[str, Any] | None,
                 amount: int, quantity: int, date: int, period: tuple[int, int],
                 subscription_id: str | None, subscription_item_id: str | None,
                 proration: bool, unused: bool = False, currency: str | None = None,
                 description: str | None = None) -> dict[str, Any]:
    """A pending invoice item; prorations say "Unused/Remaining time on X after <date>".
    `price` None: an ad-hoc amount (`amount` + `currency`, no price behind it)."""
    if description is None and price is not None:
        if proration:
            kind = "Unused" if unused else "Remaining"
            name = product_name(store, price)
            description = f"{kind} time on {quantity} × {name} after {_date(period[0])}"
        else:
            description = describe_price(store, price, quantity)
    parent = None
    if subscription_id:
        parent = {"subscription_details": {"subscription": subscription_id,
                                           "subscription_item": subscription_item_id},
                  "type": "subscription_details"}
    return {
        "id": new_id("ii"), "object": "invoiceitem", "amount": amount,
        "currency": price["currency"] if price else currency, "customer": customer["id"],
        "customer_account": None, "date": date, "description": description,
        "discountable": not proration, "discounts": [], "invoice": None, "livemode": False,
        "metadata": {}, "net_amount": amount, "parent": parent,
        "period": {"end": period[1], "start": period[0]},
        "pricing": pricing(price, amount, quantity),
        "proration": proration, "quantity": quantity, "quantity_decimal": str(quantity),
        "tax_rates": [], "test_clock": customer.get("test_clock"),
    }


def pricing(price: dict[str, Any] | None, amount: int, quantity: int) -> dict[str, Any]:
    """The `pricing` hash of invoice items and lines."""
    if price is None:
        unit = str(amount // quantity) if quantity and amount % quantity == 0 else None
        return {"price_details": None, "type": "price_details", "unit_amount_decimal": unit}
    unit_amount = price.get("unit_amount")
    return {"price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": None if unit_amount is None else str(unit_amount)}


def price_of(store: Store, ii: dict[str, Any]) -> dict[str, Any] | None:
    """The price an invoice item bills, if any."""
    details = ii["pricing"].get("price_details")
    if not details:
        return None
    return store.get("price", details["price"]) or {"id": details["price"],
                                                     "product": details["product"]}


def _line(*, invoice_id: str, amount: int, currency: str, description: str | None,
          period: tuple[int, int], quantity: int, price: dict[str, Any] | None,
          subscription_id: str | None, parent: dict[str, Any],
          metadata: dict[str, str] | None = None, discountable: bool = True) -> dict[str, Any]:
    return {
        "id": new_id("il"), "object": "line_item", "amount": amount, "currency": currency,
        "description": description, "discount_amounts": [], "discountable": discountable,
        "discounts": [], "invoice": invoice_id, "livemode": False, "metadata": metadata or {},
        "parent": parent, "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": pricing(price, amount, quantity), "quantity": quantity, "quantity_decimal": str(quantity),
        "subscription": subscription_id, "subtotal": amount, "taxes": [],
    }


def line_from_sub_item(store: Store, invoice_id: str, item: dict[str, Any],
                       period: tuple[int, int]) -> dict[str, Any]:
    """A subscription line billing `item` for `period` (no proration)."""
    price = item["price"]
    quantity = quantity_of(item)
    return _line(
        invoice_id=invoice_id, amount=int(price.get("unit_amount") or 0) * quantity,
        currency=price["currency"], description=describe_price(store, price, quantity),
        period=period, quantity=quantity, price=price, subscription_id=item["subscription"],
        metadata=dict(item.get("metadata") or {}),
        parent={"invoice_item_details": None, "type": "subscription_item_details",
                "subscription_item_details": {
                    "invoice_item": None, "proration": False, "proration_details": None,
                    "subscription": item["subscription"], "subscription_item": item["id"]}})


def line_from_usage(store: Store, invoice_id: str, item: dict[str, Any],
                    period: tuple[int, int], usage: int) -> dict[str, Any]:
    """A metered item's line: the usage of `period` (billed in arrears) × the unit amount."""
    line = line_from_sub_item(store, invoice_id, item, period)
    price = item["price"]
    amount = usage_amount(price, usage)
    line.update(amount=amount, subtotal=amount, quantity=usage, quantity_decimal=str(usage),
                description=describe_price(store, price, usage))
    line["pricing"]["unit_amount_decimal"] = price.get("unit_amount_decimal")
    return line


def usage_amount(price: dict[str, Any], usage: int) -> int:
    """What `usage` units cost at the price: a `unit_amount_decimal` with a fraction of a cent is
    multiplied exactly and the line's total rounded once, half up (0.4 cent x 7 = 2.8 -> 3)."""
    unit = price.get("unit_amount")
    if unit is not None:
        return int(unit) * usage
    decimal = Decimal(str(price.get("unit_amount_decimal") or 0))
    return int((decimal * usage).to_integral_value(rounding=ROUND_HALF_UP))


def line_from_invoice_item(invoice_id: str, ii: dict[str, Any],
                           price: dict[str, Any] | None) -> dict[str, Any]:
    """The line an invoice item becomes; a subscription's proration points at its item."""
    details = (ii.get("parent") or {}).get("subscription_details") or {}
    sub_id = details.get("subscription")
    # A credit for unused time names the line that billed that time (see billing.proration).
    proration_details = {"credited_items": ii.get("_credited_items")} if ii["proration"] else None
    if sub_id and details.get("subscription_item"):
        parent = {"invoice_item_details": None, "type": "subscription_item_details",
                  "subscription_item_details": {
                      "invoice_item": ii["id"], "proration": ii["proration"],
                      "proration_details": proration_details, "subscription": sub_id,
                      "subscription_item": details["subscription_item"]}}
    else:
        parent = {"subscription_item_details": None, "type": "invoice_item_details",
                  "invoice_item_details": {
                      "invoice_item": ii["id"], "proration": ii["proration"],
                      "proration_details": proration_details, "subscription": sub_id}}
    period = (ii["period"]["start"], ii["period"]["end"])
    return _line(invoice_id=invoice_id, amount=ii["amount"], currency=ii["currency"],
                 description=ii["description"], period=period, quantity=ii["quantity"],
                 price=price, subscription_id=sub_id, parent=parent,
                 metadata=dict(ii.get("metadata") or {}), discountable=bool(ii["discountable"]))
