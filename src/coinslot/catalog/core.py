"""The catalog as plain, frozen data: what is sold, for how much, and what it unlocks.

Parsed once from the operator's TOML file (`catalog/parser.py`) and shared by
every domain. Amounts are integer minor units; multipliers are Decimals parsed
from the file's text, never floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from coinslot.errors import InvalidInput
from coinslot.money import ceil_div

__all__ = [
    "DEFAULT_VERSION",
    "ITEM_KEY_METADATA",
    "OVERAGE_EVENT_NAME",
    "VERSION_METADATA",
    "Addon",
    "AutoTopupTerms",
    "Catalog",
    "CatalogItemRef",
    "CatalogPrice",
    "CreditPack",
    "Feature",
    "Interval",
    "OneTimeProduct",
    "Overage",
    "OveragePrice",
    "Plan",
    "PlanPrice",
    "PlanVersion",
    "catalog_prices",
    "checked_seats",
    "minimum_quantity",
    "monthly_allowance",
    "overage_prices",
    "yearly_saving",
]

Interval = Literal["month", "year"]
ItemKind = Literal["plan", "product", "pack", "addon"]
SeatCredits = Literal["per_seat", "pooled"]
# Metadata `catalog push` writes on every product and price it makes: the item's product key
# ("plan:pro", "product:consultation", "pack:credits"). A price keeps it for life, while its lookup key
# moves to the next price when the amount changes.
ITEM_KEY_METADATA = "coinslot_key"
# The Stripe Meter every plan's overage is reported to (one per account, found by this name): it sums
# credits per customer; each plan's metered price says what a credit costs.
OVERAGE_EVENT_NAME = "coinslot_overage_credits"
# Metadata `catalog push` writes on a plan's price: the plan version it sells (docs/catalog.md, "Plan
# versions"). A price without it was pushed before the plan had versions: it sells the oldest one.
VERSION_METADATA = "coinslot_version"
DEFAULT_VERSION = "v1"  # the version of a plan that never declared one


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
    # Price ids fixed by the operator (e.g. created by hand before coinslot); when set for
    # the key's mode, `catalog push` leaves that price alone and checkout uses the id as is.
    price_id_test: str | None = None
    price_id_live: str | None = None


@dataclass(frozen=True, slots=True)
class Overage:
    """Uses beyond the balance, billed in arrears on the subscription: a metered price on the overage
    meter, per credit. `unit_amount_minor` is exact and may be a fraction of a minor unit (Stripe's
    `unit_amount_decimal`: "0.4" is 0.4 cent); `cap_minor` is the most one period's overage may cost."""

    unit_amount_minor: Decimal
    currency: str
    features: frozenset[str]  # the plan's features whose uses may go into overage
    cap_minor: int | None = None  # None: no cap
    lookup_keys: dict[Interval, str] = field(default_factory=dict)  # one metered price per plan interval


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """An earlier version of a plan: the terms its subscribers keep (grandfathered) until they are moved.

    `prices` are what those subscribers pay per interval (their Stripe prices exist already: nobody new
    can buy an earlier version, so it has no lookup key)."""

    label: str
    prices: dict[Interval, int]  # amount in minor units per interval
    currency: str
    credits_per_period: int
    unlimited: bool
    rollover_cap: int
    features: frozenset[str]


@dataclass(frozen=True, slots=True)
class Plan:
    """A free plan or a subscription with a monthly and/or yearly price.

    Its fields are the terms of its current `version`, the one sold; `earlier_versions` (oldest first)
    keep the terms of the versions that still have subscribers (`terms(version)`).
    """

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
    overage: Overage | None = None  # None: a use the balance does not cover is refused
    version: str = DEFAULT_VERSION
    earlier_versions: dict[str, PlanVersion] = field(default_factory=dict)
    # A trial without a card: what Stripe does when it ends with no payment method ("cancel", "pause",
    # "create_invoice"); None = Checkout asks for a card before the trial starts.
    trial_without_card: str | None = None

    # Per seat: the price is per seat (the subscription item's quantity); `seat_credits` says whether
    # `credits_per_period` (and `rollover_cap`) are per seat or one pool for the whole team.
    per_seat: bool = False
    seat_credits: SeatCredits = "per_seat"
    min_seats: int = 1
    max_seats: int = 1


    @property
    def oldest_version(self) -> str:
        return next(iter(self.earlier_versions), self.version)

    @property
    def versions(self) -> tuple[str, ...]:
        """Every version with terms, oldest first (the current one last)."""
        return (*self.earlier_versions, self.version)

    def version_of_price(self, metadata: Mapping[str, str]) -> str | None:
        """The version a Stripe price of this plan sells: its `coinslot_version` metadata, the oldest
        version when it has none (pushed before versions); None when the file no longer declares it."""
        label = metadata.get(VERSION_METADATA) or self.oldest_version
        return label if label in self.versions else None

    def terms(self, version: str | None) -> Plan | None:
        """This plan as a subscriber on `version` has it (None = the current version): the current
        plan with that version's prices, credits and features; None for a version the file lacks."""
        if version is None or version == self.version:
            return self
        earlier = self.earlier_versions.get(version)
        if earlier is None:
            return None
        prices = {interval: PlanPrice(interval, amount_minor, earlier.currency, lookup_key="")
                  for interval, amount_minor in earlier.prices.items()}
        return replace(self, version=earlier.label, prices=prices,
                       credits_per_period=earlier.credits_per_period, unlimited=earlier.unlimited,
                       rollover_cap=earlier.rollover_cap, features=earlier.features, earlier_versions={})


@dataclass(frozen=True, slots=True)
class Addon:
    """A recurring extra on a plan's subscription (its own subscription item): monthly credits, features.

    `prices` must bill at the subscription's interval (Stripe keeps one cycle per subscription);
    `plans` are the subscription plans that may take it."""

    key: str
    name: str
    prices: dict[Interval, PlanPrice]
    plans: frozenset[str]
    description: str = ""
    credits_per_period: int = 0  # a monthly allowance, like a plan's, added to the plan's
    features: frozenset[str] = frozenset()


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
    price_id_test: str | None = None
    price_id_live: str | None = None
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
    price_id_test: str | None = None
    price_id_live: str | None = None
    allow_promotion_codes: bool = False
    automatic_tax: bool = False


@dataclass(frozen=True, slots=True)
class AutoTopupTerms:
    """The catalog's `[auto_topup]`: what a customer who turns auto top-up on may be charged, and when.

    Each top-up buys one of `packs` (fixed: its bundle; per credit: `credits` of them) when a spend or a
    hold leaves fewer than `threshold_credits`; per calendar month at most `monthly_cap_count` top-ups
    and `monthly_cap_amount_minor` charged. `plans` None: every plan may turn it on.
    """

    packs: tuple[str, ...]
    threshold_credits: int
    monthly_cap_count: int
    monthly_cap_amount_minor: int
    currency: str
    credits: int | None = None  # per_credit packs: the credits each top-up buys
    plans: frozenset[str] | None = None

    def allows_plan(self, plan_key: str | None) -> bool:
        return self.plans is None or (plan_key is not None and plan_key in self.plans)

    def offer(self, pack: CreditPack) -> tuple[int, int]:
        """(credits, amount in minor units) one top-up with `pack` buys: a fixed pack's bundle, or
        `credits` at a per-credit pack's unit price."""
        if pack.kind == "fixed":
            return pack.credits or 0, pack.amount_minor or 0
        credits = self.credits or 0
        return credits, credits * (pack.unit_amount_minor or 0)


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
    # Where each field was written (dotted path -> line), so later checks can name a line too.
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    auto_topup: AutoTopupTerms | None = None  # `[auto_topup]`; None: not offered
    addons: dict[str, Addon] = field(default_factory=dict)

    @property
    def default(self) -> Plan:
        return self.plans[self.default_plan]

    def plan_terms(self, plan_key: str | None, version: str | None) -> Plan | None:
        """A plan as its subscribers on `version` have it (None: the current version)."""
        plan = self.plans.get(plan_key or "")
        return plan.terms(version) if plan is not None else None

    def line_of(self, path: str) -> int:
        """The file line of a dotted field path (or of its enclosing table), 1 when unknown."""
        parts = path.split(".")
        while parts:
            found = self.lines.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return 1

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
        for addon in self.addons.values():
            for interval, price in addon.prices.items():
                if price.lookup_key == lookup_key:
                    return CatalogItemRef("addon", addon.key, interval)
        return None

    def item_for_price(
        self, *, metadata: Mapping[str, str], lookup_key: str | None, interval: str | None
    ) -> CatalogItemRef | None:
        """What a Stripe price stands for: by the item key `catalog push` wrote in its metadata, else by
        its lookup key. The metadata comes first because a repriced plan's old price loses its lookup
        key yet still bills every subscriber who had it: they remain on that plan."""
        return self._item_for_key(metadata.get(ITEM_KEY_METADATA, ""), interval) or (
            self.item_for_lookup_key(lookup_key) if lookup_key else None
        )

    def _item_for_key(self, item_key: str, interval: str | None) -> CatalogItemRef | None:
        kind, _, key = item_key.partition(":")
        if kind == "plan" and key in self.plans:
            return CatalogItemRef("plan", key, _interval(interval))
        if kind == "product" and key in self.products:
            return CatalogItemRef("product", key)
        if kind == "pack" and key in self.packs:
            return CatalogItemRef("pack", key)
        if kind == "addon" and key in self.addons:
            return CatalogItemRef("addon", key, _interval(interval))
        return None


def _interval(value: str | None) -> Interval | None:
    if value == "month":
        return "month"
    return "year" if value == "year" else None


@dataclass(frozen=True, slots=True)
class CatalogPrice:
    """One Stripe price the catalog declares, flattened: what `catalog push` and checkout work from.

    `product_key` is the value of the Stripe product's `coinslot_key` metadata
    ("plan:pro", "product:consultation", "pack:credits"): one Stripe product per
    plan, product or pack, holding that item's prices.
    """

    ref: CatalogItemRef
    path: str  # where the catalog file declares it, e.g. "plans.pro.prices.monthly"
    lookup_key: str
    amount_minor: int
    currency: str
    interval: Interval | None  # None = one-time price
    product_key: str
    product_name: str
    product_description: str
    price_id_test: str | None = None
    price_id_live: str | None = None
    version: str | None = None  # a plan's price: the version it sells (metadata `coinslot_version`)

    def pinned_id(self, livemode: bool) -> str | None:
        return self.price_id_live if livemode else self.price_id_test


def _recurring_prices(kind: ItemKind, key: str, name: str, description: str,
                      prices: dict[Interval, PlanPrice], *, version: str | None = None) -> list[CatalogPrice]:
    found = []
    for interval, price in prices.items():
        label = "monthly" if interval == "month" else "yearly"
        found.append(CatalogPrice(
            CatalogItemRef(kind, key, interval), f"{kind}s.{key}.prices.{label}", price.lookup_key,
            price.amount_minor, price.currency, interval, f"{kind}:{key}", name, description,
            price.price_id_test, price.price_id_live, version,
        ))
    return found


def catalog_prices(catalog: Catalog) -> list[CatalogPrice]:
    """Every price of the catalog, in file order (plans, then products, then packs, then add-ons)."""
    prices: list[CatalogPrice] = []
    for plan in catalog.plans.values():
        prices += _recurring_prices("plan", plan.key, plan.name, plan.description, plan.prices,
                                    version=plan.version)
    for product in catalog.products.values():
        prices.append(
            CatalogPrice(
                CatalogItemRef("product", product.key),
                f"products.{product.key}",
                product.lookup_key,
                product.amount_minor,
                product.currency,
                None,
                f"product:{product.key}",
                product.name,
                product.description,
                product.price_id_test,
                product.price_id_live,
            )
        )
    for pack in catalog.packs.values():
        unit = pack.amount_minor if pack.kind == "fixed" else pack.unit_amount_minor
        prices.append(
            CatalogPrice(
                CatalogItemRef("pack", pack.key),
                f"packs.{pack.key}",
                pack.lookup_key,
                unit or 0,
                pack.currency,
                None,
                f"pack:{pack.key}",
                pack.name,
                pack.description,
                pack.price_id_test,
                pack.price_id_live,
            )
        )
    for addon in catalog.addons.values():
        prices += _recurring_prices("addon", addon.key, addon.name, addon.description, addon.prices)
    return prices


@dataclass(frozen=True, slots=True)
class OveragePrice:
    """The metered price of a plan's overage at one interval: what `catalog push` makes and checkout adds
    as the subscription's second item. Its product is the plan's."""

    plan_key: str
    path: str  # e.g. "plans.pro.overage"
    lookup_key: str
    unit_amount_minor: Decimal
    currency: str
    interval: Interval
    product_key: str


def overage_prices(catalog: Catalog) -> list[OveragePrice]:
    """Every plan's metered overage price, in file order."""
    return [
        OveragePrice(plan.key, f"plans.{plan.key}.overage", lookup_key, plan.overage.unit_amount_minor,
                     plan.overage.currency, interval, f"plan:{plan.key}")
        for plan in catalog.plans.values() if plan.overage is not None
        for interval, lookup_key in plan.overage.lookup_keys.items()
    ]


def monthly_allowance(
    catalog: Catalog, plan: Plan, *, seats: int, addons: Mapping[str, int]
) -> tuple[int, int]:
    """(credits per month, rollover cap) of a subscription to `plan` with `seats` seats and `addons`
    (add-on key -> quantity): the plan's allowance, times the seats when its credits are per seat,
    plus each add-on's. An add-on the catalog no longer declares grants nothing."""
    per_seat = plan.per_seat and plan.seat_credits == "per_seat"
    factor = max(seats, 1) if per_seat else 1
    extra = sum(catalog.addons[key].credits_per_period * max(quantity, 0)
                for key, quantity in addons.items() if key in catalog.addons)
    return plan.credits_per_period * factor + extra, plan.rollover_cap * factor


def yearly_saving(plan: Plan) -> tuple[int, int] | None:
    """(minor units saved per year, percent saved) paying yearly instead of monthly; None without both."""
    monthly = plan.prices.get("month")
    yearly = plan.prices.get("year")
    if monthly is None or yearly is None or monthly.currency != yearly.currency:
        return None
    twelve_months = monthly.amount_minor * 12
    saved = twelve_months - yearly.amount_minor
    if saved <= 0:
        return None
    return saved, saved * 100 // twelve_months


def minimum_quantity(*, unit_amount_minor: int, minimum_amount_minor: int) -> int:
    """The fewest credits whose total reaches the minimum amount (at least 1)."""
    if unit_amount_minor <= 0:
        return 1
    return max(1, ceil_div(minimum_amount_minor, unit_amount_minor))


def checked_seats(plan: Plan, seats: int, *, field: str = "quantity") -> int:
    """The quantity of a plan's subscription: the seats of a per-seat plan, within its bounds; 1 otherwise.
    InvalidInput naming `field` (checkout's `quantity`, the seats endpoint's `seats`) when out of bounds."""
    if not plan.per_seat:
        if seats != 1:
            raise InvalidInput(f"plan {plan.key!r} is not sold per seat: its quantity is 1", field=field,
                               code="not_per_seat")
        return 1
    if not plan.min_seats <= seats <= plan.max_seats:
        raise InvalidInput(f"plan {plan.key!r} takes {plan.min_seats} to {plan.max_seats} seats, not {seats}",
                           field=field, code="seats_out_of_bounds")
    return seats
