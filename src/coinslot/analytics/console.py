"""Read-only lookups for the admin console: one customer's ledger rows at a glance.

Queries only (no writes), like the rest of analytics; the domains own every change.
Customer search and a customer's subscriptions come from their own domains' services.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from coinslot.models import LedgerEntry

__all__ = ["ledger_entries"]


def ledger_entries(session: Session, *, customer_id: int, limit: int = 100) -> Sequence[LedgerEntry]:
    """A customer's latest ledger entries, newest first."""
    query = (select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
             .order_by(LedgerEntry.id.desc()).limit(limit))
    return session.scalars(query).all()
