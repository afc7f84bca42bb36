"""Stripe's test payment methods and how charges on them go.

`pm_card_*` aliases name a test card; attaching one (or retrieving it)
materialises a new `pm_...` whose private `_test_card` remembers the alias.
`card_behaviour(pm)` is what payment intents ask before charging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import CardError

__all__ = ["HARD_DECLINES", "TEST_CARDS", "CardSpec", "Charge", "card_behaviour", "decline_error",
           "lookup_card", "mark_authenticated", "setup_behaviour"]


@dataclass(frozen=True)
class CardSpec:
    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    # How charges go: "succeed", "decline", "requires_action".
    outcome: str = "succeed"
    code: str | None = None
    decline_code: str | None = None
    # Stripe refuses to attach some declining cards to a customer at all (and so to set them up).
    attachable: bool = True
    # 3155: once the customer authenticated it on-session (the card is then set up for
    # future use), off-session charges go through without a new challenge.
    setup_skips_auth: bool = False


_DECLINED = CardSpec("visa", "0002", outcome="decline", code="card_declined",
                     decline_code="generic_decline", attachable=False)

TEST_CARDS: dict[str, CardSpec] = {
    "pm_card_visa": CardSpec("visa", "4242"),
    "pm_card_visa_debit": CardSpec("visa", "5556", funding="debit"),
    "pm_card_mastercard": CardSpec("mastercard", "4444"),
    "pm_card_amex": CardSpec("amex", "8431"),
    "pm_card_visa_chargeDeclined": _DECLINED,
    "pm_card_chargeDeclined": _DECLINED,
    "pm_card_chargeCustomerFail": CardSpec("visa", "0341", outcome="decline",
                                           code="card_declined", decline_code="generic_decline"),
    "pm_card_threeDSecure2Required": CardSpec("visa", "3220", outcome="requires_action"),
    "pm_card_authenticationRequired": CardSpec("visa", "3184", outcome="requires_action"),
    "pm_card_authenticationRequiredOnSetup": CardSpec("visa", "3155", outcome="requires_action",
                                                      setup_skips_auth=True),
    "pm_card_visa_chargeDeclinedInsufficientFunds": CardSpec(
        "visa", "9995", outcome="decline", code="card_declined",
        decline_code="insufficient_funds", attachable=False),
    "pm_card_chargeDeclinedExpiredCard": CardSpec(
        "visa", "0069", outcome="decline", code="expired_card",
        decline_code="expired_card", attachable=False),
    "pm_card_visa_chargeDeclinedLostCard": CardSpec(
        "visa", "9987", outcome="decline", code="card_declined",
        decline_code="lost_card", attachable=False),
    "pm_card_visa_chargeDeclinedStolenCard": CardSpec(
        "visa", "9979", outcome="decline", code="card_declined",
        decline_code="stolen_card", attachable=False),
}

# Declines the issuer will never approve: Smart Retries does not retry them.
HARD_DECLINES = frozenset({"expired_card", "incorrect_number", "invalid_account", "lost_card",
                           "pickup_card", "restricted_card", "revocation_of_all_authorizations",
                           "revocation_of_authorization", "stolen_card"})

_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}


@dataclass(frozen=True)
class Charge:
    """What happens when a payment method is charged."""

    outcome: str  # "succeed" | "decline" | "requires_action"
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None

    @property
    def succeeds(self) -> bool:
        return self.outcome == "succeed"

    @property
    def hard(self) -> bool:
        """A hard decline: retrying the same card cannot succeed."""
        return self.outcome == "decline" and self.decline_code in HARD_DECLINES


def lookup_card(alias: str) -> CardSpec | None:
    """The test card an alias like `pm_card_visa` stands for."""
    return TEST_CARDS.get(alias)


def card_behaviour(pm: dict[str, Any], *, off_session: bool = False) -> Charge:
    """How a charge on this stored payment method goes (pure: reads `_test_card`, and
    `_set_up`, which `mark_authenticated` writes)."""
    card = TEST_CARDS.get(str(pm.get("_test_card", "")))
    if card is None or card.outcome == "succeed":
        return Charge("succeed")
    if card.setup_skips_auth and off_session and pm.get("_set_up"):
        return Charge("succeed")
    if card.outcome == "requires_action":
        return Charge("requires_action", code="authentication_required",
                      decline_code="authentication_required",
                      message=_MESSAGES["authentication_required"])
    return Charge("decline", code=card.code, decline_code=card.decline_code,
                  message=_MESSAGES.get(card.decline_code or "", "Your card was declined."))


def setup_behaviour(pm: dict[str, Any]) -> Charge:
    """How setting the card up for later (a SetupIntent) goes: cards Stripe will not attach
    decline, 3D Secure cards ask for authentication, the others (0341 too) succeed."""
    card = TEST_CARDS.get(str(pm.get("_test_card", "")))
    if card is None:
        return Charge("succeed")
    if not card.attachable:
        return Charge("decline", code=card.code, decline_code=card.decline_code,
                      message=_MESSAGES.get(card.decline_code or "", "Your card was declined."))
    if card.outcome == "requires_action":
        return Charge("requires_action", code="authentication_required",
                      decline_code="authentication_required",
                      message=_MESSAGES["authentication_required"])
    return Charge("succeed")


def mark_authenticated(pm: dict[str, Any]) -> None:
    """The customer passed 3D Secure with this saved card: it counts as set up for
    off-session use (what makes 3155 stop asking)."""
    if pm.get("customer"):
        pm["_set_up"] = True


def decline_error(charge: Charge, *, param: str | None = None,
                  extra: dict[str, Any] | None = None) -> CardError:
    """The 402 CardError Stripe answers for a declined charge."""
    return CardError(charge.message or "Your card was declined.", code=charge.code,
                     decline_code=charge.decline_code, param=param, extra=extra)
