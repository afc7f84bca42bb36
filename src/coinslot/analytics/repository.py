"""Read-only queries behind the figures. Never writes; every figure can be recomputed at any time."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from coinslot.analytics.core import PAYING_STATUSES, MrrHistoryRow, RevenueRow
from coinslot.models import LedgerEntry, MrrChange, Subscription

__all__ = [
    "churn_counts", "credits_consumed_by_feature", "credits_granted_by_kind", "mrr_history", "revenue_rows",
    "subscription_counts",
    "version_counts",
]

# Usage is what spends and captures asked for: on an unlimited plan nothing leaves a balance,
# but the use still counts.
_USAGE_KINDS = ("spend", "capture", "overage")  # as the ledger counts uses
_INCOME_KINDS = ("grant", "purchase", "adjustment")

# Never paid: neither revenue nor churn.
_NEVER_PAID = ("incomplete", "incomplete_expired")


def subscription_counts(session: Session) -> list[tuple[str, str | None, str | None, int]]:
    """(status, plan_key, interval, how many) over every subscription."""
    query = (
        select(Subscription.status, Subscription.plan_key, Subscription.interval, func.count())
        .group_by(Subscription.status, Subscription.plan_key, Subscription.interval)
    )
    return [(status, plan, interval, int(count)) for status, plan, interval, count in session.execute(query)]


def version_counts(session: Session) -> list[tuple[str, str | None, str | None, int]]:
    """(status, plan_key, plan_version, how many) over every subscription."""
    query = (
        select(Subscription.status, Subscription.plan_key, Subscription.plan_version, func.count())
        .group_by(Subscription.status, Subscription.plan_key, Subscription.plan_version)
    )
    return [(status, plan, version, int(count)) for status, plan, version, count in session.execute(query)]


_REVENUE_COLUMNS = (
    Subscription.status, Subscription.plan_key, Subscription.interval, Subscription.interval_count,
    Subscription.currency, Subscription.period_amount_minor, Subscription.period_discount_minor,
    Subscription.discount_ends_at,
)


def revenue_rows(session: Session) -> list[RevenueRow]:
    """The paying subscriptions grouped by what they bill: a row per distinct amount, not per subscription."""
    query = (
        select(*_REVENUE_COLUMNS, func.count())
        .where(Subscription.status.in_(sorted(PAYING_STATUSES)))
        .group_by(*_REVENUE_COLUMNS)
    )
    return [
        RevenueRow(status=status, plan_key=plan_key, interval=interval, interval_count=interval_count,
                   currency=currency, period_amount_minor=amount, period_discount_minor=discount,
                   discount_ends_at=ends_at, count=int(count))
        for status, plan_key, interval, interval_count, currency, amount, discount, ends_at, count
        in session.execute(query)
    ]


def churn_counts(session: Session, *, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """(live at `start`, ended in [start, end)) among subscriptions that were paid for at some point."""
    # Only a canceled subscription has ended: `canceled_at` alone may be a cancellation scheduled
    # for the period end, on a subscription that is still live.
    ended_at = func.coalesce(Subscription.ended_at, Subscription.canceled_at, Subscription.updated_at)
    existed = (Subscription.created_at < start) & Subscription.status.not_in(_NEVER_PAID)
    live_at_start = session.scalar(
        select(func.count()).select_from(Subscription).where(
            existed, or_(Subscription.status != "canceled", ended_at >= start)
        )
    )
    ended = session.scalar(
        select(func.count()).select_from(Subscription).where(
            existed, Subscription.status == "canceled", ended_at >= start, ended_at < end
        )
    )
    return int(live_at_start or 0), int(ended or 0)


def credits_granted_by_kind(session: Session, *, since: dt.datetime) -> list[tuple[str, int]]:
    """Credits that came in since `since`, by entry kind (grant, purchase, positive adjustment)."""
    query = (
        select(LedgerEntry.kind, func.sum(LedgerEntry.available_delta))
        .where(LedgerEntry.kind.in_(_INCOME_KINDS), LedgerEntry.available_delta > 0,
               LedgerEntry.created_at >= since)
        .group_by(LedgerEntry.kind)
        .order_by(LedgerEntry.kind)
    )
    return [(kind, int(total or 0)) for kind, total in session.execute(query)]


def credits_consumed_by_feature(session: Session, *, since: dt.datetime) -> list[tuple[str, int, int]]:
    """(feature, credits used, uses) since `since`, most used first."""
    feature = func.coalesce(LedgerEntry.feature, "(none)")
    query = (
        select(feature, func.sum(LedgerEntry.credits), func.count())
        .where(LedgerEntry.kind.in_(_USAGE_KINDS), LedgerEntry.created_at >= since)
        .group_by(feature)
        .order_by(func.sum(LedgerEntry.credits).desc())
    )
    return [(name, int(total or 0), int(uses)) for name, total, uses in session.execute(query)]


def mrr_history(session: Session) -> list[MrrHistoryRow]:
    """Every row of the MRR history, oldest first (by time, then as written)."""
    query = select(
        MrrChange.subscription_id, MrrChange.customer_id, MrrChange.currency, MrrChange.kind, MrrChange.at,
        MrrChange.mrr_after_minor_num, MrrChange.mrr_after_minor_den,
    ).order_by(MrrChange.at, MrrChange.id)
    return [
        MrrHistoryRow(subscription_id=subscription_id, customer_id=customer_id, currency=currency,
                      opening=kind == "opening", at=at, after_minor=Fraction(num, den))
        for subscription_id, customer_id, currency, kind, at, num, den in session.execute(query)
    ]
