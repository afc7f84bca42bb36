"""The catalog as plain, frozen data: what is sold, for how much, and what it unlocks.

Parsed once from the operator's TOML file (`catalog/parser.py`) and shared by
every domain. Amounts are integer minor units; multipliers are Decimals parsed
from the file's text, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = [
    "Catalog",
    "CatalogItemRef",
    "CreditPack",
    "Feature",
    "Interval",
    "OneTimeProduct",
    "Plan",
    "PlanPrice",
]

Interval = Literal["month", "year"]
ItemKind = Literal["plan", "product", "pack"]


@dataclass(frozen=True, slots=True)
class Feature:
    """Something a host app guards. `credits` is the cost of one use (0 = free to use)."""

    key: str
    name: str
    credits: int = 0
    multiplier_param: str | None = None  # request parameter that scales the cost, e.g. "complexity"
    multipliers: dict[str, Decimal] = field(default_factory=dict)  # value -> factor; cost rounds up
    limit_per_period: int | None = None  # uses per billing period, None = no limit


@dataclass(frozen=True, slots=True)
class PlanPrice:
    interval: Interval
    amount_minor: int
    currency: str
    lookup_key: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A free plan or a subscription with a monthly and/or yearly price."""

    key: str
    name: str
    kind: Literal["free", "subscription"]
    rank: int  # position in the file: higher rank = bigger plan (upgrade vs downgrade)
    description: str = ""
    prices: dict[Interval, PlanPrice] = field(default_factory=dict)
    credits_per_period: int = 0
    unlimited: bool = False  # usage is recorded but never decrements a balance
    rollover_cap: int = 0  # unused period credits carried into the next period, up to this many
    features: frozenset[str] = frozenset()
    bullets: tuple[str, ...] = ()
    popular: bool = False
    trial_days: int = 0
    allow_promotion_codes: bool = False
    automatic_tax: bool = False


@dataclass(frozen=True, slots=True)
class OneTimeProduct:
    """Paid once, e.g. Skinova's consultation; `accepts_payload` lets an order carry a form."""

    key: str
    name: str
    amount_minor: int
    currency: str
    lookup_key: str
    description: str = ""
    accepts_payload: bool = False
    allow_promotion_codes: bool = False
    automatic_tax: bool = False


@dataclass(frozen=True, slots=True)
class CreditPack:
    """Credits bought once: a fixed bundle, or per credit with a minimum amount."""

    key: str
    name: str
    kind: Literal["fixed", "per_credit"]
    currency: str
    lookup_key: str
    credits: int | None = None  # fixed bundles
    amount_minor: int | None = None  # fixed bundles: price of the bundle
    unit_amount_minor: int | None = None  # per_credit: price of one credit
    minimum_amount_minor: int = 0  # per_credit: smallest total accepted
    expires_after_days: int | None = None  # None = purchased credits never expire
    description: str = ""
    allow_promotion_codes: bool = False
    automatic_tax: bool = False


@dataclass(frozen=True, slots=True)
class CatalogItemRef:
    """What a Stripe price stands for in the catalog."""

    kind: ItemKind
    key: str
    interval: Interval | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    name: str
    currency: str
    default_plan: str  # the plan of users with no subscription that grants access
    plans: dict[str, Plan]
    products: dict[str, OneTimeProduct]
    packs: dict[str, CreditPack]
    features: dict[str, Feature]
    source: str = ""  # file path, for error messages

    def item_for_lookup_key(self, lookup_key: str) -> CatalogItemRef | None:
        for plan in self.plans.values():
            for interval, price in plan.prices.items():
                if price.lookup_key == lookup_key:
                    return CatalogItemRef("plan", plan.key, interval)
        for product in self.products.values():
            if product.lookup_key == lookup_key:
                return CatalogItemRef("product", product.key)
        for pack in self.packs.values():
            if pack.lookup_key == lookup_key:
                return CatalogItemRef("pack", pack.key)
        return None
