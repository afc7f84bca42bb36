"""A stateful property test: random grants, purchases, spends, holds, captures, releases, expiries and
refunds, run through the real service on SQLite, against a simple model of lots.

After every step: the balance equals the model, nothing is negative, every id was applied once
(retries change nothing), and `verify` finds nothing.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import coinslot.models
from coinslot.db import Database
from coinslot.errors import Conflict, InsufficientCredits
from coinslot.ledger import service as ledger
from tests.integration.ledger_support import NOW, add_customer

HOUR = dt.timedelta(hours=1)


@dataclass
class ModelLot:
    remaining: int
    expires_at: dt.datetime | None
    original: int
    expired: int = 0
    clawed: int = 0


@dataclass
class ModelHold:
    credits: int
    draws: list[tuple[int, int]]  # (lot index, credits)
    expires_at: dt.datetime
    status: str = "pending"


@dataclass
class Model:
    """The ledger's rules, written the plainest way: lots in a list, FIFO by expiry."""

    now: dt.datetime = NOW
    lots: list[ModelLot] = field(default_factory=list)
    holds: dict[int, ModelHold] = field(default_factory=dict)
    debt: int = 0

    def available(self) -> int:
        return sum(lot.remaining for lot in self.lots)

    def held(self) -> int:
        return sum(hold.credits for hold in self.holds.values() if hold.status == "pending")

    def add_lot(self, credits: int, expires_at: dt.datetime | None) -> None:
        repaid = min(self.debt, credits)
        self.debt -= repaid
        self.lots.append(ModelLot(credits - repaid, expires_at, credits))

    def settle(self) -> None:
        for hold in self.holds.values():
            if hold.status == "pending" and hold.expires_at <= self.now:
                self.give_back(hold, hold.credits)
                hold.status = "expired"
        self.expire_lots()

    def expire_lots(self) -> None:
        for lot in self.lots:
            if lot.expires_at is not None and lot.expires_at <= self.now and lot.remaining:
                lot.expired += lot.remaining
                lot.remaining = 0

    def draw(self, credits: int) -> list[tuple[int, int]]:
        order = sorted(
            (i for i, lot in enumerate(self.lots) if lot.remaining),
            key=lambda i: (self.lots[i].expires_at is None, self.lots[i].expires_at or NOW, i),
        )
        draws, left = [], credits
        for i in order:
            taken = min(left, self.lots[i].remaining)
            if taken:
                self.lots[i].remaining -= taken
                draws.append((i, taken))
                left -= taken
        assert left == 0
        return draws

    def give_back(self, hold: ModelHold, credits: int) -> None:
        for i, taken in reversed(hold.draws):
            returned = min(credits, taken)
            self.lots[i].remaining += returned
            credits -= returned
        self.expire_lots()


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.db = Database(f"sqlite:///{Path(self.folder.name) / 'ledger.db'}")
        coinslot.models.Base.metadata.create_all(self.db.engine)
        with self.db.unit_of_work() as session:
            self.customer_id = add_customer(session, "prop")
        self.model = Model()
        self.counter = 0
        self.spends: list[tuple[str, int]] = []  # applied spends, to retry
        self.purchases: list[tuple[str, int]] = []  # (source, lot index)
        self.hold_ids: list[int] = []

    def teardown(self) -> None:
        self.db.dispose()
        self.folder.cleanup()

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}:{self.counter}"

    @rule(credits=st.integers(1, 40), lifetime_h=st.one_of(st.none(), st.integers(1, 72)))
    def purchase(self, credits: int, lifetime_h: int | None) -> None:
        source = self.next_id("checkout")
        expires_at = self.model.now + lifetime_h * HOUR if lifetime_h else None
        with self.db.unit_of_work() as session:
            ledger.credit(
                session,
                customer_id=self.customer_id,
                entry_id=source,
                kind="purchase",
                credits=credits,
                now=self.model.now,
                expires_at=expires_at,
                source=source,
            )
        self.model.settle()
        self.model.add_lot(credits, expires_at)
        self.purchases.append((source, len(self.model.lots) - 1))

    @rule(credits=st.integers(0, 30))
    def spend(self, credits: int) -> None:
        entry_id = self.next_id("key")
        self.model.settle()
        try:
            with self.db.unit_of_work() as session:
                ledger.spend(
                    session,
                    customer_id=self.customer_id,
                    entry_id=entry_id,
                    credits=credits,
                    feature="f",
                    now=self.model.now,
                )
        except InsufficientCredits:
            assert credits > self.model.available()
            return
        self.model.draw(credits)
        self.spends.append((entry_id, credits))

    @precondition(lambda self: self.spends)
    @rule(data=st.data())
    def retry_a_spend(self, data: st.DataObject) -> None:
        entry_id, credits = data.draw(st.sampled_from(self.spends))
        with self.db.unit_of_work() as session:
            again = ledger.spend(
                session,
                customer_id=self.customer_id,
                entry_id=entry_id,
                credits=credits,
                feature="f",
                now=self.model.now,
            )
        assert again.replayed

    @rule(credits=st.integers(0, 30), timeout_h=st.integers(1, 48))
    def hold(self, credits: int, timeout_h: int) -> None:
        self.model.settle()
        expires_at = self.model.now + timeout_h * HOUR
        try:
            with self.db.unit_of_work() as session:
                held = ledger.hold(
                    session,
                    customer_id=self.customer_id,
                    entry_id=self.next_id("hold"),
                    credits=credits,
                    timeout_s=timeout_h * 3600,
                    now=self.model.now,
                )
        except InsufficientCredits:
            assert credits > self.model.available()
            return
        assert held.hold_id is not None
        self.model.holds[held.hold_id] = ModelHold(credits, self.model.draw(credits), expires_at)
        self.hold_ids.append(held.hold_id)

    @precondition(lambda self: self.hold_ids)
    @rule(data=st.data(), credits=st.integers(0, 40))
    def capture(self, data: st.DataObject, credits: int) -> None:
        hold_id = data.draw(st.sampled_from(self.hold_ids))
        self.model.settle()
        hold = self.model.holds[hold_id]
        try:
            with self.db.unit_of_work() as session:
                ledger.capture(
                    session,
                    hold_id=hold_id,
                    credits=credits,
                    now=self.model.now,
                    entry_id=self.next_id("capture"),
                )
        except Conflict:
            assert hold.status != "pending"
            return
        except InsufficientCredits:
            assert credits - hold.credits > self.model.available()
            return
        assert hold.status == "pending"
        if credits <= hold.credits:
            self.model.give_back(hold, hold.credits - credits)
        else:
            self.model.draw(credits - hold.credits)
        hold.status = "captured"

    @precondition(lambda self: self.hold_ids)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        hold_id = data.draw(st.sampled_from(self.hold_ids))
        self.model.settle()
        hold = self.model.holds[hold_id]
        try:
            with self.db.unit_of_work() as session:
                ledger.release(session, hold_id=hold_id, now=self.model.now, entry_id=self.next_id("release"))
        except Conflict:
            assert hold.status != "pending"
            return
        self.model.give_back(hold, hold.credits)
        hold.status = "released"

    @precondition(lambda self: self.purchases)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        source, index = data.draw(st.sampled_from(self.purchases))
        self.model.settle()
        with self.db.unit_of_work() as session:
            ledger.claw_back(
                session,
                customer_id=self.customer_id,
                entry_id=self.next_id("refund"),
                source=source,
                now=self.model.now,
            )
        lot = self.model.lots[index]
        owed = max(0, lot.original - lot.expired - lot.clawed)
        taken = min(lot.remaining, owed)
        lot.remaining -= taken
        lot.clawed += owed
        self.model.debt += owed - taken

    @rule(hours=st.integers(1, 36))
    def time_passes(self, hours: int) -> None:
        self.model.now += hours * HOUR

    @rule()
    def sweep(self) -> None:
        with self.db.unit_of_work() as session:
            ledger.expire_due(session, now=self.model.now)
        self.model.settle()

    @invariant()
    def balance_equals_the_model(self) -> None:
        self.model.settle()
        with self.db.unit_of_work(read_only=True) as session:
            balance = ledger.balance(session, customer_id=self.customer_id, now=self.model.now)
            problems = ledger.verify(session)
        assert problems == []
        assert (balance.available_credits, balance.held_credits, balance.debt_credits) == (
            self.model.available(),
            self.model.held(),
            self.model.debt,
        )
        assert min(balance.available_credits, balance.held_credits, balance.debt_credits) >= 0


LedgerMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_the_ledger_agrees_with_a_simple_model = LedgerMachine.TestCase
