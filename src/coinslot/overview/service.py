"""`customer_state`: everything a page or a host needs to show about one customer, in one read-only
transaction, with no Stripe call.

Composed from the domains' services (customers, subscriptions, entitlements, ledger); the credits come
from `entitlements.credits_view`, which `check` also counts, so the figure on every surface agrees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog, Plan
from coinslot.checkout import service as checkout
from coinslot.container import Container
from coinslot.customers import service as customers
from coinslot.customers import test_clocks
from coinslot.entitlements import service as entitlements
from coinslot.ledger import service as ledger
from coinslot.models import Order, Subscription
from coinslot.subscriptions import service as subscriptions
from coinslot.subscriptions.core import PlanAccess, plan_access

OPEN_ORDER_STATUSES = ("draft", "paid")

__all__ = [
    "CreditsState", "CustomerState", "FeatureUse", "customer_state", "read_customer_state",
    "read_usage_history",
]


@dataclass(frozen=True, slots=True)
class FeatureUse:
    """One feature's use this period: what it cost and, when the catalog limits it, how many uses are left."""

    key: str
    name: str
    credits_per_use: int
    included: bool  # the current plan unlocks it
    uses: int
    credits_used: int
    limit_per_period: int | None


@dataclass(frozen=True, slots=True)
class CreditsState:
    """The credits as a person sees them. `available` counts the lazily granted month, as `check` does."""

    available: int
    held: int  # reserved by pending holds
    debt: int  # owed after a refund took back spent credits
    period_allowance: int  # the current period's grant (0 without one)
    used_this_period: int  # credits spent since `period_start` (spends and captured holds)
    period_start: dt.datetime
    from_plan: int  # the parts of `available`: the plan's periods (and rollover) ...
    from_purchases: int  # ... packs bought ...
    from_adjustments: int  # ... and operators' corrections
    unlimited: bool
    not_yet_written: int  # counted in `available`, written by the period's first use (a free or yearly month)


@dataclass(frozen=True, slots=True)
class CustomerState:
    host_user_id: str
    known: bool  # False: coinslot has not seen the user yet; the state is the one they start with
    now: dt.datetime  # the customer's time (their Stripe test clock's, in test mode), the state's moment
    display_name: str  # the host's name for the user (sent with links and checkouts), else the id
    email: str | None
    customer_id: int | None  # None for a user coinslot has not seen yet
    stripe_customer_id: str | None
    plan: Plan
    access: PlanAccess
    subscription: Subscription | None  # the one granting access, else the newest
    pending_plan: Plan | None  # a downgrade scheduled for the period end
    credits: CreditsState
    features: list[FeatureUse]
    holds: list[ledger.HoldView]  # pending, for jobs still running
    open_orders: list[Order]  # drafts awaiting payment, and paid orders the host has not fulfilled
    ledger_position: int  # the customer's newest entry: what changed since is `ledger.entries(after=...)`


def customer_state(
    session: Session, *, host_user_id: str, catalog: Catalog, now: dt.datetime, grace: dt.timedelta,
) -> CustomerState:
    """The state of a customer. A user coinslot has not seen yet gets the state they start with (the
    default plan, and what their first use will grant, as `check` answers), with `known=False`."""
    customer = customers.get_by_host_user_id(session, host_user_id)
    if customer is None:
        return _new_user(host_user_id, catalog=catalog, now=now)
    if customer.stripe_test_clock_id is not None:
        now = test_clocks.time_of(session, customer_id=customer.id, now=now)
    access = subscriptions.plan_access_for(session, customer_id=customer.id, catalog=catalog, now=now,
                                           grace=grace)
    subscription = (subscriptions.get_by_id(session, subscription_id=access.subscription_id)
                    if access.subscription_id is not None
                    else subscriptions.latest_for_customer(session, customer_id=customer.id))
    plan = access.plan(catalog) or catalog.default
    pending = (catalog.plans.get(subscription.pending_plan_key or "") if subscription is not None else None)
    view = entitlements.credits_view(session, customer_id=customer.id, host_user_id=host_user_id,
                                     catalog=catalog, now=now, grace=grace)
    period_start = view.lazy_period_start or access.period_start or ledger.month_start(now)
    parts = ledger.balance_parts(session, customer_id=customer.id, now=now)
    usage = ledger.usage_by_feature(session, customer_id=customer.id, since=period_start)
    credits = CreditsState(
        available=view.balance.available_credits, held=view.balance.held_credits,
        debt=view.balance.debt_credits, period_allowance=view.balance.period_credits,
        used_this_period=sum(credits for _uses, credits in usage.values()), period_start=period_start,
        from_plan=parts.plan_credits + view.pending_credits, from_purchases=parts.purchased_credits,
        from_adjustments=parts.adjusted_credits, unlimited=plan.unlimited,
        not_yet_written=view.pending_credits,
    )
    features = [
        FeatureUse(feature.key, feature.name, feature.credits, feature.key in plan.features,
                   *usage.get(feature.key, (0, 0)), feature.limit_per_period)
        for feature in catalog.features.values()
    ]
    return CustomerState(
        host_user_id=customer.host_user_id, known=True, now=now,
        display_name=customer.name or customer.host_user_id,
        email=customer.email, customer_id=customer.id,
        stripe_customer_id=customer.stripe_customer_id,
        plan=plan, access=access, subscription=subscription, pending_plan=pending, credits=credits,
        features=features, holds=ledger.pending_holds(session, customer_id=customer.id, now=now),
        open_orders=[order for order in checkout.list_orders(session, host_user_id=host_user_id, limit=50)
                     if order.status in OPEN_ORDER_STATUSES],
        ledger_position=ledger.last_position(session, customer_id=customer.id),
    )


def _new_user(host_user_id: str, *, catalog: Catalog, now: dt.datetime) -> CustomerState:
    plan = catalog.default
    pending = entitlements.new_user_credits(catalog)
    access = plan_access(default_plan=plan.key, now=now, grace=dt.timedelta(0), status=None, plan_key=None)
    credits = CreditsState(
        available=pending, held=0, debt=0, period_allowance=pending, used_this_period=0,
        period_start=ledger.month_start(now), from_plan=pending, from_purchases=0, from_adjustments=0,
        unlimited=plan.unlimited, not_yet_written=pending,
    )
    features = [FeatureUse(feature.key, feature.name, feature.credits, feature.key in plan.features, 0, 0,
                           feature.limit_per_period) for feature in catalog.features.values()]
    return CustomerState(
        host_user_id=host_user_id, known=False, now=now, display_name=host_user_id, email=None,
        customer_id=None,
        stripe_customer_id=None, plan=plan, access=access, subscription=None, pending_plan=None,
        credits=credits, features=features, holds=[], open_orders=[], ledger_position=0,
    )


def read_customer_state(container: Container, *, host_user_id: str) -> CustomerState:
    """`customer_state` in its own read-only unit of work, at the container's "now" and grace."""
    catalog = catalog_service.get_catalog(container.settings)
    with container.db.unit_of_work(read_only=True) as session:
        return customer_state(session, host_user_id=host_user_id, catalog=catalog, now=container.clock.now(),
                              grace=dt.timedelta(days=container.settings.past_due_grace_days))


def read_usage_history(container: Container, *, host_user_id: str, months: int) -> list[ledger.UsageRow]:
    """Usage per month and feature over the user's last `months` months, at the user's time (their Stripe
    test clock's, in test mode); none for a user coinslot has not seen yet."""
    with container.db.unit_of_work(read_only=True) as session:
        customer = customers.get_by_host_user_id(session, host_user_id)
        if customer is None:
            return []
        now = test_clocks.time_of(session, customer_id=customer.id, now=container.clock.now())
        return ledger.history(session, customer_id=customer.id, months=months, now=now)
