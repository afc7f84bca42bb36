"""A subscription's life at Stripe, its webhooks shuffled and duplicated by stripesim, ends in Stripe's state.

The seeded several-hundred-permutation run, with Stripe's state moving between
deliveries, is tests/integration/webhooks/test_shuffled_delivery.py; this one
lets stripesim's own delivery faults do the shuffling, over HTTP.
"""

from __future__ import annotations

from tests.e2e.billing import inbox, ledger, mirror, push_catalog, stripe_events, subscribe
from tests.support.stack import Stack

SEEDS = range(6)


def live_a_subscription_at_stripe(stack: Stack, user: str) -> str:
    """Core, upgraded to Pro in the dashboard, cancelled, resumed, cancelled again: no coinslot API call."""
    _, sub_id = subscribe(stack, user, plan="core")
    [pro] = stack.stripe.v1.prices.list(params={"lookup_keys": ["coinslot:plan:pro:month"]}).data
    item = stack.stripe.v1.subscriptions.retrieve(sub_id)["items"].data[0]
    stack.stripe.v1.subscriptions.update(
        sub_id,
        params={"items": [{"id": item.id, "price": pro.id}], "proration_behavior": "always_invoice"},
    )
    for cancel in (True, False, True):
        stack.stripe.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": cancel})
    return sub_id


def test_shuffled_and_duplicated_deliveries_of_a_subscriptions_life_end_in_stripes_state(
    stack: Stack,
) -> None:
    push_catalog(stack)
    reordered = 0
    for seed in SEEDS:
        stack.sim.faults.configure(
            {"seed": seed, "webhooks": {"shuffle": True, "shuffle_window_ms": 50, "duplicate": 0.3}}
        )
        user = f"shuffled_{seed}"
        sub_id = live_a_subscription_at_stripe(stack, user)
        stack.settle()
        at_stripe = stack.stripe.v1.subscriptions.retrieve(sub_id)
        row = mirror(stack, sub_id)
        assert row is not None, seed
        item = at_stripe["items"].data[0]
        assert (row.status, row.plan_key, row.cancel_at_period_end) == (at_stripe.status, "pro", True), seed
        assert int(row.current_period_end.timestamp()) == item.current_period_end, seed
        invoices = stack.stripe.v1.invoices.list(params={"subscription": sub_id}).data
        grants = [(entry_id, delta) for entry_id, kind, delta in ledger(stack, user) if kind == "grant"]
        # Each invoice granted once, and the period holds Pro's 100 whichever invoice came first
        # (in order: Core's 25, then the upgrade's 75; shuffled: the upgrade's 100, then nothing).
        assert sorted(entry_id for entry_id, _ in grants) == sorted(f"invoice:{i.id}" for i in invoices), seed
        assert sum(delta for _, delta in grants) == 100, (seed, grants)
        emitted = [event["id"] for event in stripe_events(stack, "customer.subscription.updated")]
        received = [row.stripe_event_id for row in inbox(stack, "customer.subscription.updated")]
        reordered += [e for e in received if e in emitted] != [e for e in emitted if e in received]
        stack.sim.faults.clear()
    assert {row.status for row in inbox(stack) if row.status != "ignored"} == {"processed"}
    assert reordered > 0  # the faults did shuffle some deliveries
