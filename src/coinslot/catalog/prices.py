"""The one way from a catalog price to the Stripe price that bills it: checkout, plan changes and the
portal all resolve prices here, so every path refuses a Stripe price the catalog does not agree with.

A rule written twice drifted once: the plan switch had its own copy of this lookup without the
amount check, and could bill a stale price after an unpushed catalog edit.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from coinslot.catalog.core import (
    Catalog,
    CatalogPrice,
    Interval,
    OveragePrice,
    catalog_prices,
    overage_prices,
)
from coinslot.errors import Conflict, InvalidInput, NotFound
from coinslot.stripe_gateway import StripeGateway
from coinslot.stripe_gateway.catalog import StripePriceData

__all__ = [
    "addon_price", "catalog_prices", "overage_price_id", "plan_price", "resolve_price", "resolve_prices",
]


def plan_price(catalog: Catalog, *, plan_key: str, interval: Interval) -> CatalogPrice:
    """The catalog price of a subscription plan at an interval; InvalidInput naming the field if none."""
    plan = catalog.plans.get(plan_key)
    if plan is None or plan.kind != "subscription":
        raise InvalidInput(f"no subscription plan {plan_key!r} in the catalog", field="plan")
    for price in catalog_prices(catalog):
        if price.ref.kind == "plan" and price.ref.key == plan_key and price.interval == interval:
            return price
    raise InvalidInput(f"plan {plan_key!r} has no {interval}ly price", field="interval")


def addon_price(catalog: Catalog, *, addon_key: str, interval: Interval) -> CatalogPrice:
    """The catalog price of an add-on at a subscription's interval; NotFound / InvalidInput naming `addon`."""
    addon = catalog.addons.get(addon_key)
    if addon is None:
        known = ", ".join(catalog.addons) or "none"
        raise NotFound(f"no add-on {addon_key!r} in the catalog (add-ons: {known})", field="addon")
    for price in catalog_prices(catalog):
        if price.ref.kind == "addon" and price.ref.key == addon_key and price.interval == interval:
            return price
    raise InvalidInput(f"add-on {addon_key!r} has no {interval}ly price, and the subscription bills "
                       f"{interval}ly", field="addon")


def resolve_price(gateway: StripeGateway, price: CatalogPrice) -> str:
    """The id of the Stripe price that bills `price`, checked against the catalog's amount and currency.

    A pinned id (the file's `price_id_test`/`price_id_live`) is read back; otherwise the active
    price holding the lookup key. Refused (409 `price_out_of_date`) when Stripe's amount, currency or
    interval differs from the file: charging an amount the catalog does not say would be worse than
    refusing, and `coinslot catalog push` fixes it. NotFound (`price_not_pushed`) when Stripe has none.
    """
    found = _stripe_prices(gateway, [price]).get(price.lookup_key)
    if found is None:
        raise NotFound(
            f"Stripe has no active price with lookup key {price.lookup_key!r}: run `coinslot catalog push`",
            code="price_not_pushed",
        )
    _check_agrees(price, found)
    return found.id


def resolve_prices(gateway: StripeGateway, prices: list[CatalogPrice]) -> dict[str, StripePriceData]:
    """The Stripe prices that bill `prices` and agree with them (lookup key -> price), one lookup call per
    ten keys. Prices Stripe lacks or disagrees on are left out: for lists offered to a customer (the
    portal's plans), where one unpushed price must not block the rest."""
    found = _stripe_prices(gateway, prices)
    agreeing: dict[str, StripePriceData] = {}
    for price in prices:
        stripe_price = found.get(price.lookup_key)
        if stripe_price is None:
            continue
        try:
            _check_agrees(price, stripe_price)
        except Conflict:
            continue
        agreeing[price.lookup_key] = stripe_price
    return agreeing


def _stripe_prices(gateway: StripeGateway, prices: list[CatalogPrice]) -> dict[str, StripePriceData]:
    by_lookup = [price.lookup_key for price in prices if price.pinned_id(gateway.livemode) is None]
    found = gateway.catalog.prices_by_lookup_key(by_lookup) if by_lookup else {}
    for price in prices:
        pinned = price.pinned_id(gateway.livemode)
        if pinned is not None:
            found[price.lookup_key] = gateway.catalog.retrieve_price(pinned)
    return found


def _check_agrees(price: CatalogPrice, stripe_price: StripePriceData) -> None:
    differs = (stripe_price.unit_amount != price.amount_minor or stripe_price.currency != price.currency
               or stripe_price.interval != price.interval)
    if differs:
        billed = _described(stripe_price.unit_amount, stripe_price.currency, stripe_price.interval)
        declared = _described(price.amount_minor, price.currency, price.interval)
        raise Conflict(
            f"Stripe's price {stripe_price.id} ({billed}) differs from the catalog's {price.path} "
            f"({declared}): run `coinslot catalog push`",
            code="price_out_of_date",
        )


def _described(amount_minor: int | None, currency: str, interval: str | None) -> str:
    return f"{amount_minor} {currency}" + (f" per {interval}" if interval else "")


def overage_price_id(gateway: StripeGateway, catalog: Catalog, price: CatalogPrice) -> str | None:
    """The metered price a subscription to `price`'s plan carries as its second item (the plan's overage,
    at the same interval), checked like any price; None for a plan without overage.

    Refused (409 `price_out_of_date`) when Stripe's amount per credit, currency or interval differs from
    the file, NotFound (`price_not_pushed`) when Stripe has none: a subscription that could not bill its
    overage must not start, or the overage its uses run up would never be charged.
    """
    metered = next((each for each in overage_prices(catalog)
                    if price.ref.kind == "plan" and each.plan_key == price.ref.key
                    and each.interval == price.interval), None)
    if metered is None:
        return None
    found = gateway.catalog.prices_by_lookup_key([metered.lookup_key]).get(metered.lookup_key)
    if found is None:
        raise NotFound(
            f"Stripe has no active price with lookup key {metered.lookup_key!r}: run `coinslot catalog push`",
            code="price_not_pushed",
        )
    if not _metered_agrees(metered, found):
        raise Conflict(
            f"Stripe's metered price {found.id} ({found.unit_amount_decimal} {found.currency} per credit, "
            f"{found.interval}) differs from the catalog's {metered.path}: run `coinslot catalog push`",
            code="price_out_of_date",
        )
    return found.id


def _metered_agrees(metered: OveragePrice, found: StripePriceData) -> bool:
    try:
        amount = Decimal(found.unit_amount_decimal or "")
    except InvalidOperation:
        return False
    return (amount == metered.unit_amount_minor and found.currency == metered.currency
            and found.interval == metered.interval and found.meter is not None)
