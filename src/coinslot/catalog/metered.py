"""`catalog push` for overage: the meter every plan's overage is reported to, and each plan's metered price.

    the meter         one per account, found by its event name (`core.OVERAGE_EVENT_NAME`), summing
                      credits per Stripe customer; created when a plan has overage and none is active
    a metered price   per plan and interval: `recurring[usage_type]=metered` on the meter, priced per credit
                      with `unit_amount_decimal` (exact, fractions of a cent allowed), on the plan's product;
                      found by lookup key, replaced like any price when its amount, interval or meter differs

A price's metadata names it `overage:<plan>` (not `plan:<plan>`), so nothing mistakes it for the plan's
own price when reading a subscription or an invoice line.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from coinslot.catalog.core import ITEM_KEY_METADATA, OVERAGE_EVENT_NAME, Catalog, OveragePrice, overage_prices
from coinslot.catalog.push_actions import PushAction
from coinslot.stripe_gateway import StripeGateway
from coinslot.stripe_gateway.catalog import StripePriceData, StripeProductData
from coinslot.stripe_gateway.meters import unit_amount_text

__all__ = ["METER_ACTIONS", "apply_metered", "plan_metered"]

METER_ACTIONS = ("create_meter", "create_metered_price", "replace_metered_price")
_METER_DISPLAY_NAME = "coinslot overage (credits beyond the balance)"


def _amount(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text is not None else None
    except InvalidOperation:
        return None


def _matches(price: OveragePrice, held: StripePriceData, *, product_id: str | None,
             meter_id: str | None) -> bool:
    return (_amount(held.unit_amount_decimal) == price.unit_amount_minor and held.currency == price.currency
            and held.interval == price.interval and meter_id is not None and held.meter == meter_id
            and (product_id is None or held.product == product_id))


def _label(price: OveragePrice) -> str:
    return (f"{price.lookup_key}: {unit_amount_text(price.unit_amount_minor)} {price.currency} per credit "
            f"beyond the balance, metered, billed each {price.interval}")


def plan_metered(
    gateway: StripeGateway, catalog: Catalog, *, products: dict[str, StripeProductData]
) -> tuple[list[PushAction], int]:
    """The meter and metered-price actions the catalog needs (reads only), and how many prices are current."""
    prices = overage_prices(catalog)
    if not prices:
        return [], 0
    meter = gateway.meters.active_by_event_name(OVERAGE_EVENT_NAME)
    actions: list[PushAction] = []
    if meter is None:
        actions.append(PushAction("create_meter", OVERAGE_EVENT_NAME,
                                  f"create meter {OVERAGE_EVENT_NAME} (sums overage credits per customer)",
                                  name=_METER_DISPLAY_NAME))
    current = gateway.catalog.prices_by_lookup_key([price.lookup_key for price in prices])
    unchanged = 0
    for price in prices:
        held = current.get(price.lookup_key)
        product = products.get(price.product_key)
        if held is None:
            actions.append(PushAction("create_metered_price", price.lookup_key,
                                      f"create metered price {_label(price)}", metered=price))
        elif not _matches(price, held, product_id=product.id if product else None,
                          meter_id=meter.id if meter else None):
            actions.append(PushAction("replace_metered_price", price.lookup_key,
                                      f"replace metered price {held.id} with {_label(price)}; {held.id} is "
                                      "deactivated", metered=price, replaces=held))
        else:
            unchanged += 1
    return actions, unchanged


def apply_metered(
    gateway: StripeGateway, action: PushAction, product_ids: dict[str, str], *,
    idempotency_key: Callable[..., str],
) -> None:
    """Make one planned meter or metered-price change; keys derived from the change, as for every price."""
    if action.kind == "create_meter":
        gateway.meters.create(event_name=OVERAGE_EVENT_NAME, display_name=action.name,
                              idempotency_key=idempotency_key("meter", OVERAGE_EVENT_NAME))
        return
    price = action.metered
    assert price is not None
    meter = gateway.meters.active_by_event_name(OVERAGE_EVENT_NAME)
    if meter is None:
        raise RuntimeError(f"no active meter {OVERAGE_EVENT_NAME} to bill {price.lookup_key}")
    product_id = product_ids[price.product_key]
    replaced = action.replaces.id if action.replaces else None
    amount = unit_amount_text(price.unit_amount_minor)
    created = gateway.meters.create_metered_price(
        product_id=product_id, unit_amount_minor=price.unit_amount_minor, currency=price.currency,
        interval=price.interval, meter_id=meter.id, lookup_key=price.lookup_key,
        metadata={ITEM_KEY_METADATA: f"overage:{price.plan_key}", "coinslot_path": price.path},
        idempotency_key=idempotency_key("metered_price", price.lookup_key, amount, price.currency,
                                        price.interval, product_id, meter.id, replaced),
    )
    if replaced is not None and replaced != created.id:
        gateway.catalog.deactivate_price(replaced)
