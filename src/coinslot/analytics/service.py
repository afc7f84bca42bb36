"""The operator's figures, read in one read-only transaction: MRR, subscribers, churn, credits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coinslot.analytics import core, repository
from coinslot.catalog.core import Catalog

__all__ = ["Figures", "Retention", "figures", "retention"]

WINDOW_DAYS = 30
RETENTION_MONTHS = 12  # the months the console shows; the CSV has every month since the history began


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


@dataclass(frozen=True, slots=True)
class Retention:
    months: list[core.MonthRetention]  # oldest first, each currency apart; the last one is under way
    history_starts_at: dt.datetime | None  # the first row of MRR history (revision 0011); None: none yet
    openings: int  # subscriptions mirrored before the history began, counted from their first sync after


def retention(session: Session, *, now: dt.datetime, months: int | None = RETENTION_MONTHS) -> Retention:
    """Per calendar month and currency: MRR at its start and end, new, expansion, contraction, churned and
    net revenue retention, from the MRR history (the last `months` months; None: all of them)."""
    rows = repository.mrr_history(session)
    if not rows:
        return Retention(months=[], history_starts_at=None, openings=0)
    # Through the month of the latest change when a customer's test clock runs ahead of the process's time.
    starts = core.month_starts(rows[0].at, max(now, rows[-1].at))
    shown = starts if months is None else starts[-months:]
    return Retention(months=core.monthly_retention(rows, months=shown), history_starts_at=rows[0].at,
                     openings=sum(1 for row in rows if row.opening))
