"""Read-only lookups for the admin console: find customers, see one customer's rows at a glance.

Queries only (no writes), like the rest of analytics; the domains own every change.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from coinslot.models import Customer, LedgerEntry, Subscription

__all__ = ["customer", "find_customers", "ledger_entries", "subscriptions_of"]


def find_customers(session: Session, *, text: str, limit: int = 50) -> Sequence[Customer]:
    """Customers whose host user id, email, name or Stripe id contain `text` (all if empty), newest first."""
    query = select(Customer).order_by(Customer.id.desc()).limit(limit)
    needle = text.strip().lower()
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(
            func.lower(Customer.host_user_id).like(pattern, escape="\\"),
            func.lower(func.coalesce(Customer.email, "")).like(pattern, escape="\\"),
            func.lower(func.coalesce(Customer.name, "")).like(pattern, escape="\\"),
            func.lower(func.coalesce(Customer.stripe_customer_id, "")).like(pattern, escape="\\"),
        ))
    return session.scalars(query).all()


def customer(session: Session, *, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def subscriptions_of(session: Session, *, customer_id: int) -> Sequence[Subscription]:
    """Every subscription of a customer, newest first (ended ones too: the console shows history)."""
    query = (select(Subscription).where(Subscription.customer_id == customer_id)
             .order_by(Subscription.id.desc()))
    return session.scalars(query).all()


def ledger_entries(session: Session, *, customer_id: int, limit: int = 100) -> Sequence[LedgerEntry]:
    """A customer's latest ledger entries, newest first."""
    query = (select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
             .order_by(LedgerEntry.id.desc()).limit(limit))
    return session.scalars(query).all()
