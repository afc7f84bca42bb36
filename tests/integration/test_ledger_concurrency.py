"""64 consumers at once, on one account and spread over many, on SQLite and PostgreSQL.

No overdraft, every accepted spend is in the ledger exactly once (retries included),
the sums are exact, and `verify` finds nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from coinslot.db import Database
from coinslot.errors import InsufficientCredits
from coinslot.ledger import service as ledger
from tests.integration.ledger_support import NOW, add_customer, assert_verified

CONSUMERS = 64
SPENDS_EACH = 4

pytestmark = pytest.mark.slow


def _grant(db: Database, customer_id: int, credits: int) -> None:
    with db.unit_of_work() as session:
        ledger.credit(
            session,
            customer_id=customer_id,
            entry_id=f"grant:{customer_id}",
            kind="grant",
            credits=credits,
            now=NOW,
        )


def _run_together(work: Callable[[int], int]) -> list[int]:
    """Run `work(worker)` on 64 threads released at the same instant; their results."""
    start = threading.Barrier(CONSUMERS)

    def worker(number: int) -> int:
        start.wait()
        return work(number)

    with ThreadPoolExecutor(CONSUMERS) as pool:
        return list(pool.map(worker, range(CONSUMERS)))


def _spend_and_retry(db: Database, customer_id: int, key: str, credits: int) -> int:
    """Spend once and retry the same key (a client that timed out): credits actually spent."""
    spent = 0
    for _attempt in range(2):
        try:
            with db.unit_of_work() as session:
                result = ledger.spend(
                    session, customer_id=customer_id, entry_id=key, credits=credits, feature="export", now=NOW
                )
        except InsufficientCredits:
            continue
        if not result.replayed:
            spent += credits
    return spent


def test_64_consumers_on_one_account_never_overdraw(db: Database) -> None:
    with db.unit_of_work() as session:
        alice = add_customer(session, "alice")
    _grant(db, alice, 500)  # 64 x 4 x 3 = 768 asked: some must be refused

    def work(number: int) -> int:
        return sum(_spend_and_retry(db, alice, f"key:{number}-{spend}", 3) for spend in range(SPENDS_EACH))

    spent = sum(_run_together(work))
    with db.unit_of_work(read_only=True) as session:
        balance = ledger.balance(session, customer_id=alice, now=NOW)
    assert spent == 498  # every 3 that fitted into 500
    assert balance.available_credits == 500 - spent == 2
    assert_verified(db)


def test_64_consumers_spread_over_many_accounts_stay_exact(db: Database) -> None:
    with db.unit_of_work() as session:
        customers = [add_customer(session, f"user-{number}") for number in range(16)]
    for customer_id in customers:
        _grant(db, customer_id, 40)

    def work(number: int) -> int:
        customer_id = customers[number % len(customers)]
        return sum(
            _spend_and_retry(db, customer_id, f"key:{number}-{spend}", 1 + spend % 3)
            for spend in range(SPENDS_EACH)
        )

    spent = sum(_run_together(work))
    with db.unit_of_work(read_only=True) as session:
        left = [ledger.balance(session, customer_id=c, now=NOW).available_credits for c in customers]
    assert all(credits >= 0 for credits in left)
    assert spent + sum(left) == 40 * len(customers)
    assert_verified(db)


def test_64_holds_and_captures_at_once_stay_exact(db: Database) -> None:
    with db.unit_of_work() as session:
        alice = add_customer(session, "alice")
    _grant(db, alice, 300)

    def work(number: int) -> int:
        try:
            with db.unit_of_work() as session:
                held = ledger.hold(
                    session,
                    customer_id=alice,
                    entry_id=f"key:hold-{number}",
                    credits=6,
                    timeout_s=365 * 86_400,
                    now=NOW,
                )
        except InsufficientCredits:
            return 0
        assert held.hold_id is not None
        with db.unit_of_work() as session:
            if number % 2:
                ledger.release(session, hold_id=held.hold_id, now=NOW)
                return 0
            ledger.capture(session, hold_id=held.hold_id, credits=4, now=NOW)
            return 4

    spent = sum(_run_together(work))
    with db.unit_of_work(read_only=True) as session:
        balance = ledger.balance(session, customer_id=alice, now=NOW)
    assert (balance.available_credits, balance.held_credits) == (300 - spent, 0)
    assert_verified(db)
