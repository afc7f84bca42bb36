"""Request and response models of the subscriptions API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, StrictInt

__all__ = [
    "AddAddon", "AddonPreview", "ChangePlan", "ChangePreviewOut", "ChangeSeats", "ItemsPreviewOut",
    "OpenPortal", "PortalOut", "PreviewLineOut", "SeatsPreview", "SubscriptionOut",
]


class SubscriptionOut(BaseModel):
    """The subscription as coinslot mirrors it, after the action."""

    stripe_subscription_id: str = Field(description="Stripe's id (sub_...)")
    status: str = Field(description="Stripe's status: active, trialing, past_due, canceled, ...")
    plan_key: str | None = Field(description="the catalog plan it bills")
    interval: str | None = Field(description="month or year")
    cancel_at_period_end: bool = Field(description="true when it ends at the period end")
    current_period_end: dt.datetime | None = Field(description="when the current period ends")
    pending_plan_key: str | None = Field(description="a downgrade scheduled for the period end")
    seats: int | None = Field(default=None,
                              description="the plan item's quantity: the seats of a per-seat plan")
    addons: list[str] = Field(default_factory=list, description="the catalog keys of the add-ons it bills")


class ChangePlan(BaseModel):
    """The plan to switch to."""

    plan: str = Field(description="the catalog key of the plan to switch to")
    interval: Literal["month", "year"] | None = Field(default=None, description="default: the current one")
    timing: Literal["now", "period_end"] | None = Field(
        default=None, description="default: upgrades now (prorated), downgrades at the period end"
    )
    proration_date: StrictInt | None = Field(
        default=None, ge=0, description="a preview's `proration_date` (unix seconds, under 30 minutes old): "
                                        "charge exactly what the preview showed")


class PreviewLineOut(BaseModel):
    """One line of the invoice a switch would make."""

    description: str = Field(description="Stripe's description of the line")
    amount_minor: int = Field(description="its amount, in minor units (negative: unused time credited)")


class ChangePreviewOut(BaseModel):
    """What a plan switch would do, before anything changes."""

    plan: str = Field(description="the plan switched to")
    interval: Literal["month", "year"] = Field(description="its billing interval")
    timing: Literal["now", "period_end"] = Field(description="when the switch applies")
    effective_at: dt.datetime = Field(description="now, or the period end")
    currency: str = Field(description="ISO currency code, lower case")
    amount_due_minor: int | None = Field(
        description="charged now (0 at the period end); null when Stripe cannot tell in advance (see note)")
    lines: list[PreviewLineOut] = Field(description="the invoice's lines, prorations included")
    proration_date: int | None = Field(description="pass it to changePlan to be charged this amount")
    note: str = Field(description="anything the customer should read before confirming")


class OpenPortal(BaseModel):
    """Where the portal sends the browser back, and what it opens on."""

    return_url: str = Field(description="an allowed origin (COINSLOT_ALLOWED_REDIRECT_ORIGINS)")
    flow: Literal["subscription_update", "subscription_update_confirm", "subscription_cancel"] | None = Field(
        default=None, description="open on a plan switch, a given switch to confirm, or a cancellation")
    plan: str | None = Field(
        default=None, description="for subscription_update_confirm: the plan to switch to"
    )
    interval: Literal["month", "year"] | None = Field(default=None, description="that plan's interval")


class PortalOut(BaseModel):
    """A portal session."""

    url: str = Field(description="redirect the user's browser here")


_PRORATION_DATE = ("a preview's `proration_date` (unix seconds, under 30 minutes old): charge exactly "
                   "what the preview showed")


class SeatsPreview(BaseModel):
    """The seats a per-seat plan's subscription would have."""

    seats: StrictInt = Field(ge=1, le=100_000, description="the new number of seats (within the plan's "
                                                          "min_seats..max_seats)")


class ChangeSeats(SeatsPreview):
    """The seats to pay for from now on."""

    proration_date: StrictInt | None = Field(default=None, ge=0, description=_PRORATION_DATE)


class AddonPreview(BaseModel):
    """An add-on to add (or remove)."""

    addon: str = Field(min_length=1, max_length=100, examples=["extra_tokens"],
                       description="the add-on's catalog key")
    action: Literal["add", "remove"] = Field(default="add", description="preview adding it, or removing it")


class AddAddon(BaseModel):
    """An add-on to put on the subscription."""

    addon: str = Field(min_length=1, max_length=100, examples=["extra_tokens"],
                       description="the add-on's catalog key")
    proration_date: StrictInt | None = Field(default=None, ge=0, description=_PRORATION_DATE)


class ItemsPreviewOut(BaseModel):
    """What a change of seats or add-ons would charge now; nothing changes."""

    currency: str = Field(description="ISO currency code, lower case")
    amount_due_minor: int = Field(description="charged now, in minor units (0 when the change credits)")
    total_minor: int = Field(description="the change's invoice total: negative when the unused time of what "
                                         "is removed is credited to the customer's Stripe balance")
    lines: list[PreviewLineOut] = Field(description="the invoice's lines, prorations included")
    proration_date: int = Field(description="pass it to the change to be charged this amount")
