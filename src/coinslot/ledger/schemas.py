"""Request and response bodies of the credits routes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, StrictInt

from coinslot.limits import CREDITS_MAX

__all__ = ["AdjustBody", "BalanceOut", "EntryOut", "LedgerLineOut", "LedgerPage", "SpendBody", "UsageOut"]

ENTRY_KINDS = "grant, purchase, spend, hold, capture, release, refund, expire, adjustment"
IdempotencyKey = Field(min_length=1, max_length=200, description="a retry with the same key changes nothing")


class BalanceOut(BaseModel):
    """A user's credits now, as every surface shows them (`POST /v1/check` counts the same)."""

    host_user_id: str = Field(description="your app's id for the user")
    available_credits: int = Field(description="spendable now, the month a free or yearly plan grants at "
                                               "first use included")
    held_credits: int = Field(description="reserved by pending holds")
    debt_credits: int = Field(description="owed after a refund took back credits already spent")
    period_credits: int = Field(description="the current period's allowance (0 without one)")


class EntryOut(BaseModel):
    """What one ledger entry did."""

    entry_id: str = Field(description="the entry's id: its idempotency key")
    kind: str = Field(description=ENTRY_KINDS)
    credits: int = Field(description="the amount asked for (never negative)")
    available_delta: int = Field(description="the signed change of the spendable credits")
    balance_after: int = Field(description="spendable credits after this entry")
    hold_id: int | None = Field(description="the hold this entry made or resolved")
    feature: str | None = Field(description="the feature a use was for")
    created_at: dt.datetime = Field(description="when it was written")
    replayed: bool = Field(description="true when this answers a retry: nothing was written again")


class LedgerLineOut(BaseModel):
    """One entry of a customer's ledger, as `GET /v1/customers/{host_user_id}/ledger` lists it."""

    position: int = Field(description="orders the entries; pass it as `after` or `before` to page")
    entry_id: str = Field(description="the entry's id: its idempotency key")
    kind: str = Field(description=ENTRY_KINDS)
    credits: int = Field(description="the amount asked for (never negative)")
    available_delta: int = Field(description="the signed change of the spendable credits")
    held_delta: int = Field(description="the signed change of the credits held by pending holds")
    debt_delta: int = Field(description="the signed change of the credits owed")
    balance_after: int = Field(description="spendable credits after this entry")
    feature: str | None = Field(description="the feature a use was for")
    source: str | None = Field(description="where credits came from: invoice:in_..., checkout:cs_..., ...")
    reason: str | None = Field(description="an operator's reason (adjustments)")
    created_at: dt.datetime = Field(description="when it was written")


class LedgerPage(BaseModel):
    """A page of entries, newest first unless `after` was given."""

    data: list[LedgerLineOut] = Field(description="the entries")
    has_more: bool = Field(description="whether another page follows in the same direction")


class UsageOut(BaseModel):
    """Uses of one feature in one month."""

    month: str = Field(description="YYYY-MM (UTC)", examples=["2026-11"])
    feature: str | None = Field(description="the feature's catalog key")
    uses: int = Field(description="how many uses")
    credits: int = Field(description="what they cost (on an unlimited plan: what they would have cost)")


class SpendBody(BaseModel):
    """A raw spend, with no plan check (see `POST /v1/consume` for the checked one)."""

    credits: StrictInt = Field(ge=0, le=CREDITS_MAX, description="how many credits to spend")
    idempotency_key: str = IdempotencyKey
    feature: str | None = Field(default=None, max_length=100,
                                description="the feature, for the usage history")


class AdjustBody(BaseModel):
    """An operator's correction, kept with its reason."""

    credits: StrictInt = Field(ge=-CREDITS_MAX, le=CREDITS_MAX,
                         description="positive adds credits that never expire; negative takes credits")
    reason: str = Field(min_length=3, max_length=500, description="why, kept on the entry")
    idempotency_key: str = IdempotencyKey
