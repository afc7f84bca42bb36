"""Request and response models of the auto top-up API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, StrictBool

__all__ = ["AutoTopupOut", "SetupStarted", "TurnOn"]


class AutoTopupOut(BaseModel):
    """A customer's auto top-up: whether it is on, what one top-up buys, the month's use of the cap."""

    offered: bool = Field(description="the catalog offers auto top-up on the customer's plan")
    enabled: bool = Field(description="on: a spend or hold leaving fewer than `threshold_credits` tops up")
    pack: str | None = Field(description="the pack a top-up buys")
    credits: int | None = Field(description="credits one top-up buys")
    amount_minor: int | None = Field(description="what one top-up charges, in minor units")
    currency: str | None = Field(description="the currency of the amounts")
    threshold_credits: int | None = Field(description="a balance under this after a use tops up")
    monthly_cap_count: int | None = Field(description="top-ups allowed per calendar month")
    monthly_cap_amount_minor: int | None = Field(description="amount allowed per calendar month")
    month_count: int = Field(description="top-ups this calendar month (the customer's clock)")
    month_amount_minor: int = Field(description="charged (or being charged) this calendar month")
    consent_text: str | None = Field(description="agreed to (when on), else the text to agree to")
    consented_at: dt.datetime | None = Field(description="when the customer agreed (when on)")
    setup_pending: bool = Field(description="a card set-up was started and has not completed")
    notice_code: str | None = Field(description="why a failed top-up turned it off: card_declined or "
                                                "authentication_required")
    notice: str | None = Field(description="what to tell the customer about it")


class TurnOn(BaseModel):
    """The customer agreed to the consent text; where to send them back after saving a card."""

    consent: StrictBool = Field(description="true: the customer agreed to `consent_text` (GET shows it)")
    pack: str | None = Field(default=None, max_length=100, description="one of the terms' packs (default: "
                                                                      "the first)")
    success_url: str = Field(max_length=2000, description="back here after the card is saved")
    cancel_url: str = Field(max_length=2000, description="back here when the customer gives up")


class SetupStarted(BaseModel):
    """Send the customer to `url` (Stripe's page) to save the card; auto top-up is on once it is saved."""

    url: str = Field(description="the setup-mode Checkout page")
    session_id: str = Field(description="Stripe's Checkout Session id (cs_...)")
    consent_text: str = Field(description="what the customer agreed to, as stored")
