"""The worker's machinery: backoff, dead letters and alerts, replay, leases, several workers."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from coinslot.catalog.core import Catalog
from coinslot.config import Settings
from coinslot.container import Container
from coinslot.models import CheckoutSession, LedgerEntry, Order, WebhookAttempt, WebhookEvent
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData
from coinslot.webhooks.worker import (
    apply_claimed,
    backoff_s,
    claim,
    fetch_claimed,
    process_due,
    replay,
)
from tests.integration.webhooks.conftest import STRIPE_CUSTOMER
from tests.integration.webhooks.helpers import (
    alerts,
    event_row,
    grants,
    later,
    outbox,
    process,
    store,
)
from tests.support.webhooks import SnapshotReader, invoice, subscription


def test_backoff_grows_exponentially_up_to_the_cap_with_deterministic_jitter() -> None:
    settings = Settings(_env_file=None, webhook_retry_base_s=10, webhook_retry_cap_s=300)  # type: ignore[call-arg]
    delays = [backoff_s(settings, stripe_event_id="evt_1", attempts=n) for n in range(1, 9)]
    ceilings = [10, 20, 40, 80, 160, 300, 300, 300]
    assert all(ceiling / 2 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True))
    assert delays == [backoff_s(settings, stripe_event_id="evt_1", attempts=n) for n in range(1, 9)]
    assert delays != [backoff_s(settings, stripe_event_id="evt_2", attempts=n) for n in range(1, 9)]


def test_unknown_event_types_are_stored_and_marked_ignored(
    container: Container, reader: SnapshotReader, catalog: Catalog
) -> None:
    event_id = store(container, "customer.updated", {"id": STRIPE_CUSTOMER})
    process(container, reader, catalog)
    row = event_row(container, event_id)
    assert (row.status, row.locked_by, reader.reads) == ("ignored", None, 0)


def test_after_the_last_attempt_an_event_is_dead_with_an_alert_and_can_be_replayed(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    # The subscription of a Stripe customer nobody linked: fails, retries, dies (max 3 attempts here).
    reader.subscriptions["sub_x"] = subscription("sub_x", "cus_stranger", "active")
    event_id = store(container, "customer.subscription.updated", reader.subscriptions["sub_x"])
    for _ in range(3):
        process(container, reader, catalog)
        later(container, 3600)
    dead = event_row(container, event_id)
    assert (dead.status, dead.attempts, dead.next_attempt_at) == ("dead", 3, None)
    assert "cus_stranger" in (dead.last_error or "")
    [alert] = alerts(container)
    assert (alert.code, alert.subject_id) == ("webhook.dead", event_id)
    assert json.loads(outbox(container, "alert.raised")[0].payload)["code"] == "webhook.dead"
    with container.db.unit_of_work(read_only=True) as session:
        attempts = session.scalars(select(WebhookAttempt.outcome).order_by(WebhookAttempt.id)).all()
    assert attempts == ["failed", "failed", "dead"]
    # The operator links the customer (here: Stripe's copy now names alice) and replays.
    reader.subscriptions["sub_x"] = subscription("sub_x", STRIPE_CUSTOMER, "active")
    replay(container, event_ref=event_id)
    process(container, reader, catalog)
    assert event_row(container, event_id).status == "processed"


def test_a_paid_session_with_no_user_is_dead_at_once_with_an_alert_and_nothing_applied(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    reader.sessions["cs_orphan"] = StripeCheckoutSessionData(
        id="cs_orphan",
        url=None,
        status="complete",
        payment_status="paid",
        mode="payment",
        customer=None,
        subscription=None,
        payment_intent="pi_1",
        invoice=None,
        metadata={},
        client_reference_id=None,
        amount_total=500,
        currency="usd",
    )
    event_id = store(container, "checkout.session.completed", {"id": "cs_orphan"})
    process(container, reader, catalog)
    row = event_row(container, event_id)
    # Dead after its first attempt (retrying cannot name the user), with an alert saying why.
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 1, None)
    assert "names no known user" in (row.last_error or "")
    assert [a.code for a in alerts(container)] == ["webhook.unprocessable"]
    # Nothing applied: no credits, no order paid, the session not marked fulfilled.
    with container.db.unit_of_work(read_only=True) as session:
        assert session.scalars(select(LedgerEntry.entry_id)).all() == []
        assert session.scalars(select(Order.status).where(Order.status != "draft")).all() == []
        assert session.scalars(select(CheckoutSession.id).where(
            CheckoutSession.fulfilled_at.is_not(None))).all() == []


def test_a_worker_killed_mid_event_loses_nothing_and_applies_nothing_twice(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    reader.subscriptions["sub_1"] = subscription("sub_1", STRIPE_CUSTOMER, "active")
    reader.invoices["in_1"] = invoice("in_1", STRIPE_CUSTOMER, "sub_1")
    event_id = store(container, "invoice.paid", reader.invoices["in_1"])
    # Worker A claims the event and reads Stripe, then stalls (killed, or paused by the OS).
    [claimed] = claim(container, worker="A", limit=10)
    fetched = fetch_claimed(claimed, reader)
    assert process_due(container, worker="B", reader=reader, load_catalog=lambda: catalog) == 0  # leased to A
    later(container, container.settings.worker_lease_s + 1)
    # B reclaims the expired lease and applies it.
    assert process_due(container, worker="B", reader=reader, load_catalog=lambda: catalog) == 1
    assert grants(container, "in_1") == 1
    # A wakes up: its lease is gone, so it applies nothing.
    outcome = apply_claimed(
        container,
        claimed,
        fetched,
        worker="A",
        load_catalog=lambda: catalog,
        started_at=container.clock.now(),
    )
    assert outcome == "lease_lost"
    row = event_row(container, event_id)
    assert (row.status, row.attempts) == ("processed", 2)
    assert grants(container, "in_1") == 1


@pytest.mark.postgres
@pytest.mark.slow
# SKIP LOCKED side-by-side claiming is PostgreSQL's: this one runs there only.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_process_1000_events_each_applied_once(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    for n in range(1000):
        reader.subscriptions[f"sub_{n}"] = subscription(f"sub_{n}", STRIPE_CUSTOMER, "canceled")
        store(
            container, "customer.subscription.updated", reader.subscriptions[f"sub_{n}"], event_id=f"evt_{n}"
        )
    counts: dict[str, int] = {}

    def work(name: str) -> None:
        total = 0
        while (done := process(container, reader, catalog, limit=25, worker=name)) > 0:
            total += done
        counts[name] = total

    threads = [threading.Thread(target=work, args=(name,)) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts["w1"] + counts["w2"] == 1000
    assert min(counts.values()) > 0  # both took part
    with container.db.unit_of_work(read_only=True) as session:
        query = select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
        statuses = {str(status): int(count) for status, count in session.execute(query)}
        attempts = session.scalar(select(func.count()).select_from(WebhookAttempt))
        max_attempts = session.scalar(select(func.max(WebhookEvent.attempts)))
    assert statuses == {"processed": 1000}
    assert attempts == 1000
    assert max_attempts == 1
