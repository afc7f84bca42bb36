"""Pure checkout rules: what is being bought, for how much, where the browser may go back, order states.

No I/O and no clock: flows and services call these with what they loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from coinslot.catalog.core import (
    Catalog,
    CatalogItemRef,
    CatalogPrice,
    Interval,
    catalog_prices,
    checked_seats,
)
from coinslot.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from coinslot.money import format_minor

__all__ = [
    "HOST_SETTABLE_STATUSES",
    "ORDER_TRANSITIONS",
    "CheckoutItem",
    "ItemRequest",
    "check_payload_size",
    "next_order_status",
    "pack_credits",
    "resolve_item",
]

Mode = Literal["payment", "subscription"]

# Order state machine. PAID is reached only from a paid Checkout Session
# (fulfil_checkout_session), never set by the host; FULFILLED and CANCELED are the host's.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"paid", "canceled"}),
    "paid": frozenset({"fulfilled", "canceled"}),
    "fulfilled": frozenset(),
    "canceled": frozenset(),
}
HOST_SETTABLE_STATUSES = frozenset({"fulfilled", "canceled"})


def next_order_status(current: str, target: str) -> str:
    """`target` if the machine allows current -> target; Conflict (409) otherwise."""
    if target not in ORDER_TRANSITIONS:
        raise InvalidInput(f"unknown order status {target!r}", field="status")
    if target not in ORDER_TRANSITIONS.get(current, frozenset()):
        raise Conflict(f"an order that is {current} cannot become {target}", code="order_state")
    return target


@dataclass(frozen=True, slots=True)
class ItemRequest:
    """What the caller asked for: exactly one of plan / product / pack / lookup_key."""

    plan: str | None = None
    interval: Interval | None = None
    product: str | None = None
    pack: str | None = None
    lookup_key: str | None = None
    quantity: int = 1
    mode: Mode | None = None  # optional; when given it must agree with the price


@dataclass(frozen=True, slots=True)
class CheckoutItem:
    """A resolved purchase: the catalog price, the Checkout mode it implies, and the options to pass on."""

    price: CatalogPrice
    mode: Mode
    quantity: int
    amount_total_minor: int
    trial_days: int = 0
    allow_promotion_codes: bool = False
    automatic_tax: bool = False
    trial_without_card: str | None = None  # the catalog's: no card asked; what the trial's end then does

    @property
    def ref(self) -> CatalogItemRef:
        return self.price.ref

    @property
    def metadata_item(self) -> str:
        return f"{self.ref.kind}:{self.ref.key}"


def _price_for(catalog: Catalog, ref: CatalogItemRef) -> CatalogPrice:
    for price in catalog_prices(catalog):
        if price.ref == ref:
            return price
    raise NotFound(f"{ref.kind} {ref.key!r} has no price")


def _ref_for(catalog: Catalog, request: ItemRequest) -> CatalogItemRef:
    given = [name for name in ("plan", "product", "pack", "lookup_key") if getattr(request, name)]
    if len(given) != 1:
        raise InvalidInput("name exactly one of plan, product, pack or lookup_key", field="item")
    if request.lookup_key:
        ref = catalog.item_for_lookup_key(request.lookup_key)
        if ref is None:
            raise NotFound(
                f"no price with lookup key {request.lookup_key!r} in the catalog", field="lookup_key"
            )
        if ref.kind == "addon":
            raise InvalidInput(f"add-on {ref.key!r} is added to a subscription, not bought at checkout: "
                               "subscribe to a plan first", field="lookup_key")
        return ref
    if request.plan:
        plan = catalog.plans.get(request.plan)
        if plan is None:
            raise NotFound(f"unknown plan {request.plan!r}; plans: {', '.join(catalog.plans)}", field="plan")
        if plan.kind == "free":
            raise InvalidInput(f"plan {plan.key!r} is free: it needs no checkout", field="plan")
        interval = request.interval or ("month" if "month" in plan.prices else "year")
        if interval not in plan.prices:
            raise InvalidInput(f"plan {plan.key!r} has no {interval}ly price", field="interval")
        return CatalogItemRef("plan", plan.key, interval)
    if request.product:
        if request.product not in catalog.products:
            raise NotFound(f"unknown product {request.product!r}", field="product")
        return CatalogItemRef("product", request.product)
    assert request.pack is not None
    if request.pack not in catalog.packs:
        raise NotFound(f"unknown credit pack {request.pack!r}", field="pack")
    return CatalogItemRef("pack", request.pack)


def resolve_item(catalog: Catalog, request: ItemRequest) -> CheckoutItem:
    """Turn a request into a CheckoutItem, or say precisely what is wrong with it (404 / 422)."""
    if request.quantity <= 0:
        raise InvalidInput(f"quantity must be at least 1, not {request.quantity}", field="quantity")
    ref = _ref_for(catalog, request)
    price = _price_for(catalog, ref)
    mode: Mode = "subscription" if ref.kind == "plan" else "payment"
    if request.mode is not None and request.mode != mode:
        kind = "a recurring" if mode == "subscription" else "a one-time"
        raise InvalidInput(
            f"{ref.kind} {ref.key!r} is {kind} price: it needs mode {mode!r}, not {request.mode!r}",
            field="mode",
        )
    if ref.kind == "plan":
        plan = catalog.plans[ref.key]
        seats = checked_seats(plan, request.quantity)
        return CheckoutItem(
            price,
            mode,
            seats,
            price.amount_minor * seats,
            plan.trial_days,
            plan.allow_promotion_codes,
            plan.automatic_tax,
            plan.trial_without_card,
        )
    if ref.kind == "product":
        product = catalog.products[ref.key]
        return CheckoutItem(
            price,
            mode,
            request.quantity,
            price.amount_minor * request.quantity,
            0,
            product.allow_promotion_codes,
            product.automatic_tax,
        )
    pack = catalog.packs[ref.key]
    total = price.amount_minor * request.quantity
    if pack.kind == "per_credit" and total < pack.minimum_amount_minor:
        unit = price.amount_minor
        least = -(-pack.minimum_amount_minor // unit)
        raise InvalidInput(
            f"{request.quantity} credits cost {format_minor(total, price.currency)}, below the minimum of "
            f"{format_minor(pack.minimum_amount_minor, price.currency)}: buy at least {least} credits",
            field="quantity",
            code="below_minimum",
        )
    return CheckoutItem(
        price, mode, request.quantity, total, 0, pack.allow_promotion_codes, pack.automatic_tax
    )


def pack_credits(catalog: Catalog, pack_key: str, quantity: int) -> int:
    """Credits a paid pack line grants: bundles x credits, or one credit per unit of a per-credit pack."""
    pack = catalog.packs[pack_key]
    if pack.kind == "fixed":
        return (pack.credits or 0) * quantity
    return quantity


def check_payload_size(payload: dict[str, Any], *, max_bytes: int) -> int:
    """The payload's size as stored (compact JSON, UTF-8); PayloadTooLarge (413) above `max_bytes`."""
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > max_bytes:
        raise PayloadTooLarge(f"order payload is {size} bytes; the limit is {max_bytes}", field="payload")
    return size
