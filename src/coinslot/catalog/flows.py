"""`catalog push`: make Stripe's products and prices match the catalog file, idempotently.

    plan_push   read Stripe (products by metadata `coinslot_key`, prices by lookup key) and list
                the changes: create/update a product, create a price (new, or because the amount
                changed: amounts are immutable at Stripe, so a new price takes the lookup key over
                with `transfer_lookup_key` and the old one is deactivated)
    apply_push  make them, in order; a second run finds nothing to change

No database rows are involved, so the idempotency keys are derived from the
change itself (what is created, and which price it replaces): a retried push
cannot create a second copy, and a later change back to an old amount is a new request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from coinslot.catalog.core import (
    DEFAULT_VERSION,
    ITEM_KEY_METADATA,
    VERSION_METADATA,
    Catalog,
    CatalogPrice,
    catalog_prices,
)
from coinslot.catalog.metered import METER_ACTIONS, apply_metered, plan_metered
from coinslot.catalog.push_actions import PushAction, PushPlan
from coinslot.stripe_gateway import StripeGateway
from coinslot.stripe_gateway.catalog import StripePriceData, StripeProductData

__all__ = ["PushAction", "PushPlan", "apply_push", "plan_push"]

PRODUCT_KEY = ITEM_KEY_METADATA


def _idempotency_key(*parts: object) -> str:
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()[:32]
    return f"coinslot-push-{digest}"


def _products(catalog: Catalog) -> dict[str, tuple[str, str]]:
    """product key -> (name, description), for every item that has prices."""
    found: dict[str, tuple[str, str]] = {}
    for price in catalog_prices(catalog):
        found.setdefault(price.product_key, (price.product_name, price.product_description))
    return found


def _price_matches(
    catalog: Catalog, price: CatalogPrice, existing: StripePriceData, product_id: str | None
) -> bool:
    return (
        existing.unit_amount == price.amount_minor
        and existing.currency == price.currency
        and existing.interval == price.interval
        and (product_id is None or existing.product == product_id)
        and _sells_version(catalog, price, existing)
    )


def _sells_version(catalog: Catalog, price: CatalogPrice, existing: StripePriceData) -> bool:
    """A plan's new version gets a price of its own even at the same amount: the old price keeps
    billing (and so naming) the earlier version's subscribers."""
    plan = catalog.plans.get(price.ref.key) if price.ref.kind == "plan" else None
    return plan is None or plan.version_of_price(existing.metadata) == price.version


def plan_push(gateway: StripeGateway, catalog: Catalog) -> PushPlan:
    """What `apply_push` would change at Stripe (reads only)."""
    existing = {
        product.metadata[PRODUCT_KEY]: product
        for product in gateway.catalog.list_products()
        if product.metadata.get(PRODUCT_KEY)
    }
    actions: list[PushAction] = []
    for key, (name, description) in _products(catalog).items():
        product = existing.get(key)
        if product is None:
            actions.append(
                PushAction(
                    "create_product",
                    key,
                    f"create product {key} ({name})",
                    name=name,
                    product_description=description,
                )
            )
        elif (product.name, product.description, product.active) != (name, description, True):
            actions.append(
                PushAction(
                    "update_product",
                    key,
                    f"update product {key} ({name})",
                    product_id=product.id,
                    name=name,
                    product_description=description,
                )
            )
    managed = [price for price in catalog_prices(catalog) if price.pinned_id(gateway.livemode) is None]
    pinned = [
        price.path for price in catalog_prices(catalog) if price.pinned_id(gateway.livemode) is not None
    ]
    current = gateway.catalog.prices_by_lookup_key([price.lookup_key for price in managed])
    unchanged = 0
    for price in managed:
        product = existing.get(price.product_key)
        held = current.get(price.lookup_key)
        if held is None:
            actions.append(
                PushAction("create_price", price.lookup_key, f"create price {_label(price)}", price)
            )
        elif not _price_matches(catalog, price, held, product.id if product else None):
            was = f"{held.unit_amount} {held.currency}" + (f"/{held.interval}" if held.interval else "")
            actions.append(
                PushAction(
                    "replace_price",
                    price.lookup_key,
                    f"replace price {held.id} ({was}) with {_label(price)}; {held.id} is deactivated",
                    price,
                    replaces=held,
                )
            )
        else:
            unchanged += 1
    metered, metered_unchanged = plan_metered(gateway, catalog, products=existing)
    return PushPlan(gateway.livemode, actions + metered, pinned, unchanged + metered_unchanged)


def _label(price: CatalogPrice) -> str:
    per = f"/{price.interval}" if price.interval else " one-time"
    version = f" (version {price.version})" if price.version not in (None, DEFAULT_VERSION) else ""
    return f"{price.lookup_key}: {price.amount_minor} {price.currency}{per}{version}"


def apply_push(
    gateway: StripeGateway, plan: PushPlan, *, on_step: Callable[[PushAction], None] | None = None
) -> list[str]:
    """Make the planned changes, products first; returns one line per change made."""
    product_ids = {
        product.metadata[PRODUCT_KEY]: product.id
        for product in gateway.catalog.list_products()
        if product.metadata.get(PRODUCT_KEY)
    }
    done: list[str] = []
    # Products first, then the meter, then prices (a metered price names its product and its meter).
    order = {"create_product": 0, "update_product": 0, "create_meter": 1}
    ordered = sorted(plan.actions, key=lambda action: order.get(action.kind, 2))
    for action in ordered:
        if action.kind in ("create_product", "update_product"):
            product_ids[action.key] = _apply_product(gateway, action).id
        elif action.kind in METER_ACTIONS:
            apply_metered(gateway, action, product_ids, idempotency_key=_idempotency_key)
        else:
            _apply_price(gateway, action, product_ids)
        done.append(action.description)
        if on_step is not None:
            on_step(action)
    return done


def _apply_product(gateway: StripeGateway, action: PushAction) -> StripeProductData:
    if action.kind == "update_product" and action.product_id is not None:
        return gateway.catalog.update_product(
            action.product_id, name=action.name, description=action.product_description
        )
    return gateway.catalog.create_product(
        name=action.name,
        description=action.product_description,
        metadata={PRODUCT_KEY: action.key},
        idempotency_key=_idempotency_key("product", action.key, action.name),
    )


def _apply_price(gateway: StripeGateway, action: PushAction, product_ids: dict[str, str]) -> None:
    price = action.price
    assert price is not None
    product_id = product_ids[price.product_key]
    replaced = action.replaces.id if action.replaces else None
    created = gateway.catalog.create_price(
        product_id=product_id,
        amount_minor=price.amount_minor,
        currency=price.currency,
        interval=price.interval,
        lookup_key=price.lookup_key,
        metadata={PRODUCT_KEY: price.product_key, "coinslot_path": price.path,
                  **({VERSION_METADATA: price.version} if price.version else {})},
        idempotency_key=_idempotency_key(
            "price",
            price.lookup_key,
            price.amount_minor,
            price.currency,
            price.interval,
            product_id,
            replaced,
            *([price.version] if price.version else []),
        ),
    )
    if replaced is not None and replaced != created.id:
        gateway.catalog.deactivate_price(replaced)
