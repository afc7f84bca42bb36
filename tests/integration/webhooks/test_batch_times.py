"""One batch, many customers: each event applies at its own customer's time.

A batch reads its customers in one statement and keeps each test clock's time for the customers on
it (webhooks/memo.py): customers on one clock share its time, a customer on another clock lives at
that one's, a customer on none at the process's `now`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.customers import service as customers
from coinslot.customers import test_clocks
from coinslot.models import LedgerEntry
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

