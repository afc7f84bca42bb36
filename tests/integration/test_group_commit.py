"""Group commit (coinslot/group_commit.py) on SQLite and PostgreSQL: writes queued behind a leader share
one transaction, a refused write rolls back alone, a failing write or a failed commit falls back to one
transaction per write, and no caller hears "done" before its entry is readable from another session.

Batches are made deterministic by holding the leader's write on an event until the others are queued.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from coinslot.db import Database
from coinslot.errors import CoinslotError, InsufficientCredits
from coinslot.group_commit import GroupCommit
from coinslot.ledger import service as ledger
from tests.integration.ledger_support import NOW, assert_verified, available, new_customer


def _spend(customer_id: int, key: str, credits: int) -> Callable[[Session], ledger.EntryResult]:
    def work(session: Session) -> ledger.EntryResult:
        return ledger.spend(session, customer_id=customer_id, entry_id=key, credits=credits, feature="export",
                            now=NOW)
    return work


def _funded(db: Database, host_user_id: str, credits: int) -> int:
    customer_id = new_customer(db, host_user_id)
    with db.unit_of_work() as session:
        ledger.credit(session, customer_id=customer_id, entry_id=f"grant:{customer_id}", kind="grant",
                      credits=credits, now=NOW)
    return customer_id


class _Counting:
    """The database's unit of work, counting the transactions it opens; transaction number
    `failing_commit` fails after its body ran (a commit the database refused): nothing of it is written."""

    def __init__(self, db: Database, *, failing_commit: int | None = None) -> None:
        self.db = db
        self.transactions = 0
        self.failing_commit = failing_commit

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        self.transactions += 1
        number = self.transactions
        with self.db.unit_of_work() as session:
            yield session
            if number == self.failing_commit:
                raise RuntimeError("the commit failed")  # unit_of_work rolls back the whole transaction


def _batch_behind_leader(group: GroupCommit, works: list[Callable[[Session], Any]]) -> list[Future[Any]]:
    """Submit works[0] as the leader, held inside its transaction until works[1:] are all queued behind
    it; the futures of every write, in order."""
    queued = threading.Event()
    first = works[0]

    def held_leader(session: Session) -> Any:
        queued.wait(timeout=30)
        return first(session)

    pool = ThreadPoolExecutor(len(works))
    futures = [pool.submit(group.run, held_leader)]
    while not group._busy:  # the leader has taken the lead
        time.sleep(0.001)
    futures += [pool.submit(group.run, work) for work in works[1:]]
    while len(group._queue) < len(works) - 1:  # every other write waits behind it
        time.sleep(0.001)
    queued.set()
    pool.shutdown(wait=True)
    return futures


def test_writes_queued_behind_a_leader_share_one_transaction(db: Database) -> None:
    alice = _funded(db, "alice", 100)
    counting = _Counting(db)
    group = GroupCommit(counting, refusals=(CoinslotError,))
    futures = _batch_behind_leader(group, [_spend(alice, f"key:{n}", 3) for n in range(9)])
    assert [f.result().replayed for f in futures] == [False] * 9
    # The leader's batch is its own write alone (taken before the others queued); the 8 behind it are
    # one transaction.
    assert counting.transactions == 2
    assert available(db, alice) == 100 - 27
    assert_verified(db)


def test_a_refused_write_rolls_back_alone_and_the_batch_commits(db: Database) -> None:
    alice = _funded(db, "alice", 10)
    counting = _Counting(db)
    group = GroupCommit(counting, refusals=(CoinslotError,))
    works = [_spend(alice, "key:lead", 1), _spend(alice, "key:a", 4), _spend(alice, "key:too-much", 50),
             _spend(alice, "key:b", 4)]
    futures = _batch_behind_leader(group, works)
    with pytest.raises(InsufficientCredits):
        futures[2].result()
    assert [futures[n].result().entry_id for n in (0, 1, 3)] == ["key:lead", "key:a", "key:b"]
    assert counting.transactions == 2  # the refusal cost no transaction of its own
    assert available(db, alice) == 1
    with db.unit_of_work(read_only=True) as session:
        assert ledger.find_entry(session, entry_id="key:too-much") is None
    assert_verified(db)


def test_a_write_failing_in_the_batch_runs_again_alone_and_writes_nothing(db: Database) -> None:
    alice = _funded(db, "alice", 10)
    counting = _Counting(db)
    group = GroupCommit(counting, refusals=(CoinslotError,))

    def spends_then_breaks(session: Session) -> None:
        _spend(alice, "key:broken", 2)(session)
        raise RuntimeError("a bug after the spend")

    futures = _batch_behind_leader(group, [_spend(alice, "key:lead", 1), _spend(alice, "key:a", 1),
                                           spends_then_breaks, _spend(alice, "key:b", 1)])
    with pytest.raises(RuntimeError, match="a bug after the spend"):
        futures[2].result()
    assert [futures[n].result().replayed for n in (0, 1, 3)] == [False, False, False]
    assert counting.transactions == 3  # leader, batch, and the failing write alone
    assert available(db, alice) == 7
    with db.unit_of_work(read_only=True) as session:
        assert ledger.find_entry(session, entry_id="key:broken") is None
    assert_verified(db)


def test_a_batch_whose_commit_fails_is_written_once_write_by_write(db: Database) -> None:
    alice = _funded(db, "alice", 10)
    counting = _Counting(db, failing_commit=2)  # the batch behind the leader
    group = GroupCommit(counting, refusals=(CoinslotError,))
    futures = _batch_behind_leader(group, [_spend(alice, f"key:{n}", 2) for n in range(4)])
    assert [f.result().replayed for f in futures] == [False] * 4
    assert counting.transactions == 1 + 1 + 3  # the leader, the failed batch, then its 3 writes alone
    assert available(db, alice) == 2
    assert_verified(db)


def test_every_caller_reads_its_own_entry_once_answered(db: Database) -> None:
    alice = _funded(db, "alice", 1000)
    group = GroupCommit(db.unit_of_work, refusals=(CoinslotError,))
    missing: list[str] = []

    def consume(n: int) -> None:
        key = f"key:{n}"
        group.run(_spend(alice, key, 1))
        with db.unit_of_work(read_only=True) as session:  # another session: sees only what is committed
            if ledger.find_entry(session, entry_id=key) is None:
                missing.append(key)

    start = threading.Barrier(16)

    def worker(n: int) -> None:
        start.wait()
        for round_ in range(5):
            consume(n * 100 + round_)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(worker, range(16)))
    assert missing == []
    assert available(db, alice) == 1000 - 80
    assert_verified(db)


def test_a_plain_try_answers_without_a_savepoint_and_none_hands_the_write_to_its_work(db: Database) -> None:
    alice = _funded(db, "alice", 100)
    savepoints: list[str] = []
    event.listen(db.engine, "savepoint", lambda _conn, name: savepoints.append(name))
    group = GroupCommit(db.unit_of_work, refusals=(CoinslotError,))
    plainly = group.run(_spend(alice, "key:work-a", 5), plain=_spend(alice, "key:plain", 2))
    assert plainly.entry_id == "key:plain"
    assert savepoints == []
    by_work = group.run(_spend(alice, "key:work-b", 5), plain=lambda session: None)
    assert by_work.entry_id == "key:work-b"
    assert len(savepoints) == 1
    assert available(db, alice) == 100 - 2 - 5
    with db.unit_of_work(read_only=True) as session:
        assert ledger.find_entry(session, entry_id="key:work-a") is None
    assert_verified(db)
