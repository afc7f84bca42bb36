"""A subscription's whole life, delivered in hundreds of seeded shuffled orders, ends in Stripe's state."""

from __future__ import annotations

import random
from typing import Any

import pytest

from coinslot.catalog.core import Catalog
from coinslot.container import Container
from tests.integration.webhooks.conftest import STRIPE_CUSTOMER
from tests.integration.webhooks.helpers import grants, mirrored, process, store
from tests.support.webhooks import SnapshotReader, invoice, subscription

# Several hundred orders on SQLite; on PostgreSQL (the same code path) as many as fit in ~30 s.
PERMUTATIONS = {"sqlite": 300, "postgresql": 70}
P1, P2, P3 = 1_790_000_000, 1_792_592_000, 1_795_184_000


def life(sub_id: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(event type, event payload, Stripe's subscription right after it), in the order Stripe made them."""
    incomplete = subscription(sub_id, STRIPE_CUSTOMER, "incomplete", period_start=P1, period_end=P2)
    active = subscription(sub_id, STRIPE_CUSTOMER, "active", period_start=P1, period_end=P2)
    renewed = subscription(sub_id, STRIPE_CUSTOMER, "active", period_start=P2, period_end=P3)
    past_due = subscription(sub_id, STRIPE_CUSTOMER, "past_due", period_start=P2, period_end=P3)
    recovered = subscription(sub_id, STRIPE_CUSTOMER, "active", period_start=P2, period_end=P3)
    leaving = subscription(
        sub_id, STRIPE_CUSTOMER, "active", period_start=P2, period_end=P3, cancel_at_period_end=True
    )
    canceled = subscription(
        sub_id, STRIPE_CUSTOMER, "canceled", period_start=P2, period_end=P3, cancel_at_period_end=True
    )
    first = invoice(f"in_{sub_id}_1", STRIPE_CUSTOMER, sub_id, period_start=P1, period_end=P2)
    second = invoice(
        f"in_{sub_id}_2",
        STRIPE_CUSTOMER,
        sub_id,
        period_start=P2,
        period_end=P3,
        billing_reason="subscription_cycle",
    )
    return [
        ("customer.subscription.created", incomplete, incomplete),
        ("invoice.paid", first, active),
        ("customer.subscription.updated", active, active),
        ("customer.subscription.updated", renewed, renewed),
        ("invoice.payment_failed", {**second, "status": "open"}, past_due),
        ("customer.subscription.updated", past_due, past_due),
        ("invoice.paid", second, recovered),
        ("customer.subscription.updated", recovered, recovered),
        ("customer.subscription.updated", leaving, leaving),
        ("customer.subscription.deleted", canceled, canceled),
    ]


@pytest.mark.slow
def test_shuffled_delivery_of_a_subscriptions_full_event_set_ends_in_stripes_state(
    container: Container, reader: SnapshotReader, catalog: Catalog, alice: int
) -> None:
    rng = random.Random(20261101)
    for n in range(PERMUTATIONS[container.db.engine.dialect.name]):
        sub_id = f"sub_{n}"
        events = life(sub_id)
        reader.invoices[f"in_{sub_id}_1"] = events[1][1]
        reader.invoices[f"in_{sub_id}_2"] = events[6][1]
        # Stripe moves through its states; each event is delivered some time after it was made,
        # in any order: at each step either Stripe moves on, or one emitted event is delivered.
        stripe_at, emitted, pending = 0, [0], []
        reader.subscriptions[sub_id] = events[0][2]
        pending.append(0)
        while pending or stripe_at < len(events) - 1:
            if stripe_at < len(events) - 1 and (not pending or rng.random() < 0.4):
                stripe_at += 1
                reader.subscriptions[sub_id] = events[stripe_at][2]
                emitted.append(stripe_at)
                pending.append(stripe_at)
                continue
            index = pending.pop(rng.randrange(len(pending)))
            event_type, payload, _ = events[index]
            store(container, event_type, payload, created=1_800_000_000 + index)
            process(container, reader, catalog)
        row = mirrored(container, sub_id)
        assert row is not None, n
        final = reader.subscriptions[sub_id]
        state = (row.status, row.plan_key, row.cancel_at_period_end, int(row.current_period_end.timestamp()))
        assert state == (final["status"], "pro", True, P3), f"permutation {n}"
        assert row.past_due_since is None
        assert grants(container, f"in_{sub_id}_1") == 1
        assert grants(container, f"in_{sub_id}_2") == 1
