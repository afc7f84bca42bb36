"""Core with a 14-day trial that asks for no card: what the trial's end does, per the catalog's option.

The catalog says `trial_without_card = "pause" | "cancel"`: Checkout starts the trial without a card
(`payment_method_collection=if_required`), and Stripe's `trial_settings.end_behavior.missing_payment_method`
decides the end. A subscriber who adds a card during the trial is converted: charged at its end.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from tests.e2e.billing import inbox, mirror
from tests.e2e.billing_user import User, assert_ledger_exact, credits
from tests.support.dates import start_dates
from tests.support.stack import CATALOGS, Stack

CORE = 'prices = { monthly = "4.99" }\ncredits_per_period = 25\n'


def with_trial(tmp_path: Path, behaviour: str) -> Path:
    copy = tmp_path / "catalog.toml"
    shutil.copy(CATALOGS / "patch_hive.toml", copy)
    text = copy.read_text()
    assert CORE in text
    copy.write_text(text.replace(CORE, CORE + f'trial_days = 14\ntrial_without_card = "{behaviour}"\n'))
    return copy


@pytest.fixture(params=["pause", "cancel"])
def behaviour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stack(database_url: str, tmp_path: Path, behaviour: str) -> Iterator[Stack]:
    catalog = with_trial(tmp_path, behaviour)
    running = Stack.start(database_url, catalog=catalog)
    gateway = running.container.gateway
    catalog_flows.apply_push(gateway, catalog_flows.plan_push(gateway, load_catalog(catalog)))
    yield running
    running.stop()


def start_trial(user: User) -> str:
    """Checkout for Core, completed without a card; returns the subscription id."""
    started = user.start_checkout(plan="core", interval="month")
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]
    session = user.stack.stripe.v1.checkout.sessions.retrieve(session_id)
    assert (session.payment_method_collection, session.amount_total) == ("if_required", 0)
    done = httpx.post(f"{user.stack.sim_server.url}/_sim/checkout/sessions/{session_id}/complete", json={},
                      timeout=30)
    assert done.status_code == 200, done.text
    assert done.json()["payment_status"] == "no_payment_required"
    user.stack.settle()
    return str(done.json()["subscription"])


def trial_end(user: User, subscription_id: str) -> dt.datetime:
    ends = user.stack.stripe.v1.subscriptions.retrieve(subscription_id).trial_end
    return dt.datetime.fromtimestamp(ends, dt.UTC)


@start_dates()
def test_a_trial_without_a_card_ends_as_the_catalog_says(stack: Stack, behaviour: str,
                                                         start_at: dt.datetime) -> None:
    ada = User.on_test_clock(stack, "ada", start_at)
    sub_id = start_trial(ada)
    subscription = stack.stripe.v1.subscriptions.retrieve(sub_id)
    assert subscription.trial_settings.end_behavior.missing_payment_method == behaviour
    assert (ada.summary()["plan"], ada.summary()["access_reason"]) == ("core", "trialing")
    assert ada.check("patchbook")["allowed"]
    assert ada.credits() == credits(25, period=25)  # the trial's $0 invoice grants the period

    stack.advance_clock(ada.test_clock_id, to=trial_end(ada, sub_id) + dt.timedelta(hours=2))
    stack.settle()
    ended = "paused" if behaviour == "pause" else "canceled"
    assert stack.stripe.v1.subscriptions.retrieve(sub_id).status == ended
    row = mirror(stack, sub_id)
    assert row is not None
    assert row.status == ended
    assert (ada.summary()["plan"], ada.summary()["access_reason"]) == ("free", ended)
    assert ada.check("patchbook")["reason"] == "feature_not_in_plan"
    assert len(stack.stripe.v1.invoices.list(params={"subscription": sub_id}).data) == 1  # nothing billed
    assert {event.status for event in inbox(stack)} <= {"processed", "ignored"}
    assert_ledger_exact(stack)


def test_a_card_added_during_the_trial_converts_it_at_its_end(stack: Stack, behaviour: str) -> None:
    ada = User.on_test_clock(stack, "ada")
    sub_id = start_trial(ada)
    card = stack.stripe.v1.payment_methods.attach("pm_card_visa", params={"customer": ada.stripe_customer_id})
    stack.stripe.v1.customers.update(ada.stripe_customer_id, params={
        "invoice_settings": {"default_payment_method": card.id}})
    first = ada.latest_invoice(sub_id)

    stack.advance_clock(ada.test_clock_id, to=trial_end(ada, sub_id) + dt.timedelta(hours=2))
    stack.settle()
    converted = ada.latest_invoice(sub_id)
    assert converted != first
    assert stack.stripe.v1.invoices.retrieve(converted).amount_paid == 499
    assert (ada.summary()["plan"], ada.summary()["access_reason"]) == ("core", "active")
    entries = [(entry_id, delta) for entry_id, kind, delta, _ in ada.entries() if kind == "grant"]
    assert entries == [(f"invoice:{first}", 25), (f"invoice:{converted}", 25)]
    assert_ledger_exact(stack)
