"""The safety net converges: events Stripe never delivered (a disabled endpoint) or gave up on (an
outage longer than its retries) are read back from Stripe's events list into the inbox and applied by
the same handlers, so plans, grants, purchases and refunds all come out right, once."""

from __future__ import annotations

import threading
import time

from typer.testing import CliRunner

from coinslot.cli import app as cli
from coinslot.container import Container
from coinslot.webhooks.backfill import backfill_events, start_backfill_loop
from tests.e2e.billing import (
    buy_credits,
    cli_env,
    inbox,
    ledger,
    push_catalog,
    set_endpoint_enabled,
    stripe_events,
    subscribe,
    summary,
)
from tests.e2e.test_refunds_and_expiry import refund
from tests.support.stack import Stack

CORE_CREDITS = 25


def test_a_plan_bought_while_the_endpoint_was_disabled_is_restored_with_its_first_credits_once(
    stack: Stack,
) -> None:
    push_catalog(stack)
    stack.settle()
    set_endpoint_enabled(stack, False)
    _, sub_id = subscribe(stack, "disabled_1", plan="core")
    set_endpoint_enabled(stack, True)
    assert stack.settle() == 0  # Stripe owed a disabled endpoint nothing: nothing arrives, nothing retries
    assert summary(stack, "disabled_1")["plan"] == "free"
    assert stack.stripe.v1.events.list(params={"delivery_success": False}).data == []

    result = CliRunner().invoke(cli, ["reconcile"], env=cli_env(stack))
    assert result.exit_code == 0, result.output
    assert "undelivered event(s) stored from Stripe's events list" in result.output
    stack.settle()
    [paid] = stripe_events(stack, "invoice.paid")
    invoice_id = paid["data"]["object"]["id"]
    assert [entry for entry in ledger(stack, "disabled_1") if entry[1] == "grant"] == [
        (f"invoice:{invoice_id}", "grant", CORE_CREDITS)]
    shown = summary(stack, "disabled_1")
    assert (shown["plan"], shown["credits"]["available"]) == ("core", CORE_CREDITS)
    assert [row.status for row in inbox(stack, "invoice.paid")] == ["processed"]

    again = CliRunner().invoke(cli, ["reconcile"], env=cli_env(stack))  # nothing new: nothing twice
    assert again.exit_code == 0, again.output
    stack.settle()
    assert [entry for entry in ledger(stack, "disabled_1") if entry[1] == "grant"] == [
        (f"invoice:{invoice_id}", "grant", CORE_CREDITS)]
    assert sub_id in {row.object_id for row in inbox(stack, "customer.subscription.created")}


def test_an_outage_longer_than_stripes_retries_converges_through_the_workers_periodic_backfill(
    stack: Stack,
) -> None:
    push_catalog(stack)
    subscribe(stack, "outage_1", plan="core")
    stack.settle()
    assert summary(stack, "outage_1")["credits"]["available"] == CORE_CREDITS
    assert backfill_events(stack.container).ran  # the cursor now stands after everything delivered

    # coinslot's endpoint answers 500 to every try until Stripe gives up (its retries are compressed).
    endpoint = f"{stack.url}/webhooks/stripe"
    stack.sim.faults.configure({"webhooks": {"endpoint_failures": {endpoint: 1000}}})
    session_id = buy_credits(stack, "outage_1", 30)
    refund_id = refund(stack, session_id, 100)  # $1.00 of the $6.00: 5 of the 30 credits
    stack.sim.dispatcher.flush()
    given_up = stack.stripe.v1.events.list(params={"delivery_success": False, "limit": 100}).data
    assert {event.type for event in given_up} >= {"checkout.session.completed", "charge.refunded"}
    assert all(d["status"] == "failed" for d in stack.sim.dispatcher.deliveries()
               if d["event_id"] in {event.id for event in given_up})
    stack.sim.faults.clear()  # the outage ends; Stripe sends none of it again
    assert stack.settle() == 0

    # A worker's periodic backfill (COINSLOT_RECONCILE_INTERVAL_S) finds them.
    settings = stack.container.settings.model_copy(update={"reconcile_interval_s": 0.2})
    worker = Container(settings=settings, db=stack.container.db, clock=stack.container.clock)
    stop_loop = start_backfill_loop(worker)
    assert stop_loop is not None
    try:
        deadline = time.monotonic() + 60
        while not inbox(stack, "charge.refunded") and time.monotonic() < deadline:
            threading.Event().wait(0.1)
    finally:
        stop_loop()
    stack.settle()
    assert ledger(stack, "outage_1")[1:] == [
        (f"checkout:{session_id}", "purchase", 30),
        (f"refund:{refund_id}", "refund", -5),
    ]
    assert summary(stack, "outage_1")["credits"]["available"] == CORE_CREDITS + 25
    assert {row.status for row in inbox(stack)} <= {"processed", "ignored"}
    # Another run finds nothing new, and a late duplicate delivery changes nothing either.
    assert backfill_events(stack.container).stored == []
    stack.settle()
    assert summary(stack, "outage_1")["credits"]["available"] == CORE_CREDITS + 25
