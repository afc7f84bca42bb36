"""Small presentation rules shared by the pages: navigation, toasts, savings, meters. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from coinslot.catalog.core import Catalog, minimum_quantity, yearly_saving
from coinslot.money import currency_exponent, format_minor

__all__ = [
    "Meter",
    "NavItem",
    "Toast",
    "credits_meter",
    "currency_symbol",
    "customer_nav",
    "exponent",
    "minimum_quantity",
    "pretty_json",
    "toast_for",
    "uses_credits",
    "yearly_saving",
]


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    current: bool
    count: int = 0  # shown next to the label when positive (e.g. open alerts)


def customer_nav(current: str, catalog: Catalog) -> list[NavItem]:
    items = [("Billing", "/billing"), ("Plans", "/billing/pricing")]
    if catalog.packs:
        items.append(("Buy credits", "/billing/credits"))
    return [NavItem(label, href, href == current) for label, href in items]


def uses_credits(catalog: Catalog) -> bool:
    """Whether credits mean anything in this catalog (Skinova's, for one, sells no credits at all)."""
    return (bool(catalog.packs) or any(feature.credits > 0 for feature in catalog.features.values())
            or any(plan.credits_per_period > 0 for plan in catalog.plans.values()))


@dataclass(frozen=True, slots=True)
class Toast:
    kind: Literal["success", "cancel", "error"]
    title: str
    message: str = ""


# The one-off messages a redirect may ask for (`?toast=...`): a fixed table, so a crafted URL
# can only choose among them, never inject text.
_TOASTS: dict[str, Toast] = {
    "subscribed": Toast("success", "Thank you! Your subscription is active.",
                        "Your plan's credits are ready."),
    "credits": Toast("success", "Thank you! Your credits were added.", ""),
    "paid": Toast("success", "Thank you! Your payment went through.", "Your order is confirmed."),
    "pending": Toast("success", "Thank you! We are confirming your payment.",
                     "It will appear here in a moment."),
    "canceled": Toast("cancel", "Checkout canceled", "Nothing was charged. Your details are saved."),
    "cancel_scheduled": Toast("success", "Your subscription will end at the period end.",
                              "You keep your plan until then, and can resume any time before."),
    "resumed": Toast("success", "Welcome back! Your subscription continues."),
    "changed": Toast("success", "Your plan was changed.", "Your new plan and its credits are below."),
    "updating": Toast("success", "Stripe has your changes.",
                      "They will show here in a moment: reload the page if they do not."),
    "change_scheduled": Toast("success", "Your plan will change at the end of the period."),
    "auto_topup_consent": Toast("cancel", "Auto top-up is still off.",
                                "Tick the box to agree to the terms first."),
    "auto_topup_on": Toast("success", "Auto top-up is on.",
                           "Your card is saved; it is charged only when your credits run low."),
    "auto_topup_off": Toast("success", "Auto top-up is off.", "Your card will not be charged automatically."),
    "seats_changed": Toast("success", "Your seats were changed.", "Your credits for this period are below."),
    "addon_added": Toast("success", "The add-on was added.", "It renews with your plan."),
    "addon_removed": Toast("success", "The add-on was removed.",
                           "Its unused time is credited to your next invoice."),
}


def toast_for(name: str | None) -> Toast | None:
    return _TOASTS.get(name or "")


@dataclass(frozen=True, slots=True)
class Meter:
    used: int  # credits spent this period, from the ledger's spends
    remaining: int
    allowance: int  # the period's grant
    percent_left: int  # 0..100, for the bar's width
    state: Literal["ok", "low", "out"]
    from_plan: int = 0  # the parts of `remaining`
    from_purchases: int = 0
    from_adjustments: int = 0


def credits_meter(*, available: int, allowance: int, used: int, low_balance_pct: int,
                  from_plan: int = 0, from_purchases: int = 0, from_adjustments: int = 0) -> Meter:
    """Used this period (what the ledger's spends say, not allowance minus balance: bought credits would
    hide the use), remaining, and where the remaining credits come from.

    "low" at or under `low_balance_pct` of the allowance: the threshold of the ledger's
    `credits.low` notification (settings.low_balance_pct), so page and webhook agree."""
    base = max(allowance, available)
    percent = 100 if base == 0 else max(available, 0) * 100 // base
    if available <= 0:
        state: Literal["ok", "low", "out"] = "out"
    elif allowance > 0 and available * 100 <= allowance * low_balance_pct:
        state = "low"
    else:
        state = "ok"
    return Meter(used=used, remaining=max(available, 0), allowance=allowance, percent_left=percent,
                 state=state, from_plan=from_plan, from_purchases=from_purchases,
                 from_adjustments=from_adjustments)


def currency_symbol(currency: str) -> str:
    """The symbol `format_minor` puts in front, or "" when it writes the code after the amount."""
    sample = format_minor(0, currency)
    return "" if sample.endswith(currency.upper()) else sample.rstrip("0.,")


def exponent(currency: str) -> int:
    return currency_exponent(currency)


def pretty_json(payload: str) -> str:
    """A stored JSON payload indented for reading in the admin console (kept as is if it is not JSON)."""
    try:
        return json.dumps(json.loads(payload), indent=2, sort_keys=True)
    except ValueError:
        return payload
