"""Interleavings stripesim cannot stage on demand, replayed exactly against coinslot's worker.

The incidents themselves run end to end against stripesim over HTTP
(tests/e2e/test_webhook_incidents.py). Here phase-1 reads come from a
SnapshotReader (what Stripe holds now, set by the test), so that two workers
can be released at the same instant, or Stripe can "forget" an object.
"""

from __future__ import annotations

import threading

import pytest

from coinslot.catalog.core import Catalog
from coinslot.container import Container
from tests.integration.webhooks.conftest import STRIPE_CUSTOMER
from tests.integration.webhooks.helpers import (
    credits_granted,
    event_row,
    grants,
    later,
    mirrored,
    process,
    store,
)
from tests.support.webhooks import SnapshotReader, invoice, subscription

PRO_CREDITS = 100


def paid_pro(reader: SnapshotReader, *, sub_id: str = "sub_1", invoice_id: str = "in_1") -> dict[str, object]:
    reader.subscriptions[sub_id] = subscription(sub_id, STRIPE_CUSTOMER, "active")
    reader.invoices[invoice_id] = invoice(invoice_id, STRIPE_CUSTOMER, sub_id)
    return reader.invoices[invoice_id]


def test_two_events_for_one_invoice_taken_by_two_workers_at_the_same_moment_grant_once(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    # Two rows for one invoice (two event ids), taken by two workers at the same moment: the "already
    # processed?" question is answered by the ledger's unique entry id, inside each worker's transaction.
    # (The e2e incident test covers Stripe's duplicate deliveries; this one pins the race exactly.)
    obj = paid_pro(reader)
    store(container, "invoice.paid", obj, event_id="evt_a")
    store(container, "invoice.paid", obj, event_id="evt_b")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            process(container, reader, catalog, limit=1, worker=name)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while process(container, reader, catalog):  # a loser of a race is retried, and then finds it done
        later(container, 120)
    assert errors == []
    assert grants(container, "in_1") == 1
    assert credits_granted(container, alice) == PRO_CREDITS
    assert {event_row(container, e).status for e in ("evt_a", "evt_b")} == {"processed"}


def test_an_older_event_payload_never_overwrites_newer_state(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    # When Stripe no longer has the object (404), the event's own snapshot is used: ordered by `created`.
    store(
        container,
        "customer.subscription.updated",
        subscription("sub_9", STRIPE_CUSTOMER, "active"),
        created=1_700_000_010,
    )
    store(
        container,
        "customer.subscription.created",
        subscription("sub_9", STRIPE_CUSTOMER, "incomplete"),
        created=1_700_000_000,
    )
    process(container, reader, catalog)
    row = mirrored(container, "sub_9")
    assert row is not None
    assert row.status == "active"


@pytest.mark.parametrize("copies", [10])
def test_the_same_event_processed_by_many_workers_at_once_applies_once(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int, copies: int
) -> None:
    obj = paid_pro(reader)
    event_id = store(container, "invoice.paid", obj)
    barrier = threading.Barrier(copies)

    def work(index: int) -> None:
        barrier.wait()
        process(container, reader, catalog, worker=f"w{index}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert event_row(container, event_id).status == "processed"
    assert event_row(container, event_id).attempts == 1  # claimed by exactly one worker
    assert grants(container, "in_1") == 1
