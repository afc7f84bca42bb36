"""Every SQL query of the subscriptions domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from coinslot.models import Customer, MrrChange, Subscription
from coinslot.subscriptions import statuses

__all__ = [
    "LIVE_STATUSES",
    "by_id",
    "current_for_customer",
    "for_customer",
    "get_by_stripe_id",
    "lock_customer",
    "lock_with_last_mrr_change",
    "on_version",
    "stripe_customers",
    "without_metered_item",
]


def get_by_stripe_id(
    session: Session, stripe_subscription_id: str, *, for_update: bool = False
) -> Subscription | None:
    query = select(Subscription).where(Subscription.stripe_subscription_id == stripe_subscription_id)
    if for_update:
        # Two workers syncing the same subscription queue here (PostgreSQL); SQLite writers are serial anyway.
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


# Built once: plan access is read on every consume (docs/benchmarks.md, consume).
_FOR_CUSTOMER = (
    select(Subscription).where(Subscription.customer_id == bindparam("customer_id"))
    .order_by(Subscription.id.desc())
)


def for_customer(session: Session, customer_id: int) -> Sequence[Subscription]:
    """The customer's subscriptions, newest first."""
    return session.scalars(_FOR_CUSTOMER, {"customer_id": customer_id}).all()


def lock_customer(session: Session, customer_id: int) -> None:
    """Serialise writers of one customer's subscriptions (a first insert has no row of its own to lock)."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def stripe_customers(session: Session) -> Sequence[tuple[int, str]]:
    """(customer id, Stripe customer id) of every customer Stripe knows, for reconcile."""
    query = (
        select(Customer.id, Customer.stripe_customer_id)
        .where(Customer.stripe_customer_id.is_not(None))
        .order_by(Customer.id)
    )
    return [(row[0], str(row[1])) for row in session.execute(query)]


# Statuses of a subscription that still belongs to the customer's present (not ended, not abandoned).
LIVE_STATUSES = tuple(sorted(statuses.LIVE))  # as a bind-friendly tuple: subscriptions.statuses


def current_for_customer(session: Session, customer_id: int) -> Subscription | None:
    """The customer's live subscription (the newest, if several), or None."""
    query = (
        select(Subscription)
        .where(Subscription.customer_id == customer_id, Subscription.status.in_(LIVE_STATUSES))
        .order_by(Subscription.id.desc())
        .limit(1)
    )
    return session.scalars(query).one_or_none()


def by_id(session: Session, subscription_id: int) -> Subscription | None:
    return session.get(Subscription, subscription_id)


def on_version(
    session: Session, *, plan_key: str, version: str, oldest: bool
) -> Sequence[tuple[int, str, str]]:
    """(row id, Stripe subscription id, host user id) of the serving subscriptions to `plan_key` on `version`
    and not already moving to another one, oldest first. `oldest`: `version` is the plan's oldest, which
    rows not synced since revision 0009 (no version recorded) are on."""
    on = Subscription.plan_version == version
    if oldest:
        on = on | Subscription.plan_version.is_(None)
    query = (
        select(Subscription.id, Subscription.stripe_subscription_id, Customer.host_user_id)
        .join(Customer, Customer.id == Subscription.customer_id)
        .where(Subscription.plan_key == plan_key, on, Subscription.pending_plan_version.is_(None),
               Subscription.status.in_(sorted(statuses.SERVING)))
        .order_by(Subscription.id)
    )
    return [(int(row_id), str(sub_id), str(user)) for row_id, sub_id, user in session.execute(query)]


# The newest row of a subscription's MRR history (its amount as last recorded), beside the row itself.
_LAST_MRR_CHANGE = (
    select(MrrChange.id).where(MrrChange.subscription_id == Subscription.id)
    .order_by(MrrChange.id.desc()).limit(1).correlate(Subscription).scalar_subquery()
)
_LOCK_WITH_LAST_MRR_CHANGE = (
    select(Subscription, MrrChange)
    .outerjoin(MrrChange, MrrChange.id == _LAST_MRR_CHANGE)
    .where(Subscription.stripe_subscription_id == bindparam("stripe_subscription_id"))
    .with_for_update(of=Subscription)
)


def lock_with_last_mrr_change(
    session: Session, stripe_subscription_id: str
) -> tuple[Subscription | None, MrrChange | None]:
    """The mirrored row of a Stripe subscription, locked, and the newest row of its MRR history (None
    without history); (None, None) when not mirrored. One statement: a sync needs both, for every event
    about a subscription (docs/benchmarks.md, webhook processing)."""
    found = session.execute(_LOCK_WITH_LAST_MRR_CHANGE,
                            {"stripe_subscription_id": stripe_subscription_id}).one_or_none()
    return (found[0], found[1]) if found is not None else (None, None)


def without_metered_item(session: Session, *, plan_keys: Sequence[str]) -> Sequence[tuple[int, str, str]]:
    """(row id, Stripe subscription id, host user id) of the live subscriptions to one of `plan_keys` that
    carry no metered item of their plan, with no move to another plan pending, oldest first.

    Not `incomplete` ones: never paid, Stripe lets them change little, and they grant nothing until paid
    (a re-run after that finds them). A pending downgrade has moved the items to the next plan already."""
    wanted = sorted(statuses.LIVE - {"incomplete"})
    query = (
        select(Subscription.id, Subscription.stripe_subscription_id, Customer.host_user_id)
        .join(Customer, Customer.id == Subscription.customer_id)
        .where(Subscription.plan_key.in_(sorted(plan_keys)), Subscription.metered_price_id.is_(None),
               Subscription.pending_plan_key.is_(None), Subscription.status.in_(wanted))
        .order_by(Subscription.id)
    )
    return [(int(row_id), str(sub_id), str(user)) for row_id, sub_id, user in session.execute(query)]
