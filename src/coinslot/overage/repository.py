"""Every query of overage's own table: the reports (one per overage ledger entry). Claiming and leases are
the queue's (`queue.repository`, kind OVERAGE_REPORTS)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot.models import OverageReport

__all__ = ["add", "credits_by_entry", "reported_credits"]


def add(session: Session, report: OverageReport) -> OverageReport:
    session.add(report)
    session.flush()
    return report


def credits_by_entry(session: Session) -> dict[int, tuple[int, int]]:
    """entry pk -> (customer, credits) of every report."""
    query = select(OverageReport.entry_pk, OverageReport.customer_id, OverageReport.credits)
    return {entry_pk: (customer, credits) for entry_pk, customer, credits in session.execute(query).tuples()}


def reported_credits(session: Session, *, customer_id: int, since: dt.datetime) -> int:
    """Credits of the customer's overage since a moment that Stripe has accepted."""
    query = select(func.coalesce(func.sum(OverageReport.credits), 0)).where(
        OverageReport.customer_id == customer_id, OverageReport.status == "reported",
        OverageReport.occurred_at >= since,
    )
    return int(session.scalar(query) or 0)
