"""The Session-free check answers exactly what `service.check` answers, on SQLite and PostgreSQL.

`entitlements/hot_check.py` reads one prepared statement on a pooled connection and decides most
states itself; the rest it hands to `service.check`. Here both paths are asked about the same users
(never seen, free before and after their month's first use, monthly and yearly subscribers,
past due, canceled, with a carry-over, an expired lot or hold nobody has written yet, on a Stripe
test clock) for every feature, at times across months, and must agree on every answer; and the
common states must be answered without opening a unit of work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coinslot.catalog.core import Catalog
from coinslot.catalog.parser import parse_catalog
from coinslot.customers import test_clocks
from coinslot.db import Database
from coinslot.entitlements import hot_check
from coinslot.entitlements import service as entitlements
from coinslot.errors import CoinslotError, DatabaseUnavailable
from coinslot.ledger import service as ledger
from coinslot.models import Customer, Subscription
from tests.conftest import create_schema
from tests.integration.ledger_support import DAY, NOW, add_customer
from tests.integration.test_entitlement_stories import QUANTIPACK, consume, pay_period, subscribe
from tests.integration.test_entitlement_yearly import month_day, subscribe_yearly
from tests.support.postgres import PostgresServer

# A catalog with what the statement cannot answer alone: a free month that carries over, a feature
# with a per-period limit.
CARRY_OVER = parse_catalog("""
[catalog]
name = "Carry-over"
currency = "usd"
default_plan = "free"

[features.report]
name = "Report"
credits = 2
limit_per_period = 3

[features.draft]
name = "Draft"
credits = 1

[plans.free]
type = "free"
name = "Free"
credits_per_period = 10
rollover_cap = 5
features = ["report", "draft"]
""")


class CountingDatabase(Database):
    """A database that counts the units of work opened on it (the exact path opens one)."""

    units = 0

    @contextmanager
    def unit_of_work(self, *, read_only: bool = False) -> Iterator[Session]:
        if read_only:
            self.units += 1
        with super().unit_of_work(read_only=read_only) as session:
            yield session


@pytest.fixture
def counting_db(database_url: str) -> Iterator[CountingDatabase]:
    database = CountingDatabase(database_url)
    yield database
    database.dispose()


def _exact(db: Database, catalog: Catalog, user: str, feature: str, now: dt.datetime, **kw: Any) -> Any:
    try:
        with db.unit_of_work(read_only=True) as session:
            return entitlements.check(session, host_user_id=user, feature=feature, catalog=catalog, now=now,
                                      **kw)
    except CoinslotError as exc:
        return (type(exc), exc.code, exc.message)


def _hot(db: Database, catalog: Catalog, user: str, feature: str, now: dt.datetime, **kw: Any) -> Any:
    try:
        return hot_check.check(db, host_user_id=user, feature=feature, catalog=catalog, now=now, **kw)
    except CoinslotError as exc:
        return (type(exc), exc.code, exc.message)


def _assert_same(db: Database, catalog: Catalog, users: list[str], features: list[str],
                 times: list[dt.datetime]) -> int:
    asked = 0
    for user in users:
        for feature in features:
            for now in times:
                for kw in ({}, {"quantity": 3}, {"params": {"complexity": "high"}}):
                    exact = _exact(db, catalog, user, feature, now, **kw)
                    assert _hot(db, catalog, user, feature, now, **kw) == exact, (user, feature, now, kw)
                    asked += 1
    return asked


def _quantipack_world(db: Database) -> list[str]:
    with db.unit_of_work() as session:
        add_customer(session, "fresh")  # free, this month never used
        starter = subscribe(session, "starter", "starter")
        pay_period(session, starter, QUANTIPACK, "starter", "in_starter")
        pro = subscribe(session, "pro", "professional")
        pay_period(session, pro, QUANTIPACK, "professional", "in_pro")
        pay_period(session, pro, QUANTIPACK, "professional", "in_pro2", start=NOW + 30 * DAY,
                   end=NOW + 60 * DAY, now=NOW + 30 * DAY)  # renewed: the carry-over is written
        subscribe(session, "late", "starter", status="past_due", past_due_since=NOW - 2 * DAY)
        subscribe(session, "later", "starter", status="past_due", past_due_since=NOW - 10 * DAY)
        subscribe(session, "gone", "starter", status="canceled")
        ledger_customer = add_customer(session, "packed")
        ledger.credit(session, customer_id=ledger_customer, entry_id="pack:1", credits=7, kind="purchase",
                      now=NOW, expires_at=NOW + 5 * DAY)  # expires, unwritten, before later checks
        clocked = session.get(Customer, add_customer(session, "clocked"))
        assert clocked is not None
        test_clocks.attach_clock(session, customer=clocked, test_clock_id="clock_1",
                                 frozen_at=NOW + 40 * DAY, now=NOW)
    consume(db, QUANTIPACK, "used", "suite_analyzer", "u1")  # free month granted by its first use
    consume(db, QUANTIPACK, "starter", "spec_generator", "s1")
    with db.unit_of_work() as session:
        entitlements.hold(session, host_user_id="starter", feature="spec_generator", idempotency_key="h1",
                          timeout_s=3600, catalog=QUANTIPACK, now=NOW)  # times out, unwritten, after NOW+1h
    subscribe_yearly(db, "yearly", "starter")
    consume(db, QUANTIPACK, "yearly", "spec_generator", "y2", now=month_day(2, 3))  # month 2 granted
    return ["nobody", "fresh", "used", "starter", "pro", "late", "later", "gone", "packed", "clocked",
            "yearly"]


def test_the_session_free_check_answers_as_the_service_does_in_every_state(db: Database) -> None:
    users = _quantipack_world(db)
    times = [NOW, NOW + 2 * DAY, NOW + 10 * DAY, NOW + 35 * DAY, month_day(2, 5), month_day(3, 1)]
    features = ["suite_analyzer", "spec_generator", "pdp_analyzer", "no_such_feature"]
    assert _assert_same(db, QUANTIPACK, users, features, times) == len(users) * len(features) * len(times) * 3


def test_a_free_month_that_carries_over_and_a_limited_feature_answer_alike(db: Database) -> None:
    for n in range(3):
        consume(db, CARRY_OVER, "writer", "draft", f"d{n}")
    consume(db, CARRY_OVER, "writer", "report", "r1")
    consume(db, CARRY_OVER, "writer", "draft", "next", now=NOW + 31 * DAY)
    times = [NOW, NOW + 31 * DAY, NOW + 62 * DAY]
    _assert_same(db, CARRY_OVER, ["writer", "nobody"], ["report", "draft"], times)


def test_common_states_are_answered_without_a_unit_of_work(counting_db: CountingDatabase) -> None:
    db = counting_db
    _quantipack_world(db)
    db.units = 0
    for user in ("nobody", "fresh", "used", "starter", "pro", "late", "later", "gone"):
        for feature in ("suite_analyzer", "spec_generator"):
            hot_check.check(db, host_user_id=user, feature=feature, catalog=QUANTIPACK,
                            now=NOW + dt.timedelta(minutes=30))
    assert db.units == 0
    # Unwritten expiries (a lot, a timed-out hold), a test clock, a paid year's month 2: the exact path.
    for user, now in (("packed", NOW + 6 * DAY), ("starter", NOW + DAY), ("clocked", NOW),
                      ("yearly", month_day(2, 5))):
        hot_check.check(db, host_user_id=user, feature="suite_analyzer", catalog=QUANTIPACK, now=now)
    assert db.units == 4


def _spent_starter(db: Database, user: str, *, metered_price_id: str | None) -> None:
    """A Starter subscriber (a plan with overage) with 5 of the month's 50 tokens left, whose subscription
    carries the plan's metered item or, started before Starter had overage, none."""
    with db.unit_of_work() as session:
        customer_id = subscribe(session, user, "starter")
        pay_period(session, customer_id, QUANTIPACK, "starter", f"in_{user}")
        row = session.scalars(select(Subscription).where(Subscription.customer_id == customer_id)).one()
        row.metered_price_id = metered_price_id
    for n in range(3):
        consume(db, QUANTIPACK, user, "spec_generator", f"{user}-{n}", complexity="high")  # 3 x 15


def _consumed(db: Database, user: str, key: str) -> tuple[bool, str]:
    try:
        used = consume(db, QUANTIPACK, user, "spec_generator", key)
    except CoinslotError as exc:
        return False, exc.code
    return True, used.decision.reason


def test_without_the_metered_item_both_checks_and_consume_refuse_overage_with_it_all_allow_it(
    db: Database,
) -> None:
    _spent_starter(db, "early", metered_price_id=None)
    _spent_starter(db, "metered", metered_price_id="price_starter_overage")
    for user, allowed, reason in (("early", False, "insufficient_credits"), ("metered", True, "overage")):
        hot = hot_check.check(db, host_user_id=user, feature="spec_generator", catalog=QUANTIPACK, now=NOW)
        assert hot == _exact(db, QUANTIPACK, user, "spec_generator", NOW)
        left = 0 if allowed else 5
        assert (hot.allowed, hot.reason, hot.cost, hot.remaining) == (allowed, reason, 10, left)
        assert (hot.overage is not None) is allowed  # never "overage allowed" where consume refuses
        assert _consumed(db, user, f"{user}-over") == (allowed, reason)
    _assert_same(db, QUANTIPACK, ["early", "metered"], ["spec_generator", "suite_analyzer"], [NOW])
    with db.unit_of_work(read_only=True) as session:
        early = ledger.customer_id_for(session, host_user_id="early")
        assert ledger.balance(session, customer_id=early, now=NOW).available_credits == 5  # nothing spent
        assert ledger.verify(session) == []


def test_the_statement_reads_what_was_committed_by_another_connection(db: Database) -> None:
    consume(db, QUANTIPACK, "ada", "suite_analyzer", "a1")  # 5 granted, 5 spent
    assert hot_check.check(db, host_user_id="ada", feature="suite_analyzer", catalog=QUANTIPACK,
                           now=NOW).allowed is False
    with db.unit_of_work() as session:
        customer_id = session.scalar(select(Customer.id).where(Customer.host_user_id == "ada"))
        assert customer_id is not None
        ledger.credit(session, customer_id=customer_id, entry_id="gift:1", credits=5, kind="adjustment",
                      now=NOW, reason="a goodwill gift")
    decision = hot_check.check(db, host_user_id="ada", feature="suite_analyzer", catalog=QUANTIPACK, now=NOW)
    assert (decision.allowed, decision.remaining) == (True, 0)


@pytest.mark.postgres
def test_a_postgresql_server_that_is_down_is_a_503_and_the_next_check_after_it_answers(
    postgres: PostgresServer,
) -> None:
    own = PostgresServer().start()  # stopping it stops nobody else's tests
    try:
        url = own.url(own.create_database())
        create_schema(url)
        db = Database(url, connect_timeout_s=1)
        try:
            consume(db, QUANTIPACK, "ada", "suite_analyzer", "a1")
            own.pause()
            try:
                with pytest.raises(DatabaseUnavailable):
                    hot_check.check(db, host_user_id="ada", feature="suite_analyzer", catalog=QUANTIPACK,
                                    now=NOW)
            finally:
                own.resume()
            decision = hot_check.check(db, host_user_id="ada", feature="suite_analyzer", catalog=QUANTIPACK,
                                       now=NOW)
            assert (decision.allowed, decision.remaining) == (False, 0)
        finally:
            db.dispose()
    finally:
        own.stop()
