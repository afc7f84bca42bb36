"""A subscriber manages their plan: cancel, resume, upgrade, downgrade, the billing portal, and an
operator's `coinslot reconcile` after webhooks went missing. API and CLI, against stripesim."""

from __future__ import annotations

import re

import httpx
from typer.testing import CliRunner

from coinslot.cli import app as cli
from tests.e2e.billing import (
    cli_env,
    inbox,
    ledger,
    mirror,
    push_catalog,
    subscribe,
    summary,
)
from tests.support.stack import Stack

RETURN_URL = "http://127.0.0.1:5000/billing"


def subscribed(stack: Stack, user: str, plan: str) -> str:
    push_catalog(stack)
    _, sub_id = subscribe(stack, user, plan=plan)
    stack.settle()
    return sub_id


def test_cancel_at_period_end_keeps_the_plan_until_then_and_resume_takes_it_back(stack: Stack) -> None:
    sub_id = subscribed(stack, "leaving_1", "pro")
    canceled = stack.api.post("/v1/customers/leaving_1/subscription/cancel")
    assert canceled.status_code == 200, canceled.text
    assert (canceled.json()["status"], canceled.json()["cancel_at_period_end"]) == ("active", True)
    stack.settle()
    assert stack.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is True
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.status, row.plan_key, row.cancel_at_period_end) == ("active", "pro", True)
    assert summary(stack, "leaving_1")["plan"] == "pro"  # paid until the period ends
    resumed = CliRunner().invoke(cli, ["subscription", "resume", "leaving_1"], env=cli_env(stack))
    assert resumed.exit_code == 0, resumed.output
    assert f"{sub_id}: active on pro (month)" in resumed.output
    assert "cancels at period end" not in resumed.output
    stack.settle()
    assert stack.stripe.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False
    row = mirror(stack, sub_id)
    assert row is not None
    assert row.cancel_at_period_end is False
    assert {event.status for event in inbox(stack, "customer.subscription.updated")} == {"processed"}


def test_an_upgrade_applies_now_prorated_and_tops_up_the_periods_credits(stack: Stack) -> None:
    sub_id = subscribed(stack, "growing_1", "core")
    assert summary(stack, "growing_1")["credits"]["available"] == 25
    upgraded = stack.api.post("/v1/customers/growing_1/subscription/change", json={"plan": "pro"})
    assert upgraded.status_code == 200, upgraded.text
    assert (upgraded.json()["plan_key"], upgraded.json()["pending_plan_key"]) == ("pro", None)
    stack.settle()
    at_stripe = stack.stripe.v1.subscriptions.retrieve(sub_id)
    assert at_stripe["items"].data[0].price.lookup_key == "coinslot:plan:pro:month"
    invoices = stack.stripe.v1.invoices.list(params={"subscription": sub_id}).data
    proration = invoices[0]
    assert (proration.billing_reason, proration.status) == ("subscription_update", "paid")
    assert 0 < proration.amount_paid < 1499  # the rest of the period, less what Core already paid
    grants = [entry for entry in ledger(stack, "growing_1") if entry[1] == "grant"]
    assert [delta for _, _, delta in grants] == [25, 75]  # topped up to Pro's 100 for this period
    assert grants[1][0] == f"invoice:{proration.id}"
    assert summary(stack, "growing_1")["plan"] == "pro"


def test_a_downgrade_waits_for_the_period_end_by_default(stack: Stack) -> None:
    sub_id = subscribed(stack, "shrinking_1", "pro")
    changed = CliRunner().invoke(cli, ["subscription", "change", "shrinking_1", "core"], env=cli_env(stack))
    assert changed.exit_code == 0, changed.output
    assert "switching to core at period end" in changed.output
    stack.settle()
    at_stripe = stack.stripe.v1.subscriptions.retrieve(sub_id)
    assert at_stripe["items"].data[0].price.lookup_key == "coinslot:plan:core:month"
    assert (
        len(stack.stripe.v1.invoices.list(params={"subscription": sub_id}).data) == 1
    )  # nothing charged now
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.plan_key, row.pending_plan_key) == ("pro", "core")  # Pro was paid for until the period ends
    shown = summary(stack, "shrinking_1")
    assert (shown["plan"], shown["credits"]["available"]) == ("pro", 100)


def test_a_subscriber_switches_plan_in_the_billing_portal(stack: Stack) -> None:
    sub_id = subscribed(stack, "portal_1", "core")
    opened = stack.api.post(
        "/v1/customers/portal_1/portal", json={"return_url": RETURN_URL, "flow": "subscription_update"}
    )
    assert opened.status_code == 200, opened.text
    page = httpx.get(opened.json()["url"], timeout=30)
    assert page.status_code == 200
    [form] = [
        form for form in re.findall(r"<form[^>]*>.*?</form>", page.text, re.S) if 'name="price"' in form
    ]
    options = dict(re.findall(r'name="price" value="(price_\w+)" data-plan="([^"]+)"', form))
    pro_price = next(price for price, label in options.items() if label.startswith("Pro"))
    subscription_field = re.search(r'data-subscription="(sub_\w+)"', form)
    assert subscription_field is not None
    assert subscription_field.group(1) == sub_id
    submitted = httpx.post(
        opened.json()["url"],
        data={"subscription": sub_id, "price": pro_price, "action": "switch"},
        timeout=30,
    )
    assert (submitted.status_code, submitted.headers["location"]) == (303, RETURN_URL)
    stack.settle()
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.status, row.plan_key) == ("active", "pro")
    assert [delta for _, kind, delta in ledger(stack, "portal_1") if kind == "grant"] == [25, 75]
    assert summary(stack, "portal_1")["plan"] == "pro"


def test_reconcile_repairs_a_mirror_that_missed_webhooks_and_prints_what_changed(stack: Stack) -> None:
    sub_id = subscribed(stack, "drift_1", "pro")
    # coinslot's endpoint fails every delivery (an outage); meanwhile the plan changes at Stripe.
    stack.sim.faults.configure({"webhooks": {"endpoint_failures": {f"{stack.url}/webhooks/stripe": 1000}}})
    stack.stripe.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    stack.settle()
    row = mirror(stack, sub_id)
    assert row is not None
    assert row.cancel_at_period_end is False  # the mirror drifted
    stack.sim.faults.clear()
    result = CliRunner().invoke(cli, ["reconcile"], env=cli_env(stack))
    assert result.exit_code == 0, result.output
    assert "1 customer(s), 1 subscription(s) checked" in result.output
    assert sub_id in result.output
    assert "active/pro (cancels at period end)" in result.output
    assert "undelivered event(s) stored" in result.output
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.status, row.plan_key, row.cancel_at_period_end) == ("active", "pro", True)
    stack.settle()  # the recovered events are processed like deliveries: nothing changes twice
    assert {event.status for event in inbox(stack, "customer.subscription.updated")} == {"processed"}
    assert [delta for _, kind, delta in ledger(stack, "drift_1") if kind == "grant"] == [100]
    again = CliRunner().invoke(cli, ["reconcile"], env=cli_env(stack))
    assert "no subscription had drifted" in again.output
