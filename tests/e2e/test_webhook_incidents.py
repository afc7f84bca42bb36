"""The incidents of public Stripe integrations, each replayed against coinslot and stripesim over HTTP.

Every story runs on SQLite and on PostgreSQL. Stripe's side is stripesim's
billing engine (Checkout, subscriptions, invoices, signed deliveries, faults);
coinslot runs as a real server and its worker re-reads Stripe over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from coinslot.cli import app as cli
from tests.e2e.billing import (
    alerts,
    attempts,
    cli_env,
    deliver,
    deliver_concurrently,
    deliveries,
    failing_ledger_writes,
    inbox,
    ledger,
    mirror,
    pay,
    push_catalog,
    set_endpoint_enabled,
    settle_when_due,
    settle_with_workers,
    start_checkout,
    stored_event,
    stripe_events,
    subscribe,
    summary,
)
from tests.support.stack import Stack

PRO_CREDITS = 100


@pytest.fixture
def quick_retries(database_url: str) -> Iterator[Stack]:
    """A stack whose worker gives up after 3 attempts, retrying 15-60 s (coinslot's clock) after a failure.

    Quick because `settle_when_due` moves coinslot's clock to the retry instead of waiting. The backoff
    itself must outlast any `settle()`: with a fraction of a second, a loaded machine let the retry come
    due inside the settle that recorded the failure, and the test saw 2 attempts where it caused 1.
    """
    running = Stack.start(
        database_url, webhook_retry_base_s=30.0, webhook_retry_cap_s=60.0, webhook_max_attempts=3
    )
    yield running
    running.stop()


def grant_of(stack: Stack, user: str) -> list[tuple[str, str, int]]:
    return [entry for entry in ledger(stack, user) if entry[0].startswith("invoice:")]


def test_a_duplicate_invoice_paid_delivered_twice_at_once_grants_once(stack: Stack) -> None:
    push_catalog(stack)
    stack.sim.faults.configure({"webhooks": {"duplicate": 1.0}})  # Stripe sends every event twice
    _, sub_id = subscribe(stack, "dup_1")
    stack.sim.dispatcher.flush()
    [paid] = stripe_events(stack, "invoice.paid")
    # ...and while those two were on their way, ten more copies of the same delivery at the same moment.
    answers = deliver_concurrently(stack, paid, copies=10)
    assert [answer.status_code for answer in answers] == [200] * 10
    assert all(answer.json()["duplicate"] for answer in answers)
    sent = deliveries(stack, paid["id"])
    assert [(d["duplicate"], d["last_http_status"]) for d in sent] == [(False, 200), (True, 200)]
    settle_with_workers(stack, workers=2)  # two workers race for the inbox
    assert [row.stripe_event_id for row in inbox(stack, "invoice.paid")] == [paid["id"]]
    assert (stored_event(stack, paid["id"]).status, attempts(stack, paid["id"])) == (
        "processed",
        ["processed"],
    )
    invoice_id = paid["data"]["object"]["id"]
    assert grant_of(stack, "dup_1") == [(f"invoice:{invoice_id}", "grant", PRO_CREDITS)]
    assert summary(stack, "dup_1")["credits"]["available"] == PRO_CREDITS
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.status, row.plan_key) == ("active", "pro")


def test_the_same_invoice_under_a_different_event_id_grants_once(stack: Stack) -> None:
    push_catalog(stack)
    subscribe(stack, "resent_1")
    stack.settle()
    [paid] = stripe_events(stack, "invoice.paid")
    invoice_id = paid["data"]["object"]["id"]
    # The same invoice arrives again wrapped in another event (a second integration path, a hand-made resend).
    rewrapped = {**paid, "id": "evt_rewrapped_" + invoice_id}
    answer = deliver(stack, rewrapped)
    assert answer.json() == {"received": True, "duplicate": False}
    # ...and an operator replays the original on top.
    replayed = CliRunner().invoke(cli, ["events", "replay", paid["id"]], env=cli_env(stack))
    assert replayed.exit_code == 0, replayed.output
    stack.settle()
    assert stored_event(stack, rewrapped["id"]).status == "processed"
    assert attempts(stack, paid["id"]) == ["processed", "processed"]
    assert grant_of(stack, "resent_1") == [(f"invoice:{invoice_id}", "grant", PRO_CREDITS)]
    assert summary(stack, "resent_1")["credits"]["available"] == PRO_CREDITS


def test_one_purchase_granted_by_both_checkout_session_completed_and_invoice_paid_once(stack: Stack) -> None:
    push_catalog(stack)
    session_id, sub_id = subscribe(stack, "both_1")
    back = stack.api.post(f"/v1/checkout/sessions/{session_id}/fulfil").json()  # the user's return, too
    assert back["payment_status"] == "paid"
    stack.settle()
    statuses = {row.type: row.status for row in inbox(stack)}
    assert statuses["checkout.session.completed"] == "processed"
    assert statuses["invoice.paid"] == "processed"
    [paid] = stripe_events(stack, "invoice.paid")
    # One entry, keyed by the invoice: the checkout grants nothing for a subscription.
    assert ledger(stack, "both_1") == [(f"invoice:{paid['data']['object']['id']}", "grant", PRO_CREDITS)]
    assert summary(stack, "both_1")["credits"]["available"] == PRO_CREDITS
    assert stack.stripe.v1.subscriptions.retrieve(sub_id).status == "active"


def test_an_event_marked_processed_before_its_effect_is_retried_and_the_retry_applies(
    quick_retries: Stack,
) -> None:
    # The incident: the event was marked processed, then its grant failed; Stripe's retry was skipped
    # as a duplicate and the credits were lost. Here the mark commits with the effect.
    stack = quick_retries
    push_catalog(stack)
    with failing_ledger_writes(stack, "invoice:", "disk hiccup in the middle of the grant"):
        _, sub_id = subscribe(stack, "lost_1")
        stack.settle()
        [paid] = stripe_events(stack, "invoice.paid")
        failed = stored_event(stack, paid["id"])
        assert (failed.status, failed.attempts, failed.processed_at) == ("failed", 1, None)
        assert "disk hiccup" in (failed.last_error or "")
        assert failed.next_attempt_at is not None
        assert ledger(stack, "lost_1") == []
        # Stripe delivers the same event again: known, so not stored twice, and not taken as done.
        assert deliver(stack, paid).json() == {"received": True, "duplicate": True}
        assert stored_event(stack, paid["id"]).status == "failed"
    settle_when_due(stack)  # the database is back; the worker's retry comes due
    assert attempts(stack, paid["id"]) == ["failed", "processed"]
    assert grant_of(stack, "lost_1") == [(f"invoice:{paid['data']['object']['id']}", "grant", PRO_CREDITS)]
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.status, row.plan_key) == ("active", "pro")


def test_subscription_updated_active_before_created_incomplete_ends_active(stack: Stack) -> None:
    push_catalog(stack)
    stack.api.post("/v1/customers", json={"host_user_id": "order_1", "email": "order_1@example.com"})
    stack.sim.dispatcher.flush()
    set_endpoint_enabled(stack, False)  # hold Stripe's deliveries: the test plays the network
    _, sub_id = subscribe(stack, "order_1")
    set_endpoint_enabled(stack, True)
    [created] = stripe_events(stack, "customer.subscription.created")
    updated = next(
        event
        for event in stripe_events(stack, "customer.subscription.updated")
        if event["data"]["object"]["status"] == "active"
    )
    assert created["data"]["object"]["status"] == "incomplete"
    assert updated["data"]["previous_attributes"]["status"] == "incomplete"
    deliver(stack, updated)
    stack.settle()
    deliver(stack, created)  # the older event arrives last
    stack.settle()
    first, second = stored_event(stack, updated["id"]), stored_event(stack, created["id"])
    assert (first.status, second.status) == ("processed", "processed")
    assert first.processed_at is not None
    assert second.processed_at is not None
    assert first.processed_at <= second.processed_at
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.status, row.plan_key) == ("active", "pro")
    assert summary(stack, "order_1")["plan"] == "pro"


def test_never_paid_incomplete_subscriptions_3ds_never_completed_get_no_paid_tier_and_no_credits(
    stack: Stack,
) -> None:
    # The incident: 85 subscriptions whose 3-D Secure challenge was never completed got Pro and credits,
    # because "checkout complete" was read as "paid". A handful of them here.
    push_catalog(stack)
    users = [f"threeds_{n}" for n in range(4)]
    sessions = {}
    for user in users:
        started = start_checkout(
            stack, host_user_id=user, email=f"{user}@example.com", plan="pro", interval="month"
        )
        pay(stack, started["session_id"], card="pm_card_threeDSecure2Required")  # the challenge is left open
        sessions[user] = started["session_id"]
    stack.settle()
    for user in users:
        back = stack.api.post(f"/v1/checkout/sessions/{sessions[user]}/fulfil").json()  # a host asks anyway
        assert (back["payment_status"], back["applied"]) == ("unpaid", False)
        shown = summary(stack, user)
        assert (shown["plan"], shown["access_reason"]) == ("free", "incomplete")
        assert ledger(stack, user) == []
    subscriptions = stack.stripe.v1.subscriptions.list(params={"status": "incomplete"}).data
    assert len(subscriptions) == len(users)
    for subscription in subscriptions:
        row = mirror(stack, subscription.id)
        assert row is not None
        assert (row.status, row.plan_key) == ("incomplete", "pro")
    assert [row.status for row in inbox(stack, "customer.subscription.created")] == ["processed"] * len(users)
    assert inbox(stack, "invoice.paid") == []


def test_the_customer_back_from_checkout_before_the_webhook_sees_the_plan(stack: Stack) -> None:
    push_catalog(stack)
    set_endpoint_enabled(stack, False)  # the webhooks are late
    known = len(inbox(stack))  # the catalog's product and price events
    session_id, sub_id = subscribe(stack, "early_1")
    back = stack.api.post(f"/v1/checkout/sessions/{session_id}/fulfil").json()
    assert (back["mode"], back["payment_status"]) == ("subscription", "paid")
    assert len(inbox(stack)) == known  # no webhook about this purchase has arrived
    shown = summary(stack, "early_1")
    assert (shown["plan"], shown["subscription"]["status"]) == ("pro", "active")
    assert shown["credits"]["available"] == PRO_CREDITS
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.status, row.plan_key) == ("active", "pro")
    # The webhooks come later (here: redelivered by hand, as Stripe's retry would): nothing twice.
    late = ("customer.subscription.created", "invoice.paid", "checkout.session.completed")
    for event_type in late:
        for event in stripe_events(stack, event_type):
            deliver(stack, event)
    stack.settle()
    assert sorted((row.type, row.status) for row in inbox(stack) if row.type in late) == [
        ("checkout.session.completed", "processed"),
        ("customer.subscription.created", "processed"),
        ("invoice.paid", "processed"),
    ]
    assert [entry[2] for entry in ledger(stack, "early_1")] == [PRO_CREDITS]


def test_a_handler_lookup_miss_never_answers_400_and_the_event_waits_for_replay(
    quick_retries: Stack,
) -> None:
    # A subscription made at Stripe for the host's user (the customer names them in its metadata)
    # before coinslot linked that customer: every event about it is a lookup miss.
    stack = quick_retries
    push_catalog(stack)
    customer = stack.stripe.v1.customers.create(
        params={"email": "walkin@example.com", "metadata": {"coinslot_user_id": "walkin"}}
    )
    card = stack.stripe.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    [price] = stack.stripe.v1.prices.list(params={"lookup_keys": ["coinslot:plan:pro:month"]}).data
    subscription = stack.stripe.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}], "default_payment_method": card.id}
    )
    stack.settle()
    for _ in range(2):
        settle_when_due(stack)  # retried with backoff, then dead (3 attempts here)
    [created] = stripe_events(stack, "customer.subscription.created")
    every_attempt = [
        attempt["http_status"] for d in deliveries(stack, created["id"]) for attempt in d["history"]
    ]
    assert every_attempt == [200]  # acknowledged at once: Stripe never retries, never disables the endpoint
    assert stack.stripe.v1.webhook_endpoints.list().data[0].status == "enabled"
    dead = stored_event(stack, created["id"])
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert "no coinslot customer is linked" in (dead.last_error or "")
    assert {alert.code for alert in alerts(stack)} == {"webhook.dead"}
    assert mirror(stack, subscription.id) is None
    # The host creates the user; coinslot finds and links that Stripe customer; the operator replays.
    linked = stack.api.post("/v1/customers", json={"host_user_id": "walkin", "email": "walkin@example.com"})
    assert linked.json()["stripe_customer_id"] == customer.id
    replayed = CliRunner().invoke(cli, ["events", "replay", "--dead"], env=cli_env(stack))
    assert replayed.exit_code == 0, replayed.output
    stack.settle()
    assert {row.status for row in inbox(stack) if row.status != "ignored"} == {"processed"}
    row = mirror(stack, subscription.id)
    assert row is not None
    assert (row.status, row.plan_key) == ("active", "pro")
    assert [entry[2] for entry in grant_of(stack, "walkin")] == [PRO_CREDITS]


@pytest.mark.parametrize("status", [500, 429])
def test_stripe_500_or_429_during_a_reread_retries_later_with_no_partial_state(
    quick_retries: Stack, status: int
) -> None:
    stack = quick_retries
    push_catalog(stack)
    stack.api.post("/v1/customers", json={"host_user_id": "flaky_1", "email": "flaky_1@example.com"})
    set_endpoint_enabled(stack, False)
    _, sub_id = subscribe(stack, "flaky_1")
    set_endpoint_enabled(stack, True)
    # invoice.paid reads the invoice (fine), then the subscription: Stripe fails that read.
    stack.sim.faults.configure(
        {"api": [{"status": status, "path_prefix": f"/v1/subscriptions/{sub_id}", "method": "GET"}]}
    )
    [paid] = stripe_events(stack, "invoice.paid")
    deliver(stack, paid)
    stack.settle()
    failed = stored_event(stack, paid["id"])
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "StripeUnavailable" in (failed.last_error or "")
    assert mirror(stack, sub_id) is None  # nothing half-applied: no mirror row, no grant
    assert ledger(stack, "flaky_1") == []
    stack.sim.faults.clear()
    settle_when_due(stack)
    assert attempts(stack, paid["id"]) == ["failed", "processed"]
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.status, row.plan_key) == ("active", "pro")
    assert [entry[2] for entry in grant_of(stack, "flaky_1")] == [PRO_CREDITS]
