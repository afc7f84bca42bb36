"""The access policy: which plan a subscription status grants, as an explicit table.

Pure: given the mirrored subscription and `now`, no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Protocol, TypeVar

from coinslot.catalog.core import ITEM_KEY_METADATA, Catalog, CatalogItemRef, Plan, catalog_prices

__all__ = [
    "ACCESS_BY_STATUS",
    "MONTHS_IN",
    "PAYING_STATUSES",
    "VERSION_AT_METADATA",
    "VERSION_BEFORE_METADATA",
    "Access",
    "DiscountTerms",
    "MeteredItem",
    "MirroredSubscription",
    "MrrMove",
    "PlanAccess",
    "PricedItem",
    "Valued",
    "addon_quantities",
    "best_plan_access",
    "is_upgrade",
    "monthly_minor",
    "mrr_moves",
    "overage_item",
    "paying_monthly_minor",
    "period_discount_minor",
    "plan_access",
    "plan_item",
    "plan_ref_for_price",
    "version_metadata",
    "versions_of",
]

# Metadata `coinslot plans migrate --at period-end` writes on the Stripe subscription along with the
# new version's price (swapped without proration, so it bills from the renewal): the version the
# period was paid for (`<plan>:<version>`) and when the new one starts (unix seconds). Kept at Stripe,
# so every copy of the subscription, a webhook's included, says which version is in force.
VERSION_BEFORE_METADATA = "coinslot_version_before"
VERSION_AT_METADATA = "coinslot_version_at"


class Access(Enum):
    PLAN = "plan"  # the subscription's plan
    GRACE = "grace"  # the plan while the grace period lasts, then the free plan
    FREE = "free"  # the catalog's default (free) plan


# Stripe status -> what it grants. An `incomplete` subscription was never paid:
# it never unlocks anything (the "85 unpaid subscriptions got Pro" incident).
ACCESS_BY_STATUS: dict[str, Access] = {
    "active": Access.PLAN,
    "trialing": Access.PLAN,
    "past_due": Access.GRACE,
    "incomplete": Access.FREE,
    "incomplete_expired": Access.FREE,
    "unpaid": Access.FREE,
    "canceled": Access.FREE,
    "paused": Access.FREE,
}


@dataclass(frozen=True, slots=True)
class PlanAccess:
    """What a customer may use right now, and why."""

    plan_key: str  # the plan that applies (the default plan when nothing better)
    status: str | None  # the subscription's Stripe status, None without a subscription
    reason: str  # "active", "trialing", "past_due_in_grace", "past_due_grace_over", "no_subscription", ...
    subscription_id: int | None = None
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    grace_ends_at: dt.datetime | None = None
    plan_version: str | None = None  # the subscription's version of the plan; None = the current one
    # The subscription carries its plan's metered price (`overage_item`): Stripe bills its overage.
    bills_overage: bool = False

    @property
    def is_on_grace_period(self) -> bool:
        return self.reason == "past_due_in_grace"

    def plan(self, catalog: Catalog) -> Plan | None:
        """The plan that applies, with the terms of the subscriber's version (entitlements follow it).

        Without its plan's metered item the subscription has the plan's terms without overage: Stripe
        would bill none of it (a subscription started before the plan gained overage), so every decision
        (check, the Session-free check, consume) refuses it as on a plan without overage."""
        terms = catalog.plan_terms(self.plan_key, self.plan_version)
        if terms is not None and terms.overage is not None and not self.bills_overage:
            return replace(terms, overage=None)
        return terms


def plan_access(
    *,
    default_plan: str,
    now: dt.datetime,
    grace: dt.timedelta,
    status: str | None,
    plan_key: str | None,
    past_due_since: dt.datetime | None = None,
    subscription_id: int | None = None,
    period_start: dt.datetime | None = None,
    period_end: dt.datetime | None = None,
    plan_version: str | None = None,
    metered_price_id: str | None = None,
) -> PlanAccess:
    """Apply ACCESS_BY_STATUS to one subscription (or to none: status None). `metered_price_id`: the
    plan's metered price the subscription carries (the mirror's), None when it carries none."""
    if status is None or plan_key is None:
        reason = "no_subscription" if status is None else "price_not_in_catalog"
        return PlanAccess(default_plan, status, reason)
    access = ACCESS_BY_STATUS.get(status, Access.FREE)

    def answer(plan: str, reason: str, grace_ends_at: dt.datetime | None = None) -> PlanAccess:
        subscribed = plan == plan_key  # the default plan has no subscribed version, nor metered item
        return PlanAccess(plan, status, reason, subscription_id, period_start, period_end, grace_ends_at,
                          plan_version if subscribed else None, subscribed and metered_price_id is not None)

    if access is Access.PLAN:
        return answer(plan_key, status)
    if access is Access.GRACE:
        grace_ends_at = (past_due_since or now) + grace
        if now < grace_ends_at:
            return answer(plan_key, "past_due_in_grace", grace_ends_at)
        return answer(default_plan, "past_due_grace_over", grace_ends_at)
    return answer(default_plan, status)


class MirroredSubscription(Protocol):
    """What the access policy reads of a mirrored subscription (an ORM row or a Core result row)."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def plan_key(self) -> str | None: ...
    @property
    def past_due_since(self) -> dt.datetime | None: ...
    @property
    def current_period_start(self) -> dt.datetime | None: ...
    @property
    def current_period_end(self) -> dt.datetime | None: ...
    @property
    def plan_version(self) -> str | None: ...
    @property
    def metered_price_id(self) -> str | None: ...


def best_plan_access(
    rows: Iterable[MirroredSubscription], *, catalog: Catalog, now: dt.datetime, grace: dt.timedelta
) -> PlanAccess:
    """The best plan any of the subscriptions (newest first) grants; else the default plan, with the
    reason taken from the newest subscription (e.g. "incomplete", "canceled")."""
    best: PlanAccess | None = None
    fallback: PlanAccess | None = None
    for row in rows:
        access = plan_access(
            default_plan=catalog.default_plan, now=now, grace=grace, status=row.status, plan_key=row.plan_key,
            past_due_since=row.past_due_since, subscription_id=row.id, period_start=row.current_period_start,
            period_end=row.current_period_end, plan_version=row.plan_version,
            metered_price_id=row.metered_price_id,
        )
        fallback = fallback or access
        if access.plan_key != catalog.default_plan and (
            best is None or _rank(catalog, access) > _rank(catalog, best)
        ):
            best = access
    return (
        best
        or fallback
        or plan_access(default_plan=catalog.default_plan, now=now, grace=grace, status=None, plan_key=None)
    )


def _rank(catalog: Catalog, access: PlanAccess) -> int:
    plan = catalog.plans.get(access.plan_key)
    return plan.rank if plan else -1


def plan_ref_for_price(
    catalog: Catalog,
    *,
    price_id: str | None,
    lookup_key: str | None,
    metadata: Mapping[str, str],
    interval: str | None,
) -> CatalogItemRef | None:
    """The catalog plan a Stripe price stands for: by the item key `catalog push` wrote in its metadata
    (kept by the prices a repricing retired), by lookup key, else by a price id pinned in the file."""
    ref = catalog.item_for_price(metadata=metadata, lookup_key=lookup_key, interval=interval)
    if ref is not None and ref.kind == "plan":
        return ref
    if price_id:
        for price in catalog_prices(catalog):
            if price.ref.kind == "plan" and price_id in (price.price_id_test, price.price_id_live):
                return price.ref
    return None


class PricedItem(Protocol):
    """A subscription item or an invoice line, as far as the catalog is concerned: the price it bills."""

    @property
    def price_id(self) -> str | None: ...
    @property
    def price_lookup_key(self) -> str | None: ...
    @property
    def price_metadata(self) -> Mapping[str, str]: ...
    @property
    def quantity(self) -> int: ...


def _item_ref(catalog: Catalog, item: PricedItem, interval: str | None) -> CatalogItemRef | None:
    return catalog.item_for_price(metadata=item.price_metadata, lookup_key=item.price_lookup_key,
                                  interval=interval)


_Item = TypeVar("_Item", bound=PricedItem)


def plan_item(catalog: Catalog, items: Iterable[_Item]) -> _Item | None:
    """The item that bills the plan: the first whose price stands for a plan, else the first that is
    not an add-on (a price the catalog does not know: the mirror refuses it where it grants access).

    Add-ons are items of their own on the same subscription, and an item removed and added back
    moves to the end: the first item is not always the plan's."""
    listed = list(items)
    for item in listed:
        ref = plan_ref_for_price(catalog, price_id=item.price_id, lookup_key=item.price_lookup_key,
                                 metadata=item.price_metadata, interval=None)
        if ref is not None:
            return item
    return next((item for item in listed if _addon_key(catalog, item) is None), None)


def _addon_key(catalog: Catalog, item: PricedItem) -> str | None:
    ref = _item_ref(catalog, item, None)
    if ref is not None and ref.kind == "addon":
        return ref.key
    pinned = [price.ref.key for price in catalog_prices(catalog)
              if price.ref.kind == "addon" and item.price_id in (price.price_id_test, price.price_id_live)]
    return pinned[0] if pinned and item.price_id else None


class MeteredItem(PricedItem, Protocol):
    """A subscription item that may bill usage in arrears (a plan's overage)."""

    @property
    def metered(self) -> bool: ...


_Metered = TypeVar("_Metered", bound=MeteredItem)


def overage_item(catalog: Catalog, plan_key: str | None, items: Iterable[_Metered]) -> _Metered | None:
    """The item that bills plan `plan_key`'s overage: a metered item whose price `catalog push` made for
    it (metadata `coinslot_key = overage:<plan>`, kept by a replaced price) or that holds one of its
    overage lookup keys. None when the subscription carries none: Stripe would bill no overage."""
    plan = catalog.plans.get(plan_key or "")
    if plan is None:
        return None
    lookup_keys = set(plan.overage.lookup_keys.values()) if plan.overage is not None else set()
    for item in items:
        if not item.metered:
            continue
        if item.price_metadata.get(ITEM_KEY_METADATA) == f"overage:{plan.key}" or (
                item.price_lookup_key is not None and item.price_lookup_key in lookup_keys):
            return item
    return None


def addon_quantities(catalog: Catalog, items: Iterable[PricedItem]) -> dict[str, int]:
    """Add-on key -> quantity of the items (subscription items, or an invoice's lines) that bill add-ons."""
    found: dict[str, int] = {}
    for item in items:
        key = _addon_key(catalog, item)
        if key is not None:
            found[key] = found.get(key, 0) + item.quantity
    return found


def is_upgrade(catalog: Catalog, *, from_plan: str | None, to_plan: str) -> bool:
    """A move to a plan of higher rank (later in the file) is an upgrade; anything else a downgrade."""
    if from_plan is None or from_plan not in catalog.plans:
        return True
    return catalog.plans[to_plan].rank > catalog.plans[from_plan].rank


class DiscountTerms(Protocol):
    """A discount's terms, as a subscription's snapshot carries them: a percentage or an amount off."""

    @property
    def percent_off(self) -> Decimal | None: ...
    @property
    def amount_off_minor(self) -> int | None: ...
    @property
    def currency(self) -> str | None: ...


def period_discount_minor(amount_minor: int, discounts: Iterable[DiscountTerms], *, currency: str) -> int:
    """What `discounts` take off one billing period's `amount_minor`, in minor units.

    As Stripe applies them: one after the other, each to what the earlier ones left; a percentage
    rounded half up, an amount capped at what is left (never below zero), an amount in another
    currency nothing. Stripe rounds a percentage per invoice line: with several items (an add-on) the
    period's figure may differ from the invoice by a minor unit, never more per discount.
    """
    left = amount_minor
    for discount in discounts:
        if discount.percent_off is not None:
            share = Fraction(discount.percent_off) * left / 100
            left -= min(left, math.floor(share + Fraction(1, 2)))
        elif discount.amount_off_minor is not None and discount.currency == currency:
            left -= min(left, discount.amount_off_minor)
    return amount_minor - left


def versions_of(
    plan: Plan, *, price_metadata: Mapping[str, str], subscription_metadata: Mapping[str, str],
    period_start_s: int | None,
) -> tuple[str | None, str | None]:
    """(the version in force, the version pending) of a subscription to `plan`.

    The version is the one the billed price sells, unless a move at the period end is under way: then
    the period keeps the version it was paid for, until a period starting at or after the move begins.
    None in force: the price sells a version the file no longer declares.
    """
    billed = plan.version_of_price(price_metadata)
    kept_plan, _, kept = subscription_metadata.get(VERSION_BEFORE_METADATA, "").partition(":")
    at_s = subscription_metadata.get(VERSION_AT_METADATA, "")
    moving = (kept_plan == plan.key and kept in plan.versions and kept != billed and at_s.isdigit()
              and period_start_s is not None and period_start_s < int(at_s))
    return (kept, billed) if moving else (billed, None)


def version_metadata(*, plan_key: str, kept_version: str | None, at_s: int | None) -> dict[str, str]:
    """The subscription metadata of a move at `at_s` (both None: none under way, Stripe unsets them)."""
    if kept_version is None or at_s is None:
        return {VERSION_BEFORE_METADATA: "", VERSION_AT_METADATA: ""}
    return {VERSION_BEFORE_METADATA: f"{plan_key}:{kept_version}", VERSION_AT_METADATA: str(at_s)}


# The statuses MRR counts: those being paid for. Trials are not revenue yet; an unpaid, paused or
# canceled subscription bills nothing.
PAYING_STATUSES = frozenset({"active", "past_due"})

# Months in one interval: a monthly value is the period's amount divided by these (x interval_count).
# A week is 12/52 of a month and a day 12/365: Stripe bills 52 weeks and 365 days a year.
MONTHS_IN = {"month": Fraction(1), "year": Fraction(12), "week": Fraction(12, 52), "day": Fraction(12, 365)}


def monthly_minor(period_net_minor: int, *, interval: str | None,
                  interval_count: int | None) -> Fraction | None:
    """One billing period's amount as an exact monthly value in minor units (a yearly 29000 is 2416 2/3);
    None for an interval Stripe does not have. Kept exact so that sums round once (analytics/core.py)."""
    months = MONTHS_IN.get(interval or "")
    if months is None:
        return None
    return Fraction(period_net_minor) / (months * (interval_count or 1))


def paying_monthly_minor(*, status: str, period_amount_minor: int | None, period_discount_minor: int | None,
                         interval: str | None, interval_count: int | None) -> Fraction | None:
    """What a mirrored subscription brings per month, as its last snapshot billed it (discounts in force
    then): 0 when it is not being paid for (a trial, an end), None when its amount is unknown (an item
    without a unit amount, or a row not synced since revision 0005)."""
    if status not in PAYING_STATUSES:
        return Fraction(0)
    if period_amount_minor is None:
        return None
    return monthly_minor(period_amount_minor - (period_discount_minor or 0), interval=interval,
                         interval_count=interval_count)


@dataclass(frozen=True, slots=True)
class MrrMove:
    """A row for the MRR history (models/mrr_change.py): a subscription's monthly amount changed."""

    kind: str  # change | opening
    currency: str
    before_minor: Fraction | None  # None on an opening
    after_minor: Fraction


Valued = tuple[str | None, Fraction | None]  # (currency, monthly minor units; None when unknown)


def mrr_moves(*, recorded: tuple[str, Fraction] | None, mirrored: Valued | None, synced: Valued,
              ) -> list[MrrMove]:
    """What a sync adds to a subscription's MRR history, given its last recorded amount (`recorded`), what
    the mirror said before the sync (`mirrored`; None for a new row) and what it says after (`synced`).

    Nothing when the amount is the one recorded: replaying a snapshot writes nothing. A row mirrored
    before the history began (mirrored, nothing recorded) first gets an `opening` row with what it
    billed then (or, for a row whose amounts were never mirrored, its first known amount), so that its
    revenue is not counted as new. An unknown amount changes nothing: the last known one stands.
    """
    moves: list[MrrMove] = []
    if recorded is None and mirrored is not None:
        currency, value = mirrored if mirrored[1] is not None else synced
        if currency and value:
            moves.append(MrrMove("opening", currency, None, value))
            recorded = (currency, value)
    currency, value = synced
    if value is None or (currency is None and value):
        return moves
    if recorded is not None and recorded[1] and recorded[0] != currency:  # an end (or a currency changed)
        moves.append(MrrMove("change", recorded[0], recorded[1], Fraction(0)))
        recorded = None
    before = recorded[1] if recorded is not None else Fraction(0)
    if value != before and currency is not None:
        moves.append(MrrMove("change", currency, before, value))
    return moves
