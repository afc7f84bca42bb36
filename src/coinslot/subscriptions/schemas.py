"""Request and response models of the subscriptions API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["ChangePlan", "OpenPortal", "PortalOut", "SubscriptionOut"]


class SubscriptionOut(BaseModel):
    stripe_subscription_id: str
    status: str
    plan_key: str | None
    interval: str | None
    cancel_at_period_end: bool
    current_period_end: dt.datetime | None
    pending_plan_key: str | None


class ChangePlan(BaseModel):
    plan: str = Field(description="the catalog key of the plan to switch to")
    interval: Literal["month", "year"] | None = Field(default=None, description="default: the current one")
    timing: Literal["now", "period_end"] | None = Field(
        default=None, description="default: upgrades now (prorated), downgrades at the period end"
    )


class OpenPortal(BaseModel):
    return_url: str
    flow: Literal["subscription_update", "subscription_update_confirm", "subscription_cancel"] | None = None
    plan: str | None = Field(
        default=None, description="for subscription_update_confirm: the plan to switch to"
    )
    interval: Literal["month", "year"] | None = None


class PortalOut(BaseModel):
    url: str
