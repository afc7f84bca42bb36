"""Request and response bodies of the entitlement routes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from coinslot.limits import CREDITS_MAX

__all__ = ["CaptureBody", "CheckBody", "ConsumeBody", "DecisionOut", "HoldBody", "HoldOut", "UseOut"]


class CheckBody(BaseModel):
    user_id: str = Field(min_length=1, max_length=255, description="the host app's user id")
    feature: str = Field(min_length=1, max_length=100, examples=["export"])
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    params: dict[str, str] = Field(default_factory=dict, examples=[{"complexity": "high"}])


class ConsumeBody(CheckBody):
    idempotency_key: str = Field(min_length=1, max_length=200,
                                 description="one per use: a retry with the same key is not charged twice")


class HoldBody(ConsumeBody):
    credits: int | None = Field(default=None, ge=0, le=CREDITS_MAX,
                                description="reserve this instead of the feature's cost")
    timeout_s: int = Field(default=900, ge=1, le=7 * 24 * 3600, description="released by itself after this")


class CaptureBody(BaseModel):
    credits: int = Field(ge=0, le=CREDITS_MAX,
                         description="the actual cost: less than the hold gives the rest back")


class DecisionOut(BaseModel):
    allowed: bool
    cost: int
    remaining: int | None = Field(description="credits left (after this use when allowed); null = unlimited")
    reason: str = Field(description="ok, unlimited, no_plan, feature_not_in_plan, past_due_grace_over, "
                                    "period_limit_reached, insufficient_credits")
    plan: str | None


class UseOut(DecisionOut):
    entry_id: str
    replayed: bool


class HoldOut(UseOut):
    hold_id: int
    expires_at: dt.datetime
    status: str
