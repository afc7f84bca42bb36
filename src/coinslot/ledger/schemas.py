"""Request and response bodies of the credits routes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from coinslot.limits import CREDITS_MAX

__all__ = ["AdjustBody", "BalanceOut", "EntryOut", "SpendBody", "UsageOut"]

IdempotencyKey = Field(min_length=1, max_length=200, description="a retry with the same key changes nothing")


class BalanceOut(BaseModel):
    host_user_id: str
    available_credits: int
    held_credits: int
    debt_credits: int
    period_credits: int


class EntryOut(BaseModel):
    entry_id: str
    kind: str
    credits: int
    available_delta: int
    balance_after: int
    hold_id: int | None
    feature: str | None
    created_at: dt.datetime
    replayed: bool


class UsageOut(BaseModel):
    month: str
    feature: str | None
    uses: int
    credits: int


class SpendBody(BaseModel):
    credits: int = Field(ge=0, le=CREDITS_MAX)
    idempotency_key: str = IdempotencyKey
    feature: str | None = Field(default=None, max_length=100)


class AdjustBody(BaseModel):
    credits: int = Field(ge=-CREDITS_MAX, le=CREDITS_MAX,
                         description="positive adds credits that never expire; negative takes credits")
    reason: str = Field(min_length=3, max_length=500)
    idempotency_key: str = IdempotencyKey
