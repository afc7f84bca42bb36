"""Request and response bodies of the entitlement routes."""

from __future__ import annotations

import datetime as dt

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    StrictInt,
)

from coinslot.limits import CREDITS_MAX

__all__ = ["CaptureBody", "CheckBody", "ConsumeBody", "DecisionOut", "HoldBody", "HoldOut", "UseOut"]


class CheckBody(BaseModel):
    host_user_id: str = Field(
        min_length=1, max_length=255, examples=["user_42"],
        # `user_id` was this field's name before 0.2: accepted, deprecated, removed in a later release.
        validation_alias=AliasChoices("host_user_id", "user_id"),
        description="your app's id for the user (the former name `user_id` is accepted, deprecated)",
    )
    feature: str = Field(min_length=1, max_length=100, examples=["export"],
                         description="the catalog key of the feature")
    quantity: StrictInt = Field(default=1, ge=1, le=1_000_000, description="how many uses at once; the cost "
                                                                     "is the feature's times this")
    params: dict[str, str] = Field(default_factory=dict, examples=[{"complexity": "high"}],
                                   description="request parameters a feature's cost depends on "
                                               "(its multipliers, e.g. complexity)")


class ConsumeBody(CheckBody):
    idempotency_key: str = Field(min_length=1, max_length=200,
                                 description="one per use: a retry with the same key is not charged twice")


class HoldBody(ConsumeBody):
    credits: StrictInt | None = Field(default=None, ge=0, le=CREDITS_MAX,
                                description="reserve this instead of the feature's cost")
    timeout_s: StrictInt = Field(default=900, ge=1, le=7 * 24 * 3600,
                                 description="released by itself after this")


class CaptureBody(BaseModel):
    """The actual cost of a held job."""

    credits: StrictInt = Field(ge=0, le=CREDITS_MAX,
                         description="the actual cost: less than the hold gives the rest back")


class OverageOut(BaseModel):
    """A use beyond the balance on a plan that bills overage through a Stripe meter."""

    credits: int = Field(description="credits beyond the balance, billed at the end of the billing period")
    cost_minor: int = Field(description="what they add to the period's overage line, in minor units "
                                        "(the period's total rounded half up, minus the total before)")
    currency: str = Field(description="the currency of the amounts, e.g. usd")
    period_credits: int = Field(description="the billing period's overage credits with this use")
    period_cost_minor: int = Field(description="the period's overage bill with this use, in minor units")
    within_cap: bool = Field(description="false when this use would take the period's overage past the "
                                         "plan's cap (refused: overage_cap_reached)")


class DecisionOut(BaseModel):
    allowed: bool = Field(description="whether the user may use the feature now")
    cost: int = Field(description="credits the use costs (0 for a free feature)")
    remaining: int | None = Field(
        description="when allowed: the credits the user would have left after this use; when refused: the "
                    "credits they have; null on an unlimited plan")
    reason: str = Field(description="ok, unlimited, no_plan, feature_not_in_plan, past_due_grace_over, "
                                    "period_limit_reached, insufficient_credits, overage (allowed beyond "
                                    "the balance), overage_cap_reached")
    plan: str | None = Field(description="the catalog key of the plan that applies")
    overage: OverageOut | None = Field(
        default=None, description="when the credits do not cover the cost on a plan with overage: what "
                                  "the use would add to the period's bill; null otherwise")
    # Only a per-seat plan's answer has it: every other answer stays as it was before seats existed.
    seats: int | None = Field(
        default=None, exclude_if=lambda seats: seats is None,
        description="a per-seat plan: the seats its subscription pays for (e.g. to refuse a member beyond "
                    "them); absent otherwise")


class UseOut(DecisionOut):
    entry_id: str = Field(description="the ledger entry of this use (its id comes from your idempotency key)")
    replayed: bool = Field(description="true when this answers a retry: nothing was charged again")


class HoldOut(UseOut):
    hold_id: int = Field(description="capture or release this hold by its id")
    expires_at: dt.datetime = Field(description="when the hold releases itself if not resolved")
    status: str = Field(description="pending, captured, released or expired")
