"""The operator's figures, read in one read-only transaction: MRR, subscribers, churn, credits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.analytics import core, repository
from coinslot.catalog.core import Catalog

__all__ = ["Figures", "figures"]

WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class Figures:
    mrr: core.Mrr  # per currency and per plan, from each subscription's real amounts
    subscribers: list[core.PlanCount]
    churn: core.Churn
    credits_granted: list[tuple[str, int]]  # (kind, credits) over the window
    credits_consumed: list[tuple[str, str, int, int]]  # (feature key, feature name, credits, uses)
    window_days: int
    versions: list[core.VersionCount]  # subscribers per version of the plans that have earlier ones

    @property
    def mrr_minor(self) -> dict[str, int]:
        """MRR per currency, in minor units."""
        return self.mrr.total_minor


def figures(session: Session, *, catalog: Catalog, now: dt.datetime,
            window_days: int = WINDOW_DAYS) -> Figures:
    """Every figure of the admin console, computed from the subscriptions mirror and the ledger."""
    counts = repository.subscription_counts(session)
    start = now - dt.timedelta(days=window_days)
    live_at_start, ended = repository.churn_counts(session, start=start, end=now)
    consumed = [
        (key, catalog.features[key].name if key in catalog.features else key, credits, uses)
        for key, credits, uses in repository.credits_consumed_by_feature(session, since=start)
    ]
    return Figures(
        mrr=core.monthly_recurring_revenue(catalog, repository.revenue_rows(session), now=now),
        subscribers=core.subscribers_per_plan(catalog, counts),
        churn=core.churn(window_days=window_days, live_at_start=live_at_start, ended=ended),
        credits_granted=repository.credits_granted_by_kind(session, since=start),
        credits_consumed=consumed,
        window_days=window_days,
        versions=core.subscribers_per_version(catalog, repository.version_counts(session)),
    )
