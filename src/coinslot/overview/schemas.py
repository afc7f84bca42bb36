"""Response bodies of the customer overview routes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from coinslot.ledger.schemas import BalanceOut
from coinslot.overview.service import CustomerState

__all__ = ["BalanceOut", "CreditsOut", "CustomerSummary", "MirroredSubscriptionOut", "balance_out",
           "summary_out"]


class MirroredSubscriptionOut(BaseModel):
    status: str
    plan: str | None
    interval: str | None
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool
    trial_end: dt.datetime | None


class CreditsOut(BaseModel):
    available: int
    held: int
    period_allowance: int
    unlimited: bool


class CustomerSummary(BaseModel):
    host_user_id: str
    email: str | None
    stripe_customer_id: str | None
    plan: str
    plan_name: str
    access_reason: str
    grace_ends_at: dt.datetime | None
    subscription: MirroredSubscriptionOut | None
    credits: CreditsOut


def summary_out(state: CustomerState) -> CustomerSummary:
    row = state.subscription if state.access.subscription_id is not None else None
    subscription = None if row is None else MirroredSubscriptionOut(
        status=row.status, plan=row.plan_key, interval=row.interval,
        current_period_start=row.current_period_start, current_period_end=row.current_period_end,
        cancel_at_period_end=row.cancel_at_period_end, trial_end=row.trial_end,
    )
    return CustomerSummary(
        host_user_id=state.host_user_id, email=state.email, stripe_customer_id=state.stripe_customer_id,
        plan=state.plan.key, plan_name=state.plan.name, access_reason=state.access.reason,
        grace_ends_at=state.access.grace_ends_at, subscription=subscription,
        credits=CreditsOut(
            available=state.credits.available, held=state.credits.held,
            period_allowance=state.credits.period_allowance, unlimited=state.credits.unlimited,
        ),
    )


def balance_out(state: CustomerState) -> BalanceOut:
    return BalanceOut(host_user_id=state.host_user_id, available_credits=state.credits.available,
                      held_credits=state.credits.held, debt_credits=state.credits.debt,
                      period_credits=state.credits.period_allowance)
