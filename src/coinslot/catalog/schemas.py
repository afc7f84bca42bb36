"""The catalog as `GET /v1/plans` shows it: what a host renders on its pricing page (no Stripe ids)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from coinslot.catalog.core import (
    Addon,
    Catalog,
    CreditPack,
    Feature,
    Interval,
    OneTimeProduct,
    Plan,
    PlanPrice,
    minimum_quantity,
    yearly_saving,
)
from coinslot.money import format_minor

__all__ = [
    "AddonOut", "CatalogOut", "FeatureOut", "PackOut", "PlanOut", "PlanPriceOut", "ProductOut", "catalog_out",
]


class PlanPriceOut(BaseModel):
    """A plan's price at one billing interval."""

    interval: str = Field(description="month or year")
    amount_minor: int = Field(description="the price, in minor units", examples=[1499])
    currency: str = Field(description="ISO currency code, lower case", examples=["usd"])
    display_amount: str = Field(description="the price formatted for people", examples=["$14.99"])
    yearly_saving_minor: int | None = Field(description="year prices: saved against twelve monthly ones")
    yearly_saving_percent: int | None = Field(description="the same, in whole percent")


class PlanOut(BaseModel):
    """A plan: free, or a subscription with monthly and/or yearly prices."""

    key: str = Field(description="the plan's catalog key: pass it to startCheckout and changePlan")
    name: str = Field(description="display name")
    description: str = Field(description="one line about it")
    kind: str = Field(description="free or subscription")
    is_default: bool = Field(description="the plan of users without a subscription")
    popular: bool = Field(description="highlight it")
    credits_per_month: int = Field(description="credits granted each month (yearly plans: each month too)")
    unlimited: bool = Field(description="uses are recorded, never counted down")
    rollover_cap: int = Field(description="unused credits carried into the next period, up to this many")
    trial_days: int = Field(description="free days before the first charge (0: none)")
    features: list[str] = Field(description="catalog keys of the features it unlocks")
    bullets: list[str] = Field(description="lines to show under the price")
    prices: list[PlanPriceOut] = Field(description="one per billing interval")
    per_seat: bool = Field(default=False, description="priced per seat: checkout takes the seats as quantity")
    seat_credits: str | None = Field(default=None,
                                     description="per_seat (credits_per_month is per seat) or pooled (for "
                                                 "the whole team); null if not per seat")
    min_seats: int | None = Field(default=None, description="per seat: the fewest seats sold")
    max_seats: int | None = Field(default=None, description="per seat: the most seats sold")


class AddonOut(BaseModel):
    """A recurring extra on a subscription: its own price, credits each month, features."""

    key: str = Field(description="the add-on's catalog key: pass it to addAddon")
    name: str = Field(description="display name")
    description: str = Field(description="one line about it")
    credits_per_month: int = Field(description="credits it adds each month")
    features: list[str] = Field(description="catalog keys of the features it unlocks")
    plans: list[str] = Field(description="the plans that may take it")
    prices: list[PlanPriceOut] = Field(description="one per billing interval (the subscription's)")


class FeatureOut(BaseModel):
    """Something a host guards, and what a use costs."""

    key: str = Field(description="the feature's catalog key: pass it to check and consume")
    name: str = Field(description="display name")
    credits: int = Field(description="cost of one use, before multipliers (0: free to use)")
    multiplier_param: str | None = Field(description="the request parameter that scales the cost")
    multipliers: dict[str, str] = Field(description="parameter value -> factor, as an exact decimal string "
                                                    "(the cost is rounded up)", examples=[{"high": "1.5"}])
    limit_per_period: int | None = Field(description="uses allowed per billing period (null: no limit)")


class PackOut(BaseModel):
    """Credits sold once: a bundle, or per credit with a minimum amount."""

    key: str = Field(description="the pack's catalog key: pass it to startCheckout")
    name: str = Field(description="display name")
    description: str = Field(description="one line about it")
    kind: str = Field(description="fixed (a bundle) or per_credit")
    currency: str = Field(description="ISO currency code, lower case")
    credits: int | None = Field(description="fixed: credits in the bundle")
    amount_minor: int | None = Field(description="fixed: price of the bundle, in minor units")
    unit_amount_minor: int | None = Field(description="per_credit: price of one credit, in minor units")
    minimum_amount_minor: int = Field(description="per_credit: the smallest total accepted")
    minimum_quantity: int = Field(description="the fewest credits (or bundles) that can be bought")
    display_amount: str = Field(description="the bundle's or one credit's price, formatted")
    expires_after_days: int | None = Field(description="bought credits expire after this (null: never)")


class ProductOut(BaseModel):
    """Something paid once (a consultation): an order can carry a form."""

    key: str = Field(description="the product's catalog key: pass it to createOrder or startCheckout")
    name: str = Field(description="display name")
    description: str = Field(description="one line about it")
    amount_minor: int = Field(description="its price, in minor units")
    currency: str = Field(description="ISO currency code, lower case")
    display_amount: str = Field(description="the price, formatted")
    accepts_payload: bool = Field(description="an order saves the user's form before payment")


class CatalogOut(BaseModel):
    """What is sold: plans, features, credit packs and one-time products."""

    name: str = Field(description="the product's name, e.g. Patch-Hive")
    currency: str = Field(description="the catalog's currency")
    default_plan: str = Field(description="the plan of users without a subscription")
    plans: list[PlanOut] = Field(description="in the catalog's order: smaller to bigger")
    features: list[FeatureOut] = Field(description="every guarded feature")
    packs: list[PackOut] = Field(description="credit packs")
    products: list[ProductOut] = Field(description="one-time products")
    addons: list[AddonOut] = Field(default_factory=list, description="recurring extras on a subscription")


def _prices(prices: dict[Interval, PlanPrice], saving: tuple[int, int] | None) -> list[PlanPriceOut]:
    return [
        PlanPriceOut(
            interval=interval, amount_minor=price.amount_minor, currency=price.currency,
            display_amount=format_minor(price.amount_minor, price.currency),
            yearly_saving_minor=saving[0] if saving and interval == "year" else None,
            yearly_saving_percent=saving[1] if saving and interval == "year" else None,
        )
        for interval, price in sorted(prices.items(), key=lambda item: item[0] != "month")
    ]


def _addon(addon: Addon) -> AddonOut:
    return AddonOut(key=addon.key, name=addon.name, description=addon.description,
                    credits_per_month=addon.credits_per_period, features=sorted(addon.features),
                    plans=sorted(addon.plans), prices=_prices(addon.prices, None))


def _plan(plan: Plan, catalog: Catalog) -> PlanOut:
    prices = _prices(plan.prices, yearly_saving(plan))
    seats = ({"per_seat": True, "seat_credits": plan.seat_credits, "min_seats": plan.min_seats,
              "max_seats": plan.max_seats} if plan.per_seat else {})
    return PlanOut(
        key=plan.key, name=plan.name, description=plan.description, kind=plan.kind,
        is_default=plan.key == catalog.default_plan, popular=plan.popular,
        credits_per_month=plan.credits_per_period, unlimited=plan.unlimited, rollover_cap=plan.rollover_cap,
        trial_days=plan.trial_days, features=sorted(plan.features), bullets=list(plan.bullets), prices=prices,
        **seats,
    )


def _feature(feature: Feature) -> FeatureOut:
    return FeatureOut(key=feature.key, name=feature.name, credits=feature.credits,
                      multiplier_param=feature.multiplier_param,
                      multipliers={value: str(factor) for value, factor in feature.multipliers.items()},
                      limit_per_period=feature.limit_per_period)


def _pack(pack: CreditPack) -> PackOut:
    unit = (pack.amount_minor if pack.kind == "fixed" else pack.unit_amount_minor) or 0
    least = 1 if pack.kind == "fixed" else minimum_quantity(unit_amount_minor=unit,
                                                             minimum_amount_minor=pack.minimum_amount_minor)
    return PackOut(
        key=pack.key, name=pack.name, description=pack.description, kind=pack.kind, currency=pack.currency,
        credits=pack.credits, amount_minor=pack.amount_minor, unit_amount_minor=pack.unit_amount_minor,
        minimum_amount_minor=pack.minimum_amount_minor, minimum_quantity=least,
        display_amount=format_minor(unit, pack.currency), expires_after_days=pack.expires_after_days,
    )


def _product(product: OneTimeProduct) -> ProductOut:
    return ProductOut(key=product.key, name=product.name, description=product.description,
                      amount_minor=product.amount_minor, currency=product.currency,
                      display_amount=format_minor(product.amount_minor, product.currency),
                      accepts_payload=product.accepts_payload)


def catalog_out(catalog: Catalog) -> CatalogOut:
    return CatalogOut(
        name=catalog.name, currency=catalog.currency, default_plan=catalog.default_plan,
        plans=[_plan(plan, catalog) for plan in catalog.plans.values()],
        features=[_feature(feature) for feature in catalog.features.values()],
        packs=[_pack(pack) for pack in catalog.packs.values()],
        products=[_product(product) for product in catalog.products.values()],
        addons=[_addon(addon) for addon in catalog.addons.values()],
    )
