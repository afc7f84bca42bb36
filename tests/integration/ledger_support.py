"""Helpers shared by the ledger and entitlement tests: customers, a fixed clock, shorthands."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from coinslot.db import Database
from coinslot.ledger import service as ledger
from coinslot.models import Customer

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def add_customer(session: Session, host_user_id: str, *, now: dt.datetime = NOW) -> int:
    customer = Customer(host_user_id=host_user_id, created_at=now, updated_at=now)
    session.add(customer)
    session.flush()
    return customer.id


def new_customer(db: Database, host_user_id: str) -> int:
    with db.unit_of_work() as session:
        return add_customer(session, host_user_id)


def available(db: Database, customer_id: int, *, now: dt.datetime = NOW) -> int:
    with db.unit_of_work(read_only=True) as session:
        return ledger.balance(session, customer_id=customer_id, now=now).available_credits


def assert_verified(db: Database) -> None:
    with db.unit_of_work(read_only=True) as session:
        problems = ledger.verify(session)
    assert problems == [], "\n".join(str(p) for p in problems)
