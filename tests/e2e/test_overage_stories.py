"""QuantiPackAI's Starter with overage, end to end: past the month's 50 tokens analyses go on, each token
beyond the balance billed at 87.5 cents (a Stripe meter, a metered price) on the renewal invoice, at most
$40 a month. coinslot's REST API, stripesim with test clocks, real webhooks and the reporter's meter events.

The rule for money: a period's overage costs round_half_up(tokens x 87.5 cents), computed on the period's
total, which is what Stripe's metered line computes; the ledger never goes below zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from coinslot.catalog import flows
from coinslot.catalog.core import OVERAGE_EVENT_NAME
from coinslot.catalog.parser import load_catalog
from coinslot.ledger import service as ledger
from coinslot.models import OverageReport
from coinslot.overage import service as overage
from coinslot.overage.reporter import report_due
from tests.e2e.billing_user import User, push_catalog
from tests.support.dates import start_dates
from tests.support.stack import CATALOGS, Stack

METERED_LOOKUP_KEY = "coinslot:plan:starter:overage:month"


@pytest.fixture
def quantipack(database_url: str) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog="quantipackai")
    push_catalog(running, "quantipackai")
    yield running
    running.stop()


def report(stack: Stack) -> int:
    """What the worker's reporter does: send every due overage report to Stripe's meter."""
    sent = 0
    while (claimed := report_due(stack.container)) > 0:
        sent += claimed
    return sent


def assert_verified(stack: Stack) -> None:
    """`coinslot credits verify`: the balances equal their entries, and every overage entry is reported
    once with the credits the ledger says."""
    with stack.container.db.unit_of_work(read_only=True) as session:
        problems = ledger.verify(session) + overage.verify(session)
    assert problems == [], "\n".join(str(problem) for problem in problems)


def meter_events(stack: Stack) -> list[dict[str, Any]]:
    answer = httpx.get(f"{stack.sim_server.url}/_sim/billing/meter_events", timeout=10)
    answer.raise_for_status()
    events: list[dict[str, Any]] = answer.json()["data"]
    return events


def metered_line(stack: Stack, invoice_id: str) -> tuple[int, int]:
    """(quantity, amount) of the invoice's overage line."""
    price = stack.stripe.v1.prices.list(params={"lookup_keys": [METERED_LOOKUP_KEY]}).data[0]
    lines = stack.stripe.v1.invoices.retrieve(invoice_id).lines.data
    found = [line for line in lines if line.pricing.price_details.price == price.id]
    assert len(found) == 1, [line.to_dict() for line in lines]
    return int(found[0].quantity), int(found[0].amount)


def spend_the_month(ines: User) -> None:
    """15 + 15 + 15 of the month's 50 tokens: 5 left."""
    for key in ("spec-1", "spec-2", "spec-3"):
        used = ines.consume("spec_generator", key, complexity="high")
        assert (used.status_code, used.json()["reason"]) == (200, "ok"), used.text
    assert ines.credits()["available_credits"] == 5


@start_dates()
def test_past_the_months_tokens_the_overage_is_billed_exactly_on_the_renewal_invoice(
    quantipack: Stack, start_at: dt.datetime
) -> None:
    ines = User.on_test_clock(quantipack, "ines", start_at)
    subscription = ines.subscribe("starter")
    items = quantipack.stripe.v1.subscriptions.retrieve(subscription)["items"].data
    assert [item.price.recurring.usage_type for item in items] == ["licensed", "metered"]
    spend_the_month(ines)

    # 10 tokens with 5 left: the call succeeds, 5 tokens beyond the balance, 437.5 -> 438 cents.
    assert ines.check("spec_generator") == {
        "allowed": True, "cost": 10, "remaining": 0, "reason": "overage", "plan": "starter",
        "overage": {"credits": 5, "cost_minor": 438, "currency": "usd", "period_credits": 5,
                    "period_cost_minor": 438, "within_cap": True},
    }
    first = ines.consume("spec_generator", "spec-4")
    assert (first.status_code, first.json()["reason"], first.json()["remaining"]) == (200, "overage", 0)
    # 8 more, all beyond: the period's 13 tokens cost 1137.5 -> 1138 cents, so this one adds 700.
    second = ines.consume("suite_analyzer", "suite-1", complexity="high")
    assert second.json()["overage"] == {"credits": 8, "cost_minor": 700, "currency": "usd",
                                        "period_credits": 13, "period_cost_minor": 1138, "within_cap": True}
    assert ines.entries()[-2:] == [
        (ines.key("spec-4"), "overage", -5, 0), (ines.key("suite-1"), "overage", 0, 0)]
    assert ines.credits()["available_credits"] == 0  # never negative
    assert_verified(quantipack)

    assert report(quantipack) == 2
    assert report(quantipack) == 0  # reported once
    counted = [(event["payload"]["value"], event["counted"]) for event in meter_events(quantipack)
               if event["event_name"] == OVERAGE_EVENT_NAME]
    assert counted == [("5", True), ("8", True)]

    renewal = ines.renew(subscription)
    assert metered_line(quantipack, renewal) == (13, 1138)  # exactly the overage, rounded once
    invoice = quantipack.stripe.v1.invoices.retrieve(renewal)
    assert (invoice.status, invoice.amount_paid) == ("paid", 3900 + 1138)
    # A new period: 50 new tokens, no overage yet.
    assert ines.credits()["available_credits"] == 50
    assert ines.check("spec_generator")["overage"] is None
    assert_verified(quantipack)


def test_the_cap_refuses_overage_past_40_dollars_and_changes_nothing(quantipack: Stack) -> None:
    ines = User.on_test_clock(quantipack, "ines")
    ines.subscribe("starter")
    spend_the_month(ines)
    # 15 with 5 left, 15, 15, then 5: 10 + 15 + 15 + 5 = 45 tokens beyond, $39.375 -> $39.38
    for feature, key in [("spec_generator", "over-1"), ("spec_generator", "over-2"),
                         ("spec_generator", "over-3"), ("suite_analyzer", "over-4")]:
        used = ines.consume(feature, key, complexity="high" if feature == "spec_generator" else "medium")
        assert used.status_code == 200, used.text
    assert used.json()["overage"]["period_cost_minor"] == 3938
    written = ines.entries()
    refused = ines.consume("suite_analyzer", "over-5", complexity="low")  # 4 more: $42.88 > $40
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "overage_cap_reached"
    assert ines.entries() == written
    checked = ines.check("suite_analyzer", complexity="low")
    assert (checked["allowed"], checked["reason"], checked["overage"]["within_cap"]) == (
        False, "overage_cap_reached", False)
    assert_verified(quantipack)


def test_a_retried_consume_and_a_resent_meter_event_bill_the_overage_once(quantipack: Stack) -> None:
    ines = User.on_test_clock(quantipack, "ines")
    subscription = ines.subscribe("starter")
    spend_the_month(ines)
    first = ines.consume("spec_generator", "late-1", complexity="high")  # 15: 10 beyond
    retried = ines.consume("spec_generator", "late-1", complexity="high")
    assert (retried.json()["replayed"], retried.json()["reason"], retried.json()["entry_id"]) == (
        True, "overage", first.json()["entry_id"])
    assert report(quantipack) == 1
    # A reporter that sent the event but died before recording it: the report is due again, and sent again
    # with the same identifier; Stripe counts it once.
    with quantipack.container.db.unit_of_work() as session:
        session.execute(update(OverageReport).values(status="pending", reported_at=None,
                                                     next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    assert report(quantipack) == 1
    events = [event for event in meter_events(quantipack) if event["event_name"] == OVERAGE_EVENT_NAME]
    assert [(event["payload"]["value"], event["counted"]) for event in events] == [("10", True)]
    renewal = ines.renew(subscription)
    assert metered_line(quantipack, renewal) == (10, 875)
    assert_verified(quantipack)


def test_catalog_push_makes_the_meter_and_the_metered_prices_once(quantipack: Stack) -> None:
    gateway = quantipack.container.gateway
    again = flows.plan_push(gateway, load_catalog(CATALOGS / "quantipackai.toml"))
    assert again.actions == []
    meters = quantipack.stripe.v1.billing.meters.list().data
    assert [(meter.event_name, meter.default_aggregation.formula) for meter in meters] == [
        (OVERAGE_EVENT_NAME, "sum")]
    prices = quantipack.stripe.v1.prices.list(params={"lookup_keys": [
        METERED_LOOKUP_KEY, "coinslot:plan:starter:overage:year"]}).data
    assert sorted((price.recurring.interval, str(price.unit_amount_decimal), price.recurring.meter)
                  for price in prices) == [("month", "87.5", meters[0].id), ("year", "87.5", meters[0].id)]


def test_a_plan_change_moves_the_metered_item_with_the_plan(quantipack: Stack) -> None:
    ines = User.on_test_clock(quantipack, "ines")
    subscription = ines.subscribe("starter")
    ines.change_plan("professional")  # an upgrade, now: Professional has no overage
    items = quantipack.stripe.v1.subscriptions.retrieve(subscription)["items"].data
    assert [item.price.lookup_key for item in items] == ["coinslot:plan:professional:month"]
    assert ines.summary()["subscription"]["plan"] == "professional"
    ines.change_plan("starter", timing="now")  # back: the metered item comes back with Starter
    items = quantipack.stripe.v1.subscriptions.retrieve(subscription)["items"].data
    assert [item.price.lookup_key for item in items] == ["coinslot:plan:starter:month", METERED_LOOKUP_KEY]
    assert_verified(quantipack)
