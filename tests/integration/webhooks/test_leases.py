"""Leases with heartbeats: a live worker keeps its events, a dead one's go to the others after one
short lease, and a stopping worker hands back what it did not apply."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy
from prometheus_client import generate_latest
from sqlalchemy import select

from coinslot.catalog.core import Catalog
from coinslot.container import Container
from coinslot.models import WebhookAttempt
from coinslot.observability import REGISTRY
from coinslot.webhooks.loop import renew_leases
from coinslot.webhooks.worker import claim, process_due
from tests.integration.webhooks.conftest import STRIPE_CUSTOMER
from tests.integration.webhooks.helpers import event_row, grants, later, store
from tests.support.webhooks import SnapshotReader, invoice, subscription


def takeovers() -> float:
    for line in generate_latest(REGISTRY).decode().splitlines():
        if line.startswith('coinslot_lease_takeovers_total{queue="webhook_events"}'):
            return float(line.split()[-1])
    return 0.0


def paid_invoices(container: Container, reader: SnapshotReader, count: int) -> list[str]:
    reader.subscriptions["sub_1"] = subscription("sub_1", STRIPE_CUSTOMER, "active")
    ids = []
    for n in range(count):
        reader.invoices[f"in_{n}"] = invoice(f"in_{n}", STRIPE_CUSTOMER, "sub_1")
        ids.append(store(container, "invoice.paid", reader.invoices[f"in_{n}"]))
    return ids


def test_a_live_worker_renews_its_leases_and_no_one_takes_its_events(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    [event_id] = paid_invoices(container, reader, 1)
    [claimed] = claim(container, worker="A", limit=10)
    lease_s = container.settings.worker_lease_s
    for _ in range(5):  # five leases long, renewed every third of one
        later(container, lease_s / 3)
        assert renew_leases(container, worker="A") == 1
        assert process_due(container, worker="B", reader=reader, load_catalog=lambda: catalog) == 0
    row = event_row(container, event_id)
    assert (row.status, row.locked_by) == ("processing", "A")
    assert row.locked_until == container.clock.now() + dt.timedelta(seconds=lease_s)
    assert claimed.attempts == 1


def test_a_dead_workers_events_go_to_another_after_one_lease_and_the_takeover_is_counted(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    ids = paid_invoices(container, reader, 3)
    assert len(claim(container, worker="A", limit=10)) == 3  # ...and A dies without a heartbeat
    before = takeovers()
    later(container, container.settings.worker_lease_s - 1)
    assert process_due(container, worker="B", reader=reader, load_catalog=lambda: catalog) == 0
    later(container, 2)
    assert process_due(container, worker="B", reader=reader, load_catalog=lambda: catalog) == 3
    assert takeovers() - before == 3
    assert [event_row(container, event_id).status for event_id in ids] == ["processed"] * 3
    assert [grants(container, f"in_{n}") for n in range(3)] == [1, 1, 1]
    # A's heartbeat, had it come back, renews nothing: the events are B's (and done).
    assert renew_leases(container, worker="A") == 0


def test_a_stopping_worker_finishes_the_event_in_hand_and_releases_the_rest(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    ids = paid_invoices(container, reader, 4)
    stop = threading.Event()
    applied: list[str] = []

    def load_catalog() -> Catalog:  # called while applying the first event: the stop comes then
        applied.append("one")
        stop.set()
        return catalog

    assert process_due(container, worker="A", reader=reader, load_catalog=load_catalog, stop=stop) == 4
    rows = [event_row(container, event_id) for event_id in ids]
    assert [row.status for row in rows] == ["processed", "received", "received", "received"]
    assert all(row.locked_by is None and row.attempts == 0 for row in rows[1:])
    # Due at once for any other worker, and applied once.
    assert process_due(container, worker="B", reader=reader, load_catalog=lambda: catalog) == 3
    assert [grants(container, f"in_{n}") for n in range(4)] == [1, 1, 1, 1]


def test_a_batch_commits_once_and_an_event_failing_in_it_is_applied_alone(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    ids = paid_invoices(container, reader, 3)
    ignored = store(container, "customer.updated", {"id": STRIPE_CUSTOMER})
    reader.subscriptions["sub_x"] = subscription("sub_x", "cus_stranger", "active")  # no one's: fails
    stranger = store(container, "customer.subscription.updated", reader.subscriptions["sub_x"])
    loads: list[int] = []

    def load_catalog() -> Catalog:  # the second event's first try fails (a hiccup), its retry does not
        loads.append(1)
        if len(loads) == 2:
            raise RuntimeError("catalog unreadable for a moment")
        return catalog

    commits: list[int] = []

    def count_commit(connection: object) -> None:
        commits.append(1)

    sqlalchemy.event.listen(container.db.engine, "commit", count_commit)
    try:
        assert process_due(container, worker="A", reader=reader, load_catalog=load_catalog) == 5
    finally:
        sqlalchemy.event.remove(container.db.engine, "commit", count_commit)
    # The claim, the batch, and the stranger's failure: the hiccup's retry alone is one more commit.
    assert len(commits) == 4
    rows = [event_row(container, event_id) for event_id in [*ids, ignored, stranger]]
    assert [row.status for row in rows] == ["processed", "processed", "processed", "ignored", "failed"]
    assert [row.attempts for row in rows] == [1, 1, 1, 1, 1]  # a try inside the batch is not an attempt
    assert [grants(container, f"in_{n}") for n in range(3)] == [1, 1, 1]
    with container.db.unit_of_work(read_only=True) as session:
        outcomes = session.scalars(select(WebhookAttempt.outcome).order_by(WebhookAttempt.event_id)).all()
    assert outcomes == ["processed", "processed", "processed", "ignored", "failed"]
