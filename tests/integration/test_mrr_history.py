"""The MRR history the subscription's sync writes: each change of the monthly amount, once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction
from pathlib import Path

from sqlalchemy import select

from coinslot.analytics import service as analytics
from coinslot.catalog.parser import load_catalog
from coinslot.clock import to_unix
from coinslot.db import Database
from coinslot.models import Customer, MrrChange
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionData, StripeSubscriptionItemData
from coinslot.subscriptions import service as subscriptions

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "examples" / "catalogs" / "patch_hive.toml")
STARTED = dt.datetime(2026, 5, 14, 10, 0, tzinfo=dt.UTC)
PRICES_MINOR = {"core": 499, "pro": 1499, "studio": 2999}


def snapshot(plan: str, *, status: str = "active",
             ended_at: dt.datetime | None = None) -> StripeSubscriptionData:
    start_s = to_unix(STARTED)
    item = StripeSubscriptionItemData(
        id="si_1", price_id=f"price_{plan}", price_lookup_key=f"coinslot:plan:{plan}:month", interval="month",
        quantity=1, current_period_start_s=start_s, current_period_end_s=start_s + 31 * 86400,
        unit_amount_minor=PRICES_MINOR[plan], currency="usd",
    )
    return StripeSubscriptionData(
        id="sub_1", customer_id="cus_1", status=status, items=(item,), cancel_at_period_end=False,
        cancel_at_s=None, canceled_at_s=to_unix(ended_at) if ended_at else None,
        ended_at_s=to_unix(ended_at) if ended_at else None, trial_end_s=None, created_s=to_unix(STARTED),
        livemode=False, metadata={}, currency="usd",
    )


def sync(db: Database, snap: StripeSubscriptionData, *, at: dt.datetime) -> None:
    with db.unit_of_work() as session:
        subscriptions.sync_subscription(session, snapshot=snap, catalog=CATALOG, now=at,
                                        seen_at_ms=to_unix(at) * 1000)


def history(db: Database) -> list[tuple[str, str, Fraction | None, Fraction, dt.datetime]]:
    with db.unit_of_work(read_only=True) as session:
        rows = session.scalars(select(MrrChange).order_by(MrrChange.id)).all()
        return [(row.kind, row.currency,
                 None if row.mrr_before_minor_num is None
                 else Fraction(row.mrr_before_minor_num, row.mrr_before_minor_den or 1),
                 Fraction(row.mrr_after_minor_num, row.mrr_after_minor_den), row.at) for row in rows]


def customer(db: Database) -> None:
    with db.unit_of_work() as session:
        session.add(Customer(host_user_id="ada", email="ada@example.com", stripe_customer_id="cus_1",
                             created_at=STARTED, updated_at=STARTED))


def test_each_change_of_the_monthly_amount_is_written_once_and_a_replay_writes_nothing(db: Database) -> None:
    customer(db)
    upgraded_at = STARTED + dt.timedelta(days=3)
    ended_at, processed_at = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, 1, 0,
                                                                                        tzinfo=dt.UTC)

    sync(db, snapshot("core", status="incomplete"), at=STARTED)  # not paid yet: nothing
    sync(db, snapshot("core"), at=STARTED + dt.timedelta(minutes=1))
    sync(db, snapshot("core"), at=STARTED + dt.timedelta(minutes=2))  # the same snapshot again (invoice.paid)
    sync(db, snapshot("pro"), at=upgraded_at)
    sync(db, snapshot("pro"), at=upgraded_at + dt.timedelta(seconds=5))  # replayed from the dead letters
    # The end is processed after midnight on 1 July; it happened, and counts, in June.
    sync(db, snapshot("pro", status="canceled", ended_at=ended_at), at=processed_at)
    sync(db, snapshot("pro", status="canceled", ended_at=ended_at), at=processed_at)

    assert history(db) == [
        ("change", "usd", 0, 499, STARTED + dt.timedelta(minutes=1)),
        ("change", "usd", 499, 1499, upgraded_at),
        ("change", "usd", 1499, 0, ended_at),
    ]
    with db.unit_of_work(read_only=True) as session:
        figures = analytics.retention(session, now=processed_at)
    may, june = figures.months  # July: nobody left to count
    # Net over May: a new customer at Pro (Core, then the upgrade, within the month).
    assert (may.month.isoformat(), may.new_minor, may.expansion_minor, may.end_minor) == (
        "2026-05-01", 1499, 0, 1499)
    assert (may.customers_new, june.start_minor, june.churned_minor, june.end_minor) == (1, 1499, 1499, 0)
    assert june.nrr == 0
    assert (figures.history_starts_at, figures.openings) == (STARTED + dt.timedelta(minutes=1), 0)


def test_an_older_snapshot_arriving_late_writes_nothing(db: Database) -> None:
    customer(db)
    sync(db, snapshot("pro"), at=STARTED + dt.timedelta(hours=1))
    sync(db, snapshot("core"), at=STARTED)  # read before the one applied: ignored, and so is its amount
    assert [(kind, after) for kind, _currency, _before, after, _at in history(db)] == [("change", 1499)]


def test_more_seats_change_the_monthly_amount(db: Database) -> None:
    customer(db)
    sync(db, snapshot("pro"), at=STARTED)
    seats = snapshot("pro")
    seats = dataclasses.replace(seats, items=(dataclasses.replace(seats.items[0], quantity=3),))
    sync(db, seats, at=STARTED + dt.timedelta(days=1))
    assert [after for _kind, _currency, _before, after, _at in history(db)] == [1499, 3 * 1499]
