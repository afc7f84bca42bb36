"""The plain consume (`entitlements/hot_consume.py`, `ledger/hot_spend.py`) writes what the exact path
writes, on SQLite and PostgreSQL.

Every state of the check's world (never seen, free before and after the month's first use, monthly
and yearly subscribers, past due, canceled, an expired lot or hold nobody has written yet, a Stripe
test clock, a balance about to cross the low-balance line, a retried key) is consumed both ways, each
in a transaction rolled back afterwards, at several times: the answers, the entry and the account
after it must be the same, and the common states must be written by the plain path. Then plain and
exact writes of one account are mixed in one transaction (the plain path's copy of the locked
account must follow the exact path's writes) and run concurrently through group commit.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coinslot.db import Database
from coinslot.entitlements import hot_consume
from coinslot.entitlements import service as entitlements
from coinslot.errors import CoinslotError, InvalidInput
from coinslot.group_commit import GroupCommit
from coinslot.ledger import service as ledger
from coinslot.ledger.posting import fingerprint
from coinslot.models import CreditLot, CreditMovement, LedgerEntry
from tests.integration.ledger_support import DAY, NOW, assert_verified
from tests.integration.test_entitlement_stories import QUANTIPACK, consume, pay_period, subscribe
from tests.integration.test_entitlement_yearly import month_day
from tests.integration.test_hot_check import _quantipack_world


class _RolledBack(Exception):
    """Ends a unit of work without committing it."""


# Ids the database hands out are not compared as such: a customer created by a rolled-back first use
# still took its id from a PostgreSQL sequence, so the next run's customer (and lots) get new ones. Lots
# are compared by their place among the customer's lots, fingerprints by whether they fingerprint the
# request for that customer.


def _lot_places(session: Session, customer_id: int) -> dict[int, int]:
    ids = session.scalars(select(CreditLot.id).where(CreditLot.customer_id == customer_id)
                          .order_by(CreditLot.id)).all()
    return {lot_id: place for place, lot_id in enumerate(ids)}


def _account(session: Session, customer_id: int, now: dt.datetime) -> tuple[Any, ...]:
    balance = ledger.balance(session, customer_id=customer_id, now=now)
    lots = session.execute(select(CreditLot.remaining_credits)
                           .where(CreditLot.customer_id == customer_id).order_by(CreditLot.id)).scalars()
    return (balance.available_credits, balance.held_credits, balance.debt_credits, tuple(lots))


def _written(session: Session, customer_id: int, entry_id: str) -> tuple[Any, ...]:
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.entry_id == entry_id))
    if entry is None:
        return ()
    places = _lot_places(session, customer_id)
    moves = session.execute(select(CreditMovement.lot_id, CreditMovement.credits, CreditMovement.hold_id)
                            .where(CreditMovement.entry_pk == entry.id).order_by(CreditMovement.lot_id)).all()
    request = fingerprint(op="spend", customer_id=customer_id, credits=entry.credits, feature=entry.feature)
    return (entry.kind, entry.credits, entry.available_delta, entry.held_delta, entry.debt_delta,
            entry.balance_after, entry.feature, entry.reason, entry.fingerprint == request, entry.created_at,
            tuple((places[lot_id], credits, hold_id) for lot_id, credits, hold_id in moves))


def _consume_rolled_back(db: Database, use: Callable[[Session], Any], user: str, key: str,
                         now: dt.datetime) -> tuple[Any, ...]:
    """What `use` answers and writes, then rolled back: (answer, entry written, account after)."""
    outcome: tuple[Any, ...] = ()
    try:
        with db.unit_of_work() as session:
            try:
                answer: Any = use(session)
            except CoinslotError as exc:
                answer = (type(exc).__name__, exc.code, exc.message)
            customer_id = ledger.find_customer_id(session, host_user_id=user)
            entry_id = ledger.caller_entry_id(customer_id=customer_id or 0, idempotency_key=key)
            account = _account(session, customer_id, now) if customer_id is not None else ()
            if isinstance(answer, entitlements.Consumed):
                entry = answer.entry
                answer = (answer.decision, entry.kind, entry.credits, entry.balance_after, entry.replayed)
            written = _written(session, customer_id, entry_id) if customer_id is not None else ()
            outcome = (answer, written, account)
            raise _RolledBack
    except _RolledBack:
        pass
    return outcome


def _exact(user: str, feature: str, key: str, now: dt.datetime, **kw: Any) -> Callable[[Session], Any]:
    request = entitlements._Consume(user, feature, key, QUANTIPACK, now, kw.get("quantity", 1),
                                    kw.get("params"), entitlements.DEFAULT_GRACE, 20)
    return request.exact


def _plain_first(user: str, feature: str, key: str, now: dt.datetime, taken: list[str],
                 **kw: Any) -> Callable[[Session], Any]:
    def use(session: Session) -> Any:
        feature_def = QUANTIPACK.features[feature]
        quantity, params = kw.get("quantity", 1), kw.get("params")
        plain = hot_consume.consume(
            session, host_user_id=user, feature=feature_def, idempotency_key=key, catalog=QUANTIPACK, now=now,
            cost=entitlements.core.cost_of(feature_def, quantity=quantity, params=params or {}),
            quantity=quantity, params=params, grace=entitlements.DEFAULT_GRACE, low_balance_pct=20)
        if plain is not None:
            taken.append(user)
            return entitlements.Consumed(*plain)
        return _exact(user, feature, key, now, **kw)(session)
    return use


def test_every_state_is_consumed_alike_by_both_paths_and_the_common_ones_plainly(db: Database) -> None:
    users = _quantipack_world(db)
    with db.unit_of_work() as session:
        # 15 tokens of 50 left after 7 analyses: the next one crosses the low-balance line (20% = 10).
        lowish = subscribe(session, "lowish", "starter")
        pay_period(session, lowish, QUANTIPACK, "starter", "in_lowish")
    for n in range(7):
        consume(db, QUANTIPACK, "lowish", "suite_analyzer", f"low{n}")  # 5 tokens each
    users.append("lowish")
    consume(db, QUANTIPACK, "pro", "suite_analyzer", "retried", now=NOW + dt.timedelta(minutes=5))
    plain_users: list[str] = []
    compared = 0
    for now in (NOW + dt.timedelta(minutes=30), NOW + 2 * DAY, NOW + 10 * DAY, month_day(2, 5)):
        for user in users:
            for feature in ("suite_analyzer", "spec_generator", "pdp_analyzer"):
                for kw in ({}, {"quantity": 3}, {"params": {"complexity": "high"}}):
                    for key in ("fresh-key", "retried"):
                        exact_use = _exact(user, feature, key, now, **kw)
                        plain_use = _plain_first(user, feature, key, now, plain_users, **kw)
                        exact = _consume_rolled_back(db, exact_use, user, key, now)
                        plain = _consume_rolled_back(db, plain_use, user, key, now)
                        assert plain == exact, (user, feature, now, kw, key)
                        compared += 1
    assert compared == 4 * len(users) * 3 * 3 * 2
    # Subscribers with credits to spare take the plain path; a user never seen, a free month not granted
    # yet, a test clock, a paid year's month 2, a canceled plan, a use that empties the balance ("used":
    # 5 of 5) and one with nothing to spend ("late": no invoice paid) never do.
    assert {"starter", "pro"} <= set(plain_users)
    assert not {"nobody", "fresh", "clocked", "yearly", "gone", "used", "late"} & set(plain_users)


def test_plain_and_exact_writes_of_one_account_in_one_transaction_keep_it_exact(db: Database) -> None:
    with db.unit_of_work() as session:
        pro = subscribe(session, "pro", "professional")
        pay_period(session, pro, QUANTIPACK, "professional", "in_pro")  # 150 tokens
    now = NOW + dt.timedelta(hours=1)
    with db.unit_of_work() as session:
        def use(key: str, feature: str = "suite_analyzer") -> int:
            used = entitlements.consume(session, host_user_id="pro", feature=feature, idempotency_key=key,
                                        catalog=QUANTIPACK, now=now)
            return used.entry.balance_after

        first = use("a")  # plain: reads the account and keeps its copy for the transaction
        held = entitlements.hold(session, host_user_id="pro", feature="spec_generator", idempotency_key="h",
                                 timeout_s=600, catalog=QUANTIPACK, now=now)  # the ORM writes the account
        second = use("b")  # must see the hold's credits gone
        assert held.entry.hold_id is not None
        ledger.release(session, hold_id=held.entry.hold_id, now=now)  # ... and come back
        third = use("c")
        ledger.credit(session, customer_id=pro, entry_id="pack:1", kind="purchase", credits=40, now=now)
        fourth = use("d")
        replayed = entitlements.consume(session, host_user_id="pro", feature="suite_analyzer",
                                        idempotency_key="b", catalog=QUANTIPACK, now=now)
    cost = QUANTIPACK.features["suite_analyzer"].credits
    hold_cost = QUANTIPACK.features["spec_generator"].credits
    assert [first, second, third, fourth] == [150 - cost, 150 - 2 * cost - hold_cost, 150 - 3 * cost,
                                              150 - 4 * cost + 40]
    assert replayed.entry.replayed
    assert replayed.entry.balance_after == second
    assert_verified(db)


def test_concurrent_consumes_and_holds_of_one_account_through_group_commit_stay_exact(db: Database) -> None:
    with db.unit_of_work() as session:
        pro = subscribe(session, "pro", "professional")
        pay_period(session, pro, QUANTIPACK, "professional", "in_pro")
        ledger.credit(session, customer_id=pro, entry_id="pack:big", kind="purchase", credits=10_000, now=NOW)
    writes = GroupCommit(db.unit_of_work, refusals=(CoinslotError,))
    now = NOW + dt.timedelta(hours=1)
    start = threading.Barrier(8)
    captured: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        start.wait()
        for i in range(25):
            entitlements.consume_grouped(writes, host_user_id="pro", feature="suite_analyzer",
                                         idempotency_key=f"c{n}-{i}", catalog=QUANTIPACK, now=now)
            if i % 5 == 0:
                held = writes.run(lambda session, n=n, i=i: entitlements.hold(
                    session, host_user_id="pro", feature="spec_generator", idempotency_key=f"h{n}-{i}",
                    timeout_s=600, catalog=QUANTIPACK, now=now))
                hold_id = held.entry.hold_id
                assert hold_id is not None
                if i % 10 == 0:
                    writes.run(lambda session, held=hold_id: ledger.release(session, hold_id=held, now=now))
                else:
                    writes.run(lambda session, held=hold_id: ledger.capture(session, hold_id=held, credits=1,
                                                                            now=now))
                    with lock:
                        captured.append(1)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cost = QUANTIPACK.features["suite_analyzer"].credits
    with db.unit_of_work(read_only=True) as session:
        balance = ledger.balance(session, customer_id=pro, now=now)
    assert balance.available_credits == 150 + 10_000 - 8 * 25 * cost - len(captured)
    assert balance.held_credits == 0
    assert_verified(db)


def test_a_plain_try_that_breaks_half_way_leaves_nothing_and_the_work_answers(db: Database) -> None:
    """A plain try runs without a savepoint: when it breaks after writing part of something, its whole
    batch is rolled back (group_commit.py) and the write is answered by its work, alone."""
    with db.unit_of_work() as session:
        pro = subscribe(session, "pro", "professional")
        pay_period(session, pro, QUANTIPACK, "professional", "in_pro")
    writes = GroupCommit(db.unit_of_work, refusals=(CoinslotError,))

    def breaks_after_writing(session: Session) -> None:
        ledger.credit(session, customer_id=pro, entry_id="half-done", kind="purchase", credits=5, now=NOW)
        raise RuntimeError("broke half way")

    answer = writes.run(lambda session: ledger.credit(session, customer_id=pro, entry_id="by-work",
                                                      kind="purchase", credits=1, now=NOW),
                        plain=breaks_after_writing)
    assert answer.entry_id == "by-work"
    with db.unit_of_work(read_only=True) as session:
        assert ledger.find_entry(session, entry_id="half-done") is None
        assert ledger.find_entry(session, entry_id="by-work") is not None
    assert_verified(db)


@pytest.mark.parametrize("request_fields", [{"feature": "no_such_feature"}, {"quantity": 0},
                                            {"params": {"complexity": "extreme"}}])
def test_a_bad_request_is_refused_in_its_savepoint_not_by_failing_its_batch(
    db: Database, request_fields: dict[str, Any]
) -> None:
    with db.unit_of_work() as session:
        pro = subscribe(session, "pro", "professional")
        pay_period(session, pro, QUANTIPACK, "professional", "in_pro")
    transactions: list[int] = []

    def counted_unit_of_work() -> Any:
        transactions.append(1)
        return db.unit_of_work()

    writes = GroupCommit(counted_unit_of_work, refusals=(CoinslotError,))
    fields: dict[str, Any] = {"feature": "suite_analyzer", **request_fields}
    with pytest.raises(InvalidInput):
        entitlements.consume_grouped(writes, host_user_id="pro", idempotency_key="bad", catalog=QUANTIPACK,
                                     now=NOW, **fields)
    assert len(transactions) == 1  # a plain try that raised would have failed the batch: a second one
