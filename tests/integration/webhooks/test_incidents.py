"""The incidents of public Stripe integrations, each replayed against coinslot's worker.

Phase-1 reads come from a SnapshotReader (what Stripe holds now, set by the
test); the real re-read over HTTP is exercised in test_stripesim_rereads.py.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from coinslot.catalog.core import Catalog
from coinslot.deps import Container
from coinslot.errors import StripeUnavailable
from coinslot.stripe_gateway.checkout import StripeCheckoutSessionData
from coinslot.subscriptions import service as subscriptions
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


def test_a_duplicate_invoice_paid_delivered_twice_at_once_grants_once(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    # Two rows for one invoice, taken by two workers at the same moment: the "already processed?"
    # question is answered by the ledger's unique entry id, inside each worker's transaction.
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


def test_the_same_invoice_under_a_different_event_id_grants_once(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    obj = paid_pro(reader)
    store(container, "invoice.paid", obj, event_id="evt_first")
    process(container, reader, catalog)
    store(container, "invoice.paid", obj, event_id="evt_resent")  # e.g. invoice.paid re-sent, or replayed
    store(container, "invoice.payment_succeeded", obj, event_id="evt_sibling")  # stored, ignored
    process(container, reader, catalog)
    assert grants(container, "in_1") == 1
    assert credits_granted(container, alice) == PRO_CREDITS
    assert event_row(container, "evt_resent").status == "processed"
    assert event_row(container, "evt_sibling").status == "ignored"


def test_one_purchase_granted_by_both_checkout_completed_and_invoice_paid_is_granted_once(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    obj = paid_pro(reader)
    reader.sessions["cs_1"] = StripeCheckoutSessionData(
        id="cs_1",
        url=None,
        status="complete",
        payment_status="paid",
        mode="subscription",
        customer=STRIPE_CUSTOMER,
        subscription="sub_1",
        payment_intent=None,
        invoice="in_1",
        metadata={"coinslot_user_id": "alice", "coinslot_item": "plan:pro:month"},
        client_reference_id="alice",
        amount_total=1499,
        currency="usd",
    )
    store(container, "checkout.session.completed", {"id": "cs_1", "object": "checkout.session"})
    store(container, "invoice.paid", obj)
    store(container, "customer.subscription.created", reader.subscriptions["sub_1"])
    process(container, reader, catalog)
    assert grants(container, "in_1") == 1
    assert credits_granted(container, alice) == PRO_CREDITS


def test_an_event_whose_effect_failed_is_retried_and_finally_applied(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    # The incident: marked processed before its effect; the effect failed; the retry was skipped as a
    # duplicate. Here the mark commits with the effect, so a failure leaves the event due again.
    obj = paid_pro(reader)
    event_id = store(container, "invoice.paid", obj)
    reader.failures.append(RuntimeError("database hiccup in the middle of the grant"))
    process(container, reader, catalog)
    failed = event_row(container, event_id)
    assert (failed.status, failed.attempts, grants(container, "in_1")) == ("failed", 1, 0)
    assert failed.last_error is not None
    assert "hiccup" in failed.last_error
    assert failed.last_traceback is not None
    assert "RuntimeError" in failed.last_traceback
    assert process(container, reader, catalog) == 0  # not due before its backoff
    later(container, 60)
    process(container, reader, catalog)
    assert event_row(container, event_id).status == "processed"
    assert grants(container, "in_1") == 1


def test_stripe_unavailable_during_a_reread_retries_later_with_no_partial_state(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    obj = paid_pro(reader)
    event_id = store(container, "invoice.paid", obj)
    reader.subscriptions["sub_1"] = subscription("sub_1", STRIPE_CUSTOMER, "active")
    # The invoice read succeeds, the subscription read answers 429: nothing may be half-applied.
    reader.failures.extend([StripeUnavailable("Stripe answered 429; retry later")])
    process(container, reader, catalog)
    assert event_row(container, event_id).status == "failed"
    assert mirrored(container, "sub_1") is None
    assert grants(container, "in_1") == 0
    later(container, 60)
    process(container, reader, catalog)
    assert mirrored(container, "sub_1") is not None
    assert grants(container, "in_1") == 1


def test_updated_active_before_created_incomplete_ends_active(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    created = subscription("sub_1", STRIPE_CUSTOMER, "incomplete")
    updated = subscription("sub_1", STRIPE_CUSTOMER, "active")
    reader.subscriptions["sub_1"] = updated  # Stripe's state now
    store(container, "customer.subscription.updated", updated, created=1_800_000_001)
    process(container, reader, catalog)
    store(container, "customer.subscription.created", created, created=1_800_000_000)
    process(container, reader, catalog)
    row = mirrored(container, "sub_1")
    assert row is not None
    assert (row.status, row.plan_key) == ("active", "pro")


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


def test_an_incomplete_subscription_never_unlocks_the_plan(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    # 85 never-paid subscriptions once got a paid tier because "checkout complete" was read as "paid".
    incomplete = subscription("sub_1", STRIPE_CUSTOMER, "incomplete")
    reader.subscriptions["sub_1"] = incomplete
    reader.invoices["in_1"] = invoice("in_1", STRIPE_CUSTOMER, "sub_1", status="open")
    reader.sessions["cs_1"] = StripeCheckoutSessionData(
        id="cs_1",
        url=None,
        status="complete",
        payment_status="unpaid",
        mode="subscription",
        customer=STRIPE_CUSTOMER,
        subscription="sub_1",
        payment_intent=None,
        invoice="in_1",
        metadata={"coinslot_user_id": "alice"},
        client_reference_id="alice",
        amount_total=1499,
        currency="usd",
    )
    store(container, "customer.subscription.created", incomplete)
    store(container, "checkout.session.completed", {"id": "cs_1"})
    store(container, "invoice.payment_failed", reader.invoices["in_1"])
    process(container, reader, catalog)
    with container.db.unit_of_work(read_only=True) as session:
        access = subscriptions.plan_access_for(
            session,
            customer_id=alice,
            catalog=catalog,
            now=container.clock.now(),
            grace=container_grace(container),
        )
    assert (access.plan_key, access.reason) == ("free", "incomplete")
    assert credits_granted(container, alice) == 0


def container_grace(container: Container) -> dt.timedelta:
    return dt.timedelta(days=container.settings.past_due_grace_days)


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
