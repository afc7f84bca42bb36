"""Response bodies of the customer overview routes: the summary, the whole state, the balance."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from coinslot.checkout.schemas import OrderOut, order_out
from coinslot.ledger.schemas import BalanceOut
from coinslot.overview.service import CustomerState

__all__ = [
    "BalanceOut", "CreditsOut", "CustomerStateOut", "CustomerSummary", "FeatureUseOut", "HoldSummaryOut",
    "MirroredSubscriptionOut", "StateCreditsOut", "balance_out", "state_out", "summary_out",
]

HOST_USER_ID = "your app's id for the user"


class MirroredSubscriptionOut(BaseModel):
    """The user's subscription as coinslot mirrors it from Stripe."""

    stripe_subscription_id: str = Field(description="Stripe's id (sub_...)")
    status: str = Field(description="Stripe's status: active, trialing, past_due, canceled, ...")
    plan: str | None = Field(description="the catalog plan it bills")
    interval: str | None = Field(description="month or year")
    current_period_start: dt.datetime | None = Field(description="when the current period started")
    current_period_end: dt.datetime | None = Field(description="when it ends (renews, or ends if canceling)")
    cancel_at_period_end: bool = Field(description="true when it ends at the period end")
    trial_end: dt.datetime | None = Field(description="when the trial ends, if trialing")


class CreditsOut(BaseModel):
    """The user's credits, in short."""

    available: int = Field(description="spendable now (as `check` counts them)")
    held: int = Field(description="reserved by pending holds")
    period_allowance: int = Field(description="the current period's grant")
    unlimited: bool = Field(description="true on an unlimited plan: uses are recorded, not counted down")


class CustomerSummary(BaseModel):
    """Plan, subscription and credits of a user: what a header or a settings page shows."""

    host_user_id: str = Field(description=HOST_USER_ID)
    known: bool = Field(description="false for a user coinslot has not seen yet (shown as they would start)")
    email: str | None = Field(description="the email coinslot has for them")
    stripe_customer_id: str | None = Field(description="their Stripe customer, once they have one")
    plan: str = Field(description="the catalog key of the plan that applies now")
    plan_name: str = Field(description="its display name")
    access_reason: str = Field(description="why that plan: active, trialing, past_due_in_grace, "
                                           "past_due_grace_over, no_subscription, canceled, ...")
    grace_ends_at: dt.datetime | None = Field(description="past due: when the plan stops applying")
    subscription: MirroredSubscriptionOut | None = Field(description="the subscription granting the plan")
    credits: CreditsOut = Field(description="the user's credits")


class StateCreditsOut(BaseModel):
    """The user's credits, in full: the parts of the balance and this period's use."""

    available: int = Field(description="spendable now (as `check` counts them)")
    held: int = Field(description="reserved by pending holds")
    debt: int = Field(description="owed after a refund took back credits already spent")
    period_allowance: int = Field(description="the current period's grant")
    used_this_period: int = Field(description="credits spent since `period_start`, from the ledger")
    period_start: dt.datetime = Field(description="start of the period `used_this_period` counts")
    from_plan: int = Field(description="part of `available` from the plan's periods (and rollover)")
    from_purchases: int = Field(description="part of `available` from packs bought")
    from_adjustments: int = Field(description="part of `available` added by operators")
    not_yet_written: int = Field(description="part of `available` that the period's first use will write "
                                             "(a free or yearly plan's month)")
    unlimited: bool = Field(description="true on an unlimited plan")


class FeatureUseOut(BaseModel):
    """One feature: whether the plan includes it, what it costs, and its use this period."""

    key: str = Field(description="the feature's catalog key")
    name: str = Field(description="its display name")
    included: bool = Field(description="the current plan unlocks it")
    credits_per_use: int = Field(description="the cost of one use, before multipliers")
    uses_this_period: int = Field(description="uses since the period started")
    credits_this_period: int = Field(description="what they cost")
    limit_per_period: int | None = Field(description="uses allowed per period (null: no limit)")
    uses_left: int | None = Field(description="uses left under that limit (null: no limit)")


class HoldSummaryOut(BaseModel):
    """A pending hold: credits reserved for a running job."""

    hold_id: int = Field(description="capture or release it by this id")
    credits: int = Field(description="credits reserved")
    feature: str | None = Field(description="the feature it is for")
    expires_at: dt.datetime = Field(description="when it releases itself")


class CustomerStateOut(BaseModel):
    """Everything a host page needs about a user, in one call."""

    host_user_id: str = Field(description=HOST_USER_ID)
    known: bool = Field(description="false for a user coinslot has not seen yet (shown as they would start)")
    display_name: str = Field(description="the name the host gave for the user, else the id")
    plan: str = Field(description="the catalog key of the plan that applies now")
    plan_name: str = Field(description="its display name")
    access_reason: str = Field(description="why that plan: active, trialing, past_due_in_grace, ...")
    grace_ends_at: dt.datetime | None = Field(description="past due: when the plan stops applying")
    period_end: dt.datetime | None = Field(description="when the current billing period ends")
    subscription: MirroredSubscriptionOut | None = Field(description="the subscription granting the plan, "
                                                                     "else the newest one")
    pending_plan: str | None = Field(description="a downgrade scheduled for the period end")
    credits: StateCreditsOut = Field(description="the credits, in full")
    features: list[FeatureUseOut] = Field(description="every feature of the catalog")
    holds: list[HoldSummaryOut] = Field(description="pending holds")
    open_orders: list[OrderOut] = Field(description="drafts awaiting payment and paid orders not fulfilled")
    ledger_position: int = Field(description="the newest ledger entry's position: list what comes after it "
                                             "with `listLedgerEntries?after=`")


def _subscription_out(state: CustomerState) -> MirroredSubscriptionOut | None:
    row = state.subscription
    if row is None:
        return None
    return MirroredSubscriptionOut(
        stripe_subscription_id=row.stripe_subscription_id, status=row.status, plan=row.plan_key,
        interval=row.interval, current_period_start=row.current_period_start,
        current_period_end=row.current_period_end, cancel_at_period_end=row.cancel_at_period_end,
        trial_end=row.trial_end,
    )


def summary_out(state: CustomerState) -> CustomerSummary:
    granting = _subscription_out(state) if state.access.subscription_id is not None else None
    return CustomerSummary(
        host_user_id=state.host_user_id, known=state.known, email=state.email,
        stripe_customer_id=state.stripe_customer_id, plan=state.plan.key, plan_name=state.plan.name,
        access_reason=state.access.reason, grace_ends_at=state.access.grace_ends_at, subscription=granting,
        credits=CreditsOut(
            available=state.credits.available, held=state.credits.held,
            period_allowance=state.credits.period_allowance, unlimited=state.credits.unlimited,
        ),
    )


def state_out(state: CustomerState) -> CustomerStateOut:
    credits = state.credits
    return CustomerStateOut(
        host_user_id=state.host_user_id, known=state.known, display_name=state.display_name,
        plan=state.plan.key, plan_name=state.plan.name, access_reason=state.access.reason,
        grace_ends_at=state.access.grace_ends_at, period_end=state.access.period_end,
        subscription=_subscription_out(state),
        pending_plan=state.pending_plan.key if state.pending_plan else None,
        credits=StateCreditsOut(
            available=credits.available, held=credits.held, debt=credits.debt,
            period_allowance=credits.period_allowance, used_this_period=credits.used_this_period,
            period_start=credits.period_start, from_plan=credits.from_plan,
            from_purchases=credits.from_purchases, from_adjustments=credits.from_adjustments,
            not_yet_written=credits.not_yet_written, unlimited=credits.unlimited,
        ),
        features=[
            FeatureUseOut(
                key=use.key, name=use.name, included=use.included, credits_per_use=use.credits_per_use,
                uses_this_period=use.uses, credits_this_period=use.credits_used,
                limit_per_period=use.limit_per_period,
                uses_left=None if use.limit_per_period is None else max(0, use.limit_per_period - use.uses),
            )
            for use in state.features
        ],
        holds=[HoldSummaryOut(hold_id=hold.hold_id, credits=hold.credits, feature=hold.feature,
                              expires_at=hold.expires_at) for hold in state.holds],
        open_orders=[order_out(order, state.host_user_id) for order in state.open_orders],
        ledger_position=state.ledger_position,
    )


def balance_out(state: CustomerState) -> BalanceOut:
    return BalanceOut(host_user_id=state.host_user_id, available_credits=state.credits.available,
                      held_credits=state.credits.held, debt_credits=state.credits.debt,
                      period_credits=state.credits.period_allowance)
