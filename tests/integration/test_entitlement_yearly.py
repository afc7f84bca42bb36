"""Yearly plans get their allowance every month (`credits_per_period` is monthly), on SQLite and PostgreSQL.

The year's invoice grants month 1; months 2..12 are granted by the first consume or hold in them
(entry `invoice:<in_…>:m<n>`) and counted by `check` before that, without a write.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog
from coinslot.db import Database
from coinslot.errors import InsufficientCredits
from coinslot.ledger import core
from coinslot.ledger import service as ledger
from coinslot.models import LedgerEntry, Subscription
from tests.integration.ledger_support import DAY, NOW, add_customer, assert_verified, available
from tests.integration.test_entitlement_stories import QUANTIPACK, check, consume

YEAR_END = core.add_months(NOW, 12)
GRACE = 3 * DAY


def subscribe_yearly(db: Database, user: str, plan_key: str, *, invoice: str = "in_year") -> int:
    """A yearly subscriber whose year's invoice was paid (what the webhook pipeline leaves behind)."""
    with db.unit_of_work() as session:
        customer_id = add_customer(session, user)
        session.add(Subscription(
            customer_id=customer_id, stripe_subscription_id=f"sub_{user}", status="active", plan_key=plan_key,
            interval="year", current_period_start=NOW, current_period_end=YEAR_END, snapshot_at_ms=0,
            created_at=NOW, updated_at=NOW,
        ))
        session.flush()
        grant_invoice(session, customer_id, QUANTIPACK, plan_key, invoice, at=NOW, user=user)
    return customer_id


def grant_invoice(session: Session, customer_id: int, catalog: Catalog, plan_key: str, invoice: str, *,
                  at: dt.datetime, user: str) -> None:
    """What `record_paid_invoice` does for a yearly invoice paying from `at`: that month's allowance."""
    plan = catalog.plans[plan_key]
    month = ledger.period_month(period_start=NOW, period_end=YEAR_END, at=at)
    ledger.grant_period(
        session,
        customer_id=customer_id, entry_id=f"invoice:{invoice}", credits=plan.credits_per_period,
        period_start=month.start, period_end=month.end, rollover_cap=plan.rollover_cap, unlimited=False,
        now=at, source=f"subscription:sub_{user}", renewal_grace=GRACE if month.last else dt.timedelta(0),
    )


def month_day(n: int, days: int = 1) -> dt.datetime:
    return core.add_months(NOW, n - 1) + days * DAY


def entries_like(db: Database, pattern: str) -> int:
    with db.unit_of_work(read_only=True) as session:
        return int(session.scalar(select(func.count()).where(LedgerEntry.entry_id.like(pattern))) or 0)


def test_a_yearly_starter_subscriber_gets_50_tokens_every_month_for_twelve_months(db: Database) -> None:
    ines = subscribe_yearly(db, "ines", "starter")
    assert available(db, ines) == 50
    for n in range(1, 13):
        when = month_day(n, 3)
        assert check(db, QUANTIPACK, "ines", "spec_generator", now=when).remaining == 40  # 50 - 10
        for i in range(3):  # 30 spent, 20 left to expire with the month
            consume(db, QUANTIPACK, "ines", "spec_generator", f"m{n}-{i}", now=when)
        assert available(db, ines, now=when) == 20
        assert_verified(db)
    assert entries_like(db, "invoice:in_year:m%") == 11
    # The last month keeps the renewal grace: its credits last until the next year's invoice.
    assert available(db, ines, now=YEAR_END + DAY) == 20
    assert available(db, ines, now=YEAR_END + GRACE) == 0


def test_check_in_month_3_counts_the_months_allowance_without_writing(db: Database) -> None:
    subscribe_yearly(db, "ines", "starter")
    consume(db, QUANTIPACK, "ines", "spec_generator", "a-1", now=month_day(1))
    before = entries_like(db, "%")
    decision = check(db, QUANTIPACK, "ines", "spec_generator", now=month_day(3, 5))
    assert (decision.allowed, decision.remaining) == (True, 40)
    assert entries_like(db, "%") == before  # nothing written: month 3 is granted by its first use
    used = consume(db, QUANTIPACK, "ines", "spec_generator", "a-2", now=month_day(3, 5))
    assert used.decision.remaining == 40
    assert entries_like(db, "invoice:in_year:m3") == 1
    assert_verified(db)


def test_the_balance_a_yearly_subscriber_sees_in_month_3_includes_the_months_allowance(db: Database) -> None:
    from coinslot.entitlements import service as entitlements

    ines = subscribe_yearly(db, "ines", "starter")
    consume(db, QUANTIPACK, "ines", "spec_generator", "a-1", now=month_day(1))
    with db.unit_of_work(read_only=True) as session:
        month_1 = entitlements.effective_balance(session, customer_id=ines, host_user_id="ines",
                                                 catalog=QUANTIPACK, now=month_day(1, 2))
        month_3 = entitlements.effective_balance(session, customer_id=ines, host_user_id="ines",
                                                 catalog=QUANTIPACK, now=month_day(3, 5))
    assert (month_1.available_credits, month_1.period_credits) == (40, 50)
    # Month 3 is not written until its first use, yet the billing page must not show 0.
    assert (month_3.available_credits, month_3.period_credits) == (50, 50)
    assert available(db, ines, now=month_day(3, 5)) == 0  # the ledger itself is unchanged


def test_a_months_lazy_grant_happens_once_under_16_concurrent_consumes(db: Database) -> None:
    ines = subscribe_yearly(db, "ines", "starter")
    when = month_day(2, 1)
    start = threading.Barrier(16)

    def use(i: int) -> bool:
        start.wait()
        try:
            consume(db, QUANTIPACK, "ines", "suite_analyzer", f"c-{i}", now=when)
        except InsufficientCredits:
            return False
        return True

    with ThreadPoolExecutor(16) as pool:
        allowed = sum(pool.map(use, range(16)))
    assert allowed == 10  # 50 tokens, 5 each: granted once, not once per racer
    assert entries_like(db, "invoice:in_year:m2") == 1
    assert available(db, ines, now=when) == 0
    assert_verified(db)


def test_rollover_cap_applies_between_the_months_of_a_year(db: Database) -> None:
    pia = subscribe_yearly(db, "pia", "professional")  # 150 a month, up to 50 roll over
    consume(db, QUANTIPACK, "pia", "pdp_analyzer", "p-1", now=month_day(1))  # 135 left
    assert check(db, QUANTIPACK, "pia", "pdp_analyzer", now=month_day(2)).remaining == 185  # 150 + 50 - 15
    assert consume(db, QUANTIPACK, "pia", "pdp_analyzer", "p-2", now=month_day(2)).decision.remaining == 185
    assert available(db, pia, now=month_day(2)) == 185
    assert_verified(db)


def test_an_upgrade_mid_year_tops_up_this_month_and_later_months_get_the_new_plan(db: Database) -> None:
    ines = subscribe_yearly(db, "ines", "starter")
    consume(db, QUANTIPACK, "ines", "spec_generator", "u-1", now=month_day(5, 2))  # month 5: 50 - 10
    with db.unit_of_work() as session:
        row = session.scalar(select(Subscription).where(Subscription.customer_id == ines))
        assert row is not None
        row.plan_key = "professional"
        grant_invoice(session, ines, QUANTIPACK, "professional", "in_upgrade", at=month_day(5, 10),
                      user="ines")
    assert available(db, ines, now=month_day(5, 10)) == 140  # 40 + the difference (100), month 5 only
    # Month 6: Professional's 150, plus 50 of month 5's 140 rolled over (its cap), minus 15.
    assert check(db, QUANTIPACK, "ines", "pdp_analyzer", now=month_day(6)).remaining == 185
    assert consume(db, QUANTIPACK, "ines", "pdp_analyzer", "u-2", now=month_day(6)).decision.remaining == 185
    assert_verified(db)


def test_an_unpaid_year_hands_out_no_month(db: Database) -> None:
    with db.unit_of_work() as session:
        customer_id = add_customer(session, "noor")
        session.add(Subscription(
            customer_id=customer_id, stripe_subscription_id="sub_noor", status="active", plan_key="starter",
            interval="year", current_period_start=NOW, current_period_end=YEAR_END, snapshot_at_ms=0,
            created_at=NOW, updated_at=NOW,
        ))
    assert check(db, QUANTIPACK, "noor", "spec_generator", now=month_day(4)).reason == "insufficient_credits"


def test_months_of_a_year_are_calendar_months_with_the_day_clamped() -> None:
    start = dt.datetime(2027, 1, 31, 9, tzinfo=dt.UTC)
    end = core.add_months(start, 12)
    feb = core.period_month(period_start=start, period_end=end, at=dt.datetime(2027, 3, 1, tzinfo=dt.UTC))
    assert (feb.number, feb.start, feb.end, feb.last) == (
        2, dt.datetime(2027, 2, 28, 9, tzinfo=dt.UTC), dt.datetime(2027, 3, 31, 9, tzinfo=dt.UTC), False)
    last = core.period_month(period_start=start, period_end=end, at=end + DAY)
    assert (last.number, last.start, last.end, last.last) == (12, dt.datetime(2027, 12, 31, 9, tzinfo=dt.UTC),
                                                              end, True)
    first = core.period_month(period_start=start, period_end=end, at=start)
    assert (first.number, first.end) == (1, feb.start)
