"""The operator reprices a plan: existing subscribers stay on it, at their old price, and renew with credits.

`catalog push` gives a changed amount a new Stripe price that takes the lookup
key over, and deactivates the old one. The old price keeps billing everyone
who had it, and keeps the `coinslot_key` metadata push wrote on it: that is
how coinslot still knows which plan it stands for.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from coinslot.cli import app as cli
from tests.e2e.billing import alerts, attempts, cli_env, inbox, mirror
from tests.e2e.billing_user import User, credits
from tests.support.stack import CATALOGS, Stack

CORE_AT_4_99 = 'prices = { monthly = "4.99" }\ncredits_per_period = 25'


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """The operator's own copy of Patch-Hive's catalog, which the stories edit."""
    copy = tmp_path / "catalog.toml"
    shutil.copy(CATALOGS / "patch_hive.toml", copy)
    return copy


@pytest.fixture
def stack(database_url: str, catalog_file: Path) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog=catalog_file)
    yield running
    running.stop()


def edit(catalog_file: Path, old: str, new: str) -> None:
    text = catalog_file.read_text()
    assert old in text
    catalog_file.write_text(text.replace(old, new))


def push(stack: Stack, catalog_file: Path) -> None:
    """`coinslot catalog push` of the edited file."""
    gateway = stack.container.gateway
    catalog_flows.apply_push(gateway, catalog_flows.plan_push(gateway, load_catalog(catalog_file)))
    stack.settle()


def grants(user: User) -> list[tuple[str, int]]:
    return [(entry_id, delta) for entry_id, kind, delta, _ in user.entries() if kind == "grant"]


def test_a_core_subscriber_renews_on_core_after_core_is_repriced(stack: Stack, catalog_file: Path) -> None:
    push(stack, catalog_file)
    ada = User.on_test_clock(stack, "ada")
    sub_id = ada.subscribe("core")
    first_invoice = ada.latest_invoice(sub_id)
    old_price = stack.stripe.v1.subscriptions.retrieve(sub_id)["items"].data[0].price.id

    edit(catalog_file, CORE_AT_4_99, CORE_AT_4_99.replace("4.99", "5.99"))
    push(stack, catalog_file)
    retired = stack.stripe.v1.prices.retrieve(old_price)
    assert (retired.active, retired.lookup_key) == (False, None)  # Ada's price lost its lookup key

    renewal = ada.renew(sub_id)
    assert stack.stripe.v1.invoices.retrieve(renewal).amount_paid == 499  # her old price, as promised
    assert (ada.summary()["plan"], ada.summary()["access_reason"]) == ("core", "active")
    assert grants(ada) == [(f"invoice:{first_invoice}", 25), (f"invoice:{renewal}", 25)]
    assert ada.credits() == credits(25, period=25)
    assert {event.status for event in inbox(stack)} <= {"processed", "ignored"}

    # A new subscriber pays the new price.
    bea = User.on_test_clock(stack, "bea")
    started = bea.start_checkout(plan="core", interval="month")
    assert started.status_code == 201, started.text
    assert started.json()["amount_total_minor"] == 599
    session = stack.stripe.v1.checkout.sessions.retrieve(
        started.json()["session_id"], params={"expand": ["line_items"]}
    )
    [line] = session.line_items.data
    assert (line.price.lookup_key, line.price.unit_amount) == ("coinslot:plan:core:month", 599)


def test_a_renewal_of_a_plan_removed_from_the_catalog_alerts_and_waits_for_a_replay(
    stack: Stack, catalog_file: Path
) -> None:
    push(stack, catalog_file)
    cy = User.on_test_clock(stack, "cy")
    sub_id = cy.subscribe("core")
    core_block = catalog_file.read_text().split("[plans.core]")[1].split("[plans.pro]")[0]
    edit(catalog_file, "[plans.core]" + core_block, "")  # the operator deletes Core by mistake
    edit(catalog_file, 'plans = ["core", "pro"]', 'plans = ["pro"]')  # and its auto top-up terms with it

    renewal = cy.renew(sub_id)
    [paid] = [event for event in inbox(stack, "invoice.paid") if renewal in event.payload]
    assert (paid.status, attempts(stack, paid.stripe_event_id)) == ("dead", ["dead"])  # no retry storm
    assert "which no plan of the catalog stands for" in (paid.last_error or "")
    assert [alert.code for alert in alerts(stack)] == ["webhook.unprocessable"] * len(
        [event for event in inbox(stack) if event.status == "dead"]
    )
    row = mirror(stack, sub_id)
    assert row is not None
    assert row.plan_key == "core"  # never silently dropped to the free plan

    edit(catalog_file, "[plans.pro]", "[plans.core]" + core_block + "[plans.pro]")
    edit(catalog_file, 'plans = ["pro"]', 'plans = ["core", "pro"]')
    for dead in [event.stripe_event_id for event in inbox(stack) if event.status == "dead"]:
        replayed = CliRunner().invoke(cli, ["events", "replay", dead], env=cli_env(stack))
        assert replayed.exit_code == 0, replayed.output
    stack.settle()
    assert (cy.summary()["plan"], cy.credits()) == ("core", credits(25, period=25))
    assert grants(cy)[-1] == (f"invoice:{renewal}", 25)
