"""QuantiPackAI's Starter gains overage while Ines is subscribed: her subscription has no metered item, so
Stripe would bill none of it, and coinslot refuses it (402 insufficient_credits) until the operator runs
`coinslot overage attach`; from then on her uses past the balance go into overage and the renewal invoice
charges exactly them. And a meter report that reaches Stripe after its period's invoice was finalized is
billed on no invoice: coinslot says so with an alert rather than losing it silently.

coinslot's REST API and CLI, stripesim with test clocks, real webhooks and the reporter's meter events.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from coinslot.cli import app as cli
from coinslot.models import Subscription
from coinslot.subscriptions.overage_attach import attach_overage_items
from tests.e2e.billing import alerts, cli_env
from tests.e2e.billing_user import User, assert_ledger_exact
from tests.e2e.test_overage_stories import (
    METERED_LOOKUP_KEY,
    assert_verified,
    metered_line,
    report,
    spend_the_month,
)
from tests.support.dates import start_dates
from tests.support.stack import CATALOGS, Stack

STARTER_OVERAGE = '[plans.starter.overage]\nprice_per_credit = "0.875"\ncap = "40.00"\n'


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """The operator's copy of QuantiPackAI's catalog, from before Starter had overage."""
    copy = tmp_path / "catalog.toml"
    shutil.copy(CATALOGS / "quantipackai.toml", copy)
    text = copy.read_text()
    assert STARTER_OVERAGE in text
    copy.write_text(text.replace(STARTER_OVERAGE, ""))
    return copy


@pytest.fixture
def stack(database_url: str, catalog_file: Path) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog=catalog_file)
    push(running, catalog_file)
    yield running
    running.stop()


def push(stack: Stack, catalog_file: Path) -> None:
    """`coinslot catalog push` of the file as it is now."""
    gateway = stack.container.gateway
    catalog_flows.apply_push(gateway, catalog_flows.plan_push(gateway, load_catalog(catalog_file)))
    stack.settle()


def give_starter_overage(stack: Stack, catalog_file: Path) -> None:
    """The operator adds overage to Starter and pushes: the meter and the metered prices exist now."""
    catalog_file.write_text(catalog_file.read_text() + "\n" + STARTER_OVERAGE)
    push(stack, catalog_file)


def attach(stack: Stack, user: User, *args: str) -> Any:
    """`coinslot overage attach ... --json`, on the user's test clock (the CLI follows it, as the server)."""
    env = {**cli_env(stack), "COINSLOT_STRIPE_TEST_CLOCK": user.test_clock_id,
           "COINSLOT_STRIPE_TEST_CLOCK_POLL_S": "86400"}
    ran = CliRunner().invoke(cli, ["overage", "attach", *args, "--json"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "subscriptions" in ran.stderr  # progress
    stack.settle()  # the update's customer.subscription.updated
    return json.loads(ran.stdout)


def item_prices(stack: Stack, subscription: str) -> list[tuple[str, str]]:
    items = stack.stripe.v1.subscriptions.retrieve(subscription)["items"].data
    return [(item.price.lookup_key, item.price.recurring.usage_type) for item in items]


def mirrored_metered_price(stack: Stack, subscription: str) -> str | None:
    with stack.container.db.unit_of_work(read_only=True) as session:
        return session.scalar(select(Subscription.metered_price_id)
                              .where(Subscription.stripe_subscription_id == subscription))


@start_dates()
def test_a_subscriber_from_before_overage_is_refused_it_until_attached_then_billed_exactly(
    stack: Stack, catalog_file: Path, start_at: dt.datetime
) -> None:
    ines = User.on_test_clock(stack, "ines", start_at)
    subscription = ines.subscribe("starter")
    assert item_prices(stack, subscription) == [("coinslot:plan:starter:month", "licensed")]
    give_starter_overage(stack, catalog_file)
    spend_the_month(ines)  # 5 of 50 tokens left

    # Starter has overage now, but Stripe would bill none of Ines's: refused as without overage.
    refused_check = {"allowed": False, "cost": 10, "remaining": 5, "reason": "insufficient_credits",
                     "plan": "starter", "overage": None}
    assert ines.check("spec_generator") == refused_check
    written = ines.entries()
    refused = ines.consume("spec_generator", "spec-4")
    assert (refused.status_code, refused.json()["error"]["code"]) == (402, "insufficient_credits")
    assert ines.entries() == written

    dry = attach(stack, ines, "--dry-run")
    metered_price = stack.stripe.v1.prices.list(params={"lookup_keys": [METERED_LOOKUP_KEY]}).data[0].id
    assert (dry["dry_run"], dry["attached"], dry["already"], dry["failed"]) == (
        True, [{"host_user_id": "ines", "subscription": subscription, "plan_key": "starter",
                "metered_price_id": metered_price}], 0, [])
    assert item_prices(stack, subscription) == [("coinslot:plan:starter:month", "licensed")]  # read only
    assert ines.check("spec_generator") == refused_check

    done = attach(stack, ines)
    assert (len(done["attached"]), done["already"], done["failed"]) == (1, 0, [])
    assert item_prices(stack, subscription) == [("coinslot:plan:starter:month", "licensed"),
                                                (METERED_LOOKUP_KEY, "metered")]
    assert mirrored_metered_price(stack, subscription) == metered_price
    again = attach(stack, ines)  # nothing left to attach: no second metered item
    assert (again["attached"], again["already"], again["failed"]) == ([], 0, [])
    assert len(item_prices(stack, subscription)) == 2

    # Now the same uses go into overage: 5 beyond the 5 left, then 8 more; 13 x 87.5 cents = 1138.
    first = ines.consume("spec_generator", "spec-4")
    assert (first.status_code, first.json()["reason"]) == (200, "overage")
    assert first.json()["overage"]["credits"] == 5
    second = ines.consume("suite_analyzer", "suite-1", complexity="high")
    assert second.json()["overage"] == {"credits": 8, "cost_minor": 700, "currency": "usd",
                                        "period_credits": 13, "period_cost_minor": 1138, "within_cap": True}
    assert report(stack) == 2
    assert_verified(stack)

    renewal = ines.renew(subscription)
    assert metered_line(stack, renewal) == (13, 1138)  # exactly the uses after the item was attached
    invoice = stack.stripe.v1.invoices.retrieve(renewal)
    assert (invoice.status, invoice.amount_paid) == ("paid", 3900 + 1138)
    assert ines.credits()["available_credits"] == 50
    assert_verified(stack)
    assert_ledger_exact(stack)
    assert [alert.code for alert in alerts(stack)] == []


def test_after_the_upgrade_attach_records_the_items_subscriptions_carry_without_adding_any(
    stack: Stack, catalog_file: Path
) -> None:
    give_starter_overage(stack, catalog_file)
    ines = User.on_test_clock(stack, "ines")
    subscription = ines.subscribe("starter")  # checkout adds the metered item
    spend_the_month(ines)
    # As revision 0012 leaves a row mirrored before it: no metered price recorded, so overage is refused.
    with stack.container.db.unit_of_work() as session:
        session.execute(update(Subscription).values(metered_price_id=None))
    assert ines.check("spec_generator")["reason"] == "insufficient_credits"
    # The flow behind `coinslot overage attach`, run by the server's process (its clock is the stack's).
    done = attach_overage_items(stack.container)
    assert (done.attached, done.already, done.failed) == ([], 1, [])
    assert [usage for _key, usage in item_prices(stack, subscription)] == ["licensed", "metered"]
    assert ines.check("spec_generator")["reason"] == "overage"


def test_an_overage_report_sent_after_its_periods_invoice_was_finalized_raises_an_alert(
    stack: Stack, catalog_file: Path
) -> None:
    give_starter_overage(stack, catalog_file)
    ines = User.on_test_clock(stack, "ines")
    subscription = ines.subscribe("starter")
    spend_the_month(ines)
    used = ines.consume("spec_generator", "spec-4", complexity="high")  # 15 with 5 left: 10 beyond
    assert used.json()["reason"] == "overage"
    # The reporter was down past the renewal (2 hours after the period end: the invoice is final).
    renewal = ines.renew(subscription)
    assert metered_line(stack, renewal) == (0, 0)
    assert report(stack) == 1  # Stripe accepts the event (it is within 35 days) but no invoice counts it
    late = [alert for alert in alerts(stack) if alert.code == "overage.report_late"]
    assert len(late) == 1, [alert.message for alert in alerts(stack)]
    assert "overage of 10 credit(s)" in late[0].message
    assert_verified(stack)  # the ledger and the reports agree: what is missing is Stripe's invoice line
