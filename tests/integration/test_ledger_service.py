"""The ledger as callers use it, on SQLite and PostgreSQL: idempotency, holds, expiry, refunds, plan changes.

Every story ends with `verify`: the cached balances equal the entries and the lots.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.db import Database
from coinslot.errors import Conflict, InsufficientCredits, InvalidInput
from coinslot.ledger import service as ledger
from coinslot.ledger.posting import fingerprint
from coinslot.ledger.sweep import sweep_once
from coinslot.models import Customer, LedgerEntry, OutboxMessage
from tests.integration.ledger_support import DAY, NOW, assert_verified, available, new_customer

MONTH_END = NOW + 30 * DAY


def grant(
    db: Database,
    customer_id: int,
    credits: int,
    *,
    entry_id: str = "invoice:in_1",
    start: dt.datetime = NOW,
    end: dt.datetime = MONTH_END,
    rollover_cap: int = 0,
    now: dt.datetime = NOW,
    source: str = "subscription:sub_1",
    renewal_grace: dt.timedelta = dt.timedelta(0),
) -> ledger.EntryResult:
    """A paid invoice's period, as `subscriptions.service.record_paid_invoice` grants it."""
    with db.unit_of_work() as session:
        return ledger.grant_period(
            session,
            customer_id=customer_id,
            entry_id=entry_id,
            credits=credits,
            period_start=start,
            period_end=end,
            rollover_cap=rollover_cap,
            unlimited=False,
            now=now,
            source=source,
            renewal_grace=renewal_grace,
        )


def spend(
    db: Database, customer_id: int, credits: int, key: str, *, now: dt.datetime = NOW, feature: str = "export"
) -> ledger.EntryResult:
    with db.unit_of_work() as session:
        return ledger.spend(
            session, customer_id=customer_id, entry_id=f"key:{key}", credits=credits, feature=feature, now=now
        )


def entry_count(db: Database) -> int:
    with db.unit_of_work(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(LedgerEntry)) or 0


def test_a_retried_spend_returns_the_first_result_without_spending_again(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25)
    first = spend(db, alice, 3, "export-1")
    again = spend(db, alice, 3, "export-1")
    assert (again.entry_id, again.balance_after, again.created_at) == (first.entry_id, 22, first.created_at)
    assert again.replayed
    assert not first.replayed
    assert available(db, alice) == 22
    assert_verified(db)


def test_the_same_id_with_other_fields_is_a_conflict(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25)
    spend(db, alice, 3, "export-1")
    with pytest.raises(Conflict, match="different fields"):
        spend(db, alice, 5, "export-1")
    with pytest.raises(Conflict):
        grant(db, alice, 100)  # same invoice id, another amount
    assert available(db, alice) == 22


def test_a_short_balance_is_refused_with_nothing_written(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 2)
    before = entry_count(db)
    with pytest.raises(InsufficientCredits, match="need 3, have 2"):
        spend(db, alice, 3, "export-1")
    assert entry_count(db) == before
    assert available(db, alice) == 2
    assert_verified(db)


def test_a_hold_reserves_then_a_capture_charges_the_actual_cost(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25)
    with db.unit_of_work() as session:
        held = ledger.hold(
            session,
            customer_id=alice,
            entry_id="key:job-1",
            credits=10,
            timeout_s=86_400,
            now=NOW,
            feature="render",
        )
    assert held.hold_id is not None
    with db.unit_of_work(read_only=True) as session:
        assert ledger.balance(session, customer_id=alice, now=NOW).held_credits == 10
    assert available(db, alice) == 15
    with db.unit_of_work() as session:
        captured = ledger.capture(session, hold_id=held.hold_id, credits=7, now=NOW)
    assert captured.balance_after == 18
    with db.unit_of_work() as session:  # a retried capture is the same capture
        assert ledger.capture(session, hold_id=held.hold_id, credits=7, now=NOW).replayed
    with db.unit_of_work() as session, pytest.raises(Conflict, match="already captured"):
        ledger.release(session, hold_id=held.hold_id, now=NOW)
    with db.unit_of_work(read_only=True) as session:
        usage = ledger.history(session, customer_id=alice, months=1, now=NOW)
    assert [(row.feature, row.uses, row.credits) for row in usage] == [("render", 1, 7)]
    assert_verified(db)


def test_a_hold_retried_a_second_later_with_the_same_timeout_is_replayed(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25)
    first = None
    for later_s in (0, 1):
        with db.unit_of_work() as session:
            held = ledger.hold(session, customer_id=alice, entry_id="key:job-1", credits=10, timeout_s=600,
                               now=NOW + dt.timedelta(seconds=later_s))
        first = first or held
    assert (held.hold_id, held.replayed, held.balance_after) == (first.hold_id, True, 15)
    with db.unit_of_work() as session, pytest.raises(Conflict):
        ledger.hold(session, customer_id=alice, entry_id="key:job-1", credits=10, timeout_s=900, now=NOW)
    assert_verified(db)


def test_capturing_more_than_the_hold_draws_the_rest_if_the_balance_allows(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 12)
    with db.unit_of_work() as session:
        held = ledger.hold(
            session, customer_id=alice, entry_id="key:job-1", credits=10, timeout_s=86_400, now=NOW
        )
    assert held.hold_id is not None
    with db.unit_of_work() as session, pytest.raises(InsufficientCredits, match="need 13, have 12"):
        ledger.capture(session, hold_id=held.hold_id, credits=13, now=NOW)
    with db.unit_of_work() as session:
        assert ledger.capture(session, hold_id=held.hold_id, credits=12, now=NOW).balance_after == 0
    assert_verified(db)


def test_an_expired_hold_releases_itself_and_cannot_be_captured(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25)
    with db.unit_of_work() as session:
        held = ledger.hold(
            session, customer_id=alice, entry_id="key:job-1", credits=10, timeout_s=86_400, now=NOW
        )
    assert held.hold_id is not None
    later = NOW + 2 * DAY
    assert available(db, alice, now=later) == 25  # read: counted back before anything is written
    with db.unit_of_work() as session:
        assert ledger.get_hold(session, hold_id=held.hold_id, now=later).status == "expired"
        assert ledger.expire_due(session, now=later) == 1
    with db.unit_of_work() as session, pytest.raises(Conflict, match="already expired"):
        ledger.capture(session, hold_id=held.hold_id, credits=5, now=later)
    assert available(db, alice, now=later) == 25
    assert_verified(db)


def test_period_credits_expire_at_the_period_end_and_purchased_ones_stay(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25)
    with db.unit_of_work() as session:
        ledger.credit(
            session,
            customer_id=alice,
            entry_id="checkout:cs_1",
            kind="purchase",
            credits=25,
            now=NOW,
            source="checkout:cs_1",
        )
    spend(db, alice, 10, "export-1")  # drawn from the month's grant, which expires first
    assert available(db, alice, now=MONTH_END) == 25  # the 15 left of the grant are gone
    with db.unit_of_work() as session:
        ledger.expire_due(session, now=MONTH_END)
    assert available(db, alice, now=MONTH_END) == 25
    assert_verified(db)


def test_a_refund_claws_back_what_is_left_and_later_grants_repay_the_debt(db: Database) -> None:
    alice = new_customer(db, "alice")
    with db.unit_of_work() as session:
        ledger.credit(
            session,
            customer_id=alice,
            entry_id="checkout:cs_1",
            kind="purchase",
            credits=25,
            now=NOW,
            source="checkout:cs_1",
        )
    spend(db, alice, 15, "export-1")
    with db.unit_of_work() as session:
        refund = ledger.claw_back(
            session, customer_id=alice, entry_id="refund:re_1", source="checkout:cs_1", now=NOW
        )
        again = ledger.claw_back(
            session, customer_id=alice, entry_id="refund:re_1", source="checkout:cs_1", now=NOW
        )
    assert (refund.available_delta, refund.debt_delta, again.replayed) == (-10, 15, True)
    with db.unit_of_work() as session:  # a second refund of the same purchase owes nothing more
        assert (
            ledger.claw_back(
                session, customer_id=alice, entry_id="refund:re_2", source="checkout:cs_1", now=NOW
            ).credits
            == 0
        )
    result = grant(db, alice, 25, entry_id="invoice:in_2")
    assert (result.available_delta, result.debt_delta, result.balance_after) == (10, -15, 10)
    with db.unit_of_work(read_only=True) as session:
        assert ledger.balance(session, customer_id=alice, now=NOW).debt_credits == 0
    assert_verified(db)


def test_upgrade_spend_downgrade_cannot_farm_credits(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25, entry_id="invoice:core")
    spend(db, alice, 20, "a")
    up = grant(db, alice, 100, entry_id="invoice:pro-proration")  # CORE -> PRO mid-period
    assert (up.available_delta, up.balance_after) == (75, 80)
    down = grant(db, alice, 25, entry_id="invoice:core-again")  # PRO -> CORE: at most 25 left
    assert (down.available_delta, down.balance_after) == (-55, 25)
    again = grant(db, alice, 100, entry_id="invoice:pro-again")  # and up again: the period had its 100
    assert (again.available_delta, again.balance_after) == (0, 25)
    assert_verified(db)


def test_a_downgrade_can_be_configured_to_keep_the_period_credits(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 100, entry_id="invoice:pro")
    with db.unit_of_work() as session:
        kept = ledger.grant_period(
            session,
            customer_id=alice,
            entry_id="invoice:core",
            credits=25,
            period_start=NOW,
            period_end=MONTH_END,
            rollover_cap=0,
            unlimited=False,
            now=NOW,
            source="subscription:sub_1",
            downgrade="keep",
        )
    assert kept.balance_after == 100


def test_unused_credits_roll_over_up_to_the_cap(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 150, entry_id="invoice:m1", rollover_cap=50)
    spend(db, alice, 30, "a")
    renewal = MONTH_END + dt.timedelta(hours=1)  # the renewal invoice is paid after the period ended
    assert available(db, alice, now=renewal) == 0
    grant(
        db,
        alice,
        150,
        entry_id="invoice:m2",
        start=MONTH_END,
        end=MONTH_END + 30 * DAY,
        rollover_cap=50,
        now=renewal,
    )
    assert available(db, alice, now=renewal) == 200
    assert_verified(db)


GRACE = 3 * DAY


def test_period_credits_last_until_the_renewal_is_paid(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25, renewal_grace=GRACE)
    before_renewal = MONTH_END + dt.timedelta(minutes=30)  # Stripe has not finalized the renewal yet
    assert available(db, alice, now=before_renewal) == 25
    assert spend(db, alice, 3, "export-1", now=before_renewal).balance_after == 22
    renewal = MONTH_END + dt.timedelta(hours=1)
    renewed = grant(db, alice, 25, entry_id="invoice:in_2", start=MONTH_END, end=MONTH_END + 30 * DAY,
                    now=renewal, renewal_grace=GRACE)
    assert renewed.balance_after == 25  # the old period's 22 ended where the new one started
    assert available(db, alice, now=MONTH_END + 30 * DAY + dt.timedelta(minutes=30)) == 25
    assert_verified(db)


def test_period_credits_of_a_subscription_that_stopped_paying_expire_after_the_grace(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25, renewal_grace=GRACE)
    assert available(db, alice, now=MONTH_END + GRACE - dt.timedelta(seconds=1)) == 25
    assert available(db, alice, now=MONTH_END + GRACE) == 0
    with db.unit_of_work() as session:
        assert ledger.expire_due(session, now=MONTH_END + GRACE) == 1
    assert_verified(db)


def test_a_second_subscription_keeps_the_first_subscriptions_credits(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 100, entry_id="invoice:in_a", source="subscription:sub_a", renewal_grace=GRACE)
    five_days_later = NOW + 5 * DAY
    second = grant(db, alice, 25, entry_id="invoice:in_b", source="subscription:sub_b", start=five_days_later,
                   end=five_days_later + 30 * DAY, now=five_days_later, renewal_grace=GRACE)
    assert (second.available_delta, second.balance_after) == (25, 125)
    renewal_a = MONTH_END + dt.timedelta(hours=1)  # sub A's renewal ends only sub A's period
    grant(db, alice, 100, entry_id="invoice:in_a2", source="subscription:sub_a", start=MONTH_END,
          end=MONTH_END + 30 * DAY, now=renewal_a, renewal_grace=GRACE)
    assert available(db, alice, now=renewal_a) == 125
    assert_verified(db)


def test_low_and_exhausted_balances_are_announced_in_the_outbox(db: Database) -> None:
    alice = new_customer(db, "alice")
    grant(db, alice, 25)
    for number in range(8):
        spend(db, alice, 3, f"export-{number}")  # 25 -> 1: crosses 20% (5) once
    spend(db, alice, 1, "last")
    with db.unit_of_work(read_only=True) as session:
        events = session.execute(
            select(OutboxMessage.event_type, OutboxMessage.payload).order_by(OutboxMessage.id)
        ).all()
    assert [event_type for event_type, _ in events] == ["credits.low", "credits.exhausted"]
    assert json.loads(events[0][1])["host_user_id"] == "alice"


def test_an_adjustment_needs_a_reason_and_never_overdraws(db: Database) -> None:
    alice = new_customer(db, "alice")
    with db.unit_of_work() as session, pytest.raises(InvalidInput):
        ledger.adjust(session, customer_id=alice, entry_id="key:adj-0", credits=5, reason=" ", now=NOW)
    with db.unit_of_work() as session:
        ledger.adjust(session, customer_id=alice, entry_id="key:adj-1", credits=5, reason="goodwill", now=NOW)
    with db.unit_of_work() as session, pytest.raises(InsufficientCredits):
        ledger.adjust(session, customer_id=alice, entry_id="key:adj-2", credits=-6, reason="fraud", now=NOW)
    with db.unit_of_work() as session:
        ledger.adjust(session, customer_id=alice, entry_id="key:adj-3", credits=-5, reason="fraud", now=NOW)
    assert available(db, alice) == 0
    assert_verified(db)


def test_a_spend_answers_its_retry_before_deciding_and_accepts_the_older_fingerprint(db: Database) -> None:
    """The ledger's spend owns its replay: the guard (the plan's decision) runs only for a new entry,
    so a retry after the first use took the last credits is answered, not refused."""
    alice = new_customer(db, "alice")
    grant(db, alice, 5)
    decided: list[int] = []

    def admit(available_credits: int) -> bool:
        decided.append(available_credits)
        if available_credits < 5:
            raise InsufficientCredits(needed=5, available=available_credits)
        return False

    def use(key: str) -> ledger.EntryResult:
        with db.unit_of_work() as session:
            return ledger.spend(session, customer_id=alice, entry_id=f"key:{key}", credits=5,
                                feature="export", now=NOW, admit=admit)

    first = use("job-1")
    again = use("job-1")
    assert decided == [5]  # asked once: the retry was answered from the entry
    assert (again.replayed, again.entry_id, again.balance_after) == (True, first.entry_id, 0)
    with pytest.raises(InsufficientCredits):
        use("job-2")
    assert decided == [5, 0]
    with db.unit_of_work() as session:  # a spend 0.2 wrote, its fingerprint naming the unlimited flag
        row = session.scalars(select(LedgerEntry).where(LedgerEntry.entry_id == "key:job-1")).one()
        row.fingerprint = fingerprint(op="spend", customer_id=alice, credits=5, feature="export",
                                      unlimited=False)
    assert use("job-1").replayed
    with db.unit_of_work() as session, pytest.raises(Conflict):
        ledger.spend(session, customer_id=alice, entry_id="key:job-1", credits=4, feature="export", now=NOW)
    assert_verified(db)


def test_the_sweep_writes_due_expiries_one_customer_at_a_time_and_leaves_test_clock_customers(
    db: Database,
) -> None:
    alice, bob = new_customer(db, "alice"), new_customer(db, "bob")
    grant(db, alice, 25)
    grant(db, bob, 25, entry_id="invoice:in_2", source="subscription:sub_2")
    with db.unit_of_work() as session:  # bob lives at his Stripe test clock's time, not the wall's
        customer = session.get(Customer, bob)
        assert customer is not None
        customer.stripe_test_clock_id = "clock_1"
    settings = Settings(_env_file=None, database_url=db.url)  # type: ignore[call-arg]
    container = Container(settings=settings, db=db, clock=FixedClock(MONTH_END + DAY))
    assert sweep_once(container) == 1
    assert sweep_once(container) == 0  # written once
    with db.unit_of_work(read_only=True) as session:
        kinds = session.execute(select(LedgerEntry.customer_id, LedgerEntry.kind)
                                .order_by(LedgerEntry.id)).all()
    assert [(c, k) for c, k in kinds if k == "expire"] == [(alice, "expire")]
    assert available(db, alice, now=MONTH_END + DAY) == available(db, bob, now=MONTH_END + DAY) == 0
    assert_verified(db)
