"""Auto top-up's rules, pure: when a top-up is due, what the monthly cap still allows, what the customer
agrees to. Months are calendar months of the customer's clock (their Stripe test clock in test mode)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from coinslot.catalog.core import AutoTopupTerms, CreditPack
from coinslot.money import format_minor

__all__ = [
    "FAILURE_NOTICES",
    "MonthUsage",
    "Offer",
    "Trigger",
    "below_threshold",
    "consent_text",
    "failure_notice",
    "month_of",
    "offer_for",
    "terms_record",
    "trigger",
]

Trigger = Literal["top_up", "above_threshold", "open", "capped", "off"]

# What the billing page says after a failed top-up, by Stripe's code; anything else reads as a decline.
FAILURE_NOTICES = {
    "authentication_required": "Your bank asked to confirm the automatic top-up, so it was not charged "
                               "and auto top-up is now off. Confirm your card to turn it back on.",
    "card_declined": "Your card was declined for the automatic top-up, so auto top-up is now off. "
                     "Save another card to turn it back on.",
}


@dataclass(frozen=True, slots=True)
class Offer:
    """One top-up: the pack, the credits it buys and what it costs."""

    pack_key: str
    credits: int
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class MonthUsage:
    """Top-ups of one customer in one month that count towards the cap (succeeded or still open)."""

    count: int
    amount_minor: int


def month_of(at: dt.datetime) -> str:
    """The cap's month of a moment: YYYY-MM in UTC (the customer's clock gives the moment)."""
    return f"{at.astimezone(dt.UTC):%Y-%m}"


def offer_for(terms: AutoTopupTerms, pack: CreditPack) -> Offer:
    credits, amount_minor = terms.offer(pack)
    return Offer(pack.key, credits, amount_minor, pack.currency)


def below_threshold(terms: AutoTopupTerms | None, *, balance_after: int) -> bool:
    """Whether a use that left `balance_after` credits may top up at all (the rest of `trigger` needs the
    customer's setting and month): the one check every use pays, with no query."""
    return terms is not None and balance_after < terms.threshold_credits


def trigger(
    *, enabled: bool, plan_allowed: bool, balance_after: int, terms: AutoTopupTerms, has_open: bool,
    usage: MonthUsage, offer: Offer,
) -> Trigger:
    """Whether a spend or hold that left `balance_after` credits starts a top-up.

    Not a crossing but a level: a customer who turned it on while already under the threshold is topped
    up at their next use. One open top-up at a time: concurrent uses under the threshold start one.
    """
    if not enabled or not plan_allowed:
        return "off"
    if not below_threshold(terms, balance_after=balance_after):
        return "above_threshold"
    if has_open:
        return "open"
    if usage.count + 1 > terms.monthly_cap_count:
        return "capped"
    if usage.amount_minor + offer.amount_minor > terms.monthly_cap_amount_minor:
        return "capped"
    return "top_up"


def terms_record(terms: AutoTopupTerms, offer: Offer) -> dict[str, Any]:
    """The terms a consent stands for, stored beside its text."""
    return {
        "pack": offer.pack_key, "credits": offer.credits, "amount_minor": offer.amount_minor,
        "currency": offer.currency, "threshold_credits": terms.threshold_credits,
        "monthly_cap_count": terms.monthly_cap_count,
        "monthly_cap_amount_minor": terms.monthly_cap_amount_minor,
    }


def consent_text(business: str, terms: AutoTopupTerms, offer: Offer) -> str:
    """What the customer agrees to, in words: shown next to the switch and stored with their consent."""
    amount = format_minor(offer.amount_minor, offer.currency)
    cap = format_minor(terms.monthly_cap_amount_minor, terms.currency)
    times = "once" if terms.monthly_cap_count == 1 else f"{terms.monthly_cap_count} times"
    return (f"I authorise {business} to charge my saved card {amount} for {offer.credits} credits whenever "
            f"my balance falls below {terms.threshold_credits} credits, at most {times} and {cap} per "
            "calendar month, until I turn auto top-up off.")


def failure_notice(code: str | None) -> str:
    return FAILURE_NOTICES.get(code or "", FAILURE_NOTICES["card_declined"])
