"""The test cards a person can pick on the hosted pages, as tiles: what each one does.

Brand and last four digits come from `stripesim.cards` (the one table of test
cards); this module only says which cards the pages offer, in which order, and
how to describe them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cards import lookup_card

__all__ = ["PAY_CARDS", "SAVE_CARDS", "CardTile", "brand_name", "card_label", "tile"]


@dataclass(frozen=True)
class CardTile:
    alias: str  # the pm_card_* alias the form posts
    brand: str
    last4: str
    outcome: str  # "succeeds" | "declines" | "3ds": the badge and its colour
    description: str

    @property
    def label(self) -> str:
        return card_label(self.brand, self.last4)

    @property
    def brand_name(self) -> str:
        return brand_name(self.brand)


_DESCRIPTIONS = {
    "pm_card_visa": ("succeeds", "Pays"),
    "pm_card_mastercard": ("succeeds", "Pays"),
    "pm_card_threeDSecure2Required": ("3ds", "3D Secure on every payment"),
    "pm_card_authenticationRequiredOnSetup": ("3ds", "3D Secure once, renewals pass"),
    "pm_card_visa_chargeDeclined": ("declines", "Declined"),
    "pm_card_visa_chargeDeclinedInsufficientFunds": ("declines", "Insufficient funds"),
    "pm_card_chargeDeclinedExpiredCard": ("declines", "Expired card"),
    "pm_card_chargeCustomerFail": ("declines", "Saves, then charges fail"),
}


def tile(alias: str) -> CardTile:
    spec = lookup_card(alias)
    if spec is None:
        raise KeyError(alias)
    outcome, description = _DESCRIPTIONS[alias]
    return CardTile(alias, spec.brand, spec.last4, outcome, description)


def brand_name(brand: str) -> str:
    return {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express"}.get(
        brand, brand.title())


def card_label(brand: str, last4: str) -> str:
    """"Visa •••• 4242"."""
    return f"{brand_name(brand)} •••• {last4}"


# Checkout: every way a first payment can go.
PAY_CARDS = tuple(tile(a) for a in (
    "pm_card_visa", "pm_card_mastercard", "pm_card_threeDSecure2Required",
    "pm_card_authenticationRequiredOnSetup", "pm_card_visa_chargeDeclined",
    "pm_card_visa_chargeDeclinedInsufficientFunds", "pm_card_chargeDeclinedExpiredCard",
    "pm_card_chargeCustomerFail"))
# Portal "add a card": cards Stripe lets a customer save (the declining ones cannot be attached,
# except 0341, which attaches and fails later: the card that tests dunning).
SAVE_CARDS = tuple(tile(a) for a in (
    "pm_card_visa", "pm_card_mastercard", "pm_card_authenticationRequiredOnSetup",
    "pm_card_threeDSecure2Required", "pm_card_chargeCustomerFail",
    "pm_card_visa_chargeDeclined"))
