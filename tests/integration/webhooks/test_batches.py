"""Batches of many customers: each event at its own customer's time, and two workers never deadlock.

A batch locks and reads its customers in one statement before its first event and keeps each test
clock's time for the customers on it (webhooks/memo.py): customers on one clock share its time, a
customer on another clock lives at that one's, a customer on none at the process's `now`. Two workers
whose batches share customers queue on them at the start, in one order, instead of meeting midway in
opposite orders (event_time.lock_customers).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest
from sqlalchemy import func, select

from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.customers import service as customers
from coinslot.customers import test_clocks
from coinslot.models import Customer, LedgerEntry, WebhookEvent
from tests.integration.webhooks.conftest import NOW
from tests.integration.webhooks.helpers import process, store
from tests.support.webhooks import SnapshotReader, invoice, subscription

CLOCK_A_AT = NOW - dt.timedelta(days=3, hours=5)
CLOCK_B_AT = NOW + dt.timedelta(days=40)


def _customer(container: Container, name: str, clock: tuple[str, dt.datetime] | None) -> None:
    with container.db.unit_of_work() as session:
        row = customers.ensure_customer(session, host_user_id=name, email=f"{name}@example.com", now=NOW)
        customers.link_stripe_customer(session, customer_id=row.id, stripe_customer_id=f"cus_{name}",
                                       livemode=False, now=NOW)
        if clock is not None:
            test_clocks.attach_clock(session, customer=row, test_clock_id=clock[0], frozen_at=clock[1],
                                     now=NOW)


def _paid(container: Container, reader: SnapshotReader, name: str) -> None:
    reader.subscriptions[f"sub_{name}"] = subscription(f"sub_{name}", f"cus_{name}", "active")
    reader.invoices[f"in_{name}"] = invoice(f"in_{name}", f"cus_{name}", f"sub_{name}")
    store(container, "invoice.paid", reader.invoices[f"in_{name}"], event_id=f"evt_{name}")


def _granted_at(container: Container) -> dict[str, dt.datetime]:
    with container.db.unit_of_work(read_only=True) as session:
        rows = session.execute(select(LedgerEntry.entry_id, LedgerEntry.created_at)
                               .where(LedgerEntry.kind == "grant"))
        return {entry_id.removeprefix("invoice:in_"): at for entry_id, at in rows}


def test_customers_on_one_clock_on_another_and_on_none_each_apply_at_their_own_time(
    container: Container, reader: SnapshotReader, catalog: Catalog
) -> None:
    _customer(container, "ann", ("clock_a", CLOCK_A_AT))
    _customer(container, "amy", ("clock_a", CLOCK_A_AT))
    _customer(container, "bob", ("clock_b", CLOCK_B_AT))
    _customer(container, "cat", None)
    for name in ("ann", "bob", "cat", "amy"):
        _paid(container, reader, name)
    assert process(container, reader, catalog) == 4  # one batch
    assert _granted_at(container) == {"ann": CLOCK_A_AT, "amy": CLOCK_A_AT, "bob": CLOCK_B_AT, "cat": NOW}



@pytest.mark.postgres
# Row locks that wait on each other are PostgreSQL's (SQLite has one writer at a time): there only.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_whose_batches_meet_their_customers_in_opposite_orders_never_deadlock(
    container: Container, reader: SnapshotReader, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    names = [f"u{n}" for n in range(8)]
    for name in names:
        _customer(container, name, None)  # linked before coinslot knew their clock: attached by the batches
    clock_s = int(CLOCK_A_AT.timestamp())
    reader.clocks["clock_a"] = clock_s
    # Rounds of events over the same customers on one test clock, every other round in reverse: a batch
    # of 6 takes them in one order, the next batch (the other worker's) in the other. Each event writes
    # its customer's rows; the clock's own events come between the rounds.
    for round_number in range(6):
        for name in names if round_number % 2 == 0 else reversed(names):
            sub_id, invoice_id = f"sub_{name}_{round_number}", f"in_{name}_{round_number}"
            on_clock = {"test_clock": "clock_a"}
            reader.subscriptions[sub_id] = {**subscription(sub_id, f"cus_{name}", "active"), **on_clock}
            reader.invoices[invoice_id] = {**invoice(invoice_id, f"cus_{name}", sub_id), **on_clock}
            store(container, "invoice.paid", reader.invoices[invoice_id], event_id=f"evt_{invoice_id}")
        clock = {"id": "clock_a", "object": "test_helpers.test_clock", "frozen_time": clock_s}
        store(container, "test_helpers.test_clock.ready", clock, event_id=f"evt_clock_{round_number}")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        try:
            barrier.wait()
            while process(container, reader, catalog, limit=6, worker=worker):
                pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    caplog.set_level(logging.INFO, logger="coinslot.webhooks")
    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with container.db.unit_of_work(read_only=True) as session:
        by_status = select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
        statuses = {str(status): int(count) for status, count in session.execute(by_status)}
        max_attempts = session.scalar(select(func.max(WebhookEvent.attempts)))
    assert statuses == {"processed": 54}
    assert max_attempts == 1
    # A deadlock rolls an event's savepoint back (it is then applied alone) or the whole batch (then one
    # by one): neither happened.
    assert [r.getMessage() for r in caplog.records if "applying" in r.getMessage()] == []
    assert set(_granted_at(container).values()) == {CLOCK_A_AT}  # each at the clock's time
    with container.db.unit_of_work(read_only=True) as session:
        assert set(session.scalars(select(Customer.stripe_test_clock_id))) == {"clock_a"}
    assert len(_granted_at(container)) == 48


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_batch_applies_the_customers_no_one_holds_first_and_waits_for_the_others_after(
    container: Container, reader: SnapshotReader, catalog: Catalog
) -> None:
    # Another transaction (another worker's batch, a checkout) holds "held"'s row: the batch applies the
    # event of "free" and commits it without waiting, then applies "held"'s once that one is released.
    for name in ("held", "free"):
        _customer(container, name, None)
        _paid(container, reader, name)
    other = container.db.engine.connect()
    transaction = other.begin()
    other.execute(select(Customer.id).where(Customer.host_user_id == "held").with_for_update())
    worker = threading.Thread(target=process, args=(container, reader, catalog))
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while "free" not in _granted_at(container) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert set(_granted_at(container)) == {"free"}  # committed while "held" was still held
    finally:
        transaction.commit()
        other.close()
    worker.join(timeout=20)
    assert set(_granted_at(container)) == {"free", "held"}
    with container.db.unit_of_work(read_only=True) as session:
        assert set(session.scalars(select(WebhookEvent.status))) == {"processed"}
        assert session.scalar(select(func.max(WebhookEvent.attempts))) == 1
