"""Every SQL query of the checkout domain (orders and checkout sessions)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from coinslot.models import CheckoutSession, Customer, Order

__all__ = [
    "intent_by_id",
    "intent_by_stripe_id",
    "list_orders",
    "live_intent",
    "lock_customer",
    "open_intents_for_order",
    "order_by_id",
    "order_by_public_id",
]


def order_by_public_id(session: Session, public_id: str, *, for_update: bool = False) -> Order | None:
    query = select(Order).where(Order.public_id == public_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def order_by_id(session: Session, order_id: int, *, for_update: bool = False) -> Order | None:
    query = select(Order).where(Order.id == order_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def list_orders(session: Session, *, host_user_id: str | None, status: str | None, limit: int) -> list[Order]:
    query = select(Order).order_by(Order.id.desc()).limit(limit)
    if host_user_id is not None:
        query = query.join(Customer, Customer.id == Order.customer_id).where(
            Customer.host_user_id == host_user_id
        )
    if status is not None:
        query = query.where(Order.status == status)
    return list(session.scalars(query))


def intent_by_id(session: Session, intent_id: int) -> CheckoutSession | None:
    return session.get(CheckoutSession, intent_id)


def intent_by_stripe_id(
    session: Session, stripe_session_id: str, *, for_update: bool = False
) -> CheckoutSession | None:
    query = select(CheckoutSession).where(CheckoutSession.stripe_session_id == stripe_session_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def open_intents_for_order(session: Session, order_id: int) -> list[CheckoutSession]:
    return list(
        session.scalars(
            select(CheckoutSession)
            .where(CheckoutSession.order_id == order_id, CheckoutSession.status == "open")
            .order_by(CheckoutSession.id)
        )
    )


def lock_customer(session: Session, customer_id: int) -> None:
    """Serialise one customer's checkout starts (PostgreSQL; SQLite's BEGIN IMMEDIATE already does)."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


def live_intent(
    session: Session,
    *,
    customer_id: int,
    created_after: dt.datetime,
    mode: str | None = None,
    order_id: int | None = None,
) -> CheckoutSession | None:
    """The newest checkout attempt still payable (being created or open, not past its expiry) of a customer,
    optionally only of one mode or for one order."""
    query = select(CheckoutSession).where(
        CheckoutSession.customer_id == customer_id,
        CheckoutSession.status.in_(("creating", "open")),
        CheckoutSession.created_at > created_after,
    )
    if mode is not None:
        query = query.where(CheckoutSession.mode == mode)
    if order_id is not None:
        query = query.where(CheckoutSession.order_id == order_id)
    return session.scalar(query.order_by(CheckoutSession.id.desc()).limit(1))
