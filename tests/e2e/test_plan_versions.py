"""The operator changes Pro as a new version: its subscribers keep the old one until they are moved.

Pro was $14.99 with 100 credits. Version v2 costs $19.99, grants 150 credits and adds batch export.
New subscribers get v2 at once; Ada, who subscribed before, keeps v1 (her price, her credits, her
features) until `coinslot plans migrate --from v1 --to v2` moves her: at her period end (no proration;
her renewal bills v2 and grants v2's credits), or now (prorated and invoiced at once).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from coinslot.analytics import service as analytics
from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from coinslot.cli import app as cli
from coinslot.models import OutboxMessage
from tests.e2e.billing import cli_env, inbox, mirror
from tests.e2e.billing_user import User, assert_ledger_exact, credits
from tests.support.dates import MID_MONTH, start_dates
from tests.support.stack import CATALOGS, Stack

PRO_V1 = """[plans.pro]
type = "subscription"
name = "Pro"
description = "Advanced PatchBook features"
prices = { monthly = "14.99" }
credits_per_period = 100
features = ["demo", "patchbook", "export", "advanced_patchbook"]
bullets = ["100 credits every month", "Advanced PatchBook features"]
popular = true
allow_promotion_codes = true
"""
PRO_V2 = """[features.batch_export]
name = "Batch export"

[plans.pro]
type = "subscription"
name = "Pro"
description = "Advanced PatchBook features"
version = "v2"
prices = { monthly = "19.99" }
credits_per_period = 150
features = ["demo", "patchbook", "export", "advanced_patchbook", "batch_export"]
bullets = ["150 credits every month", "Batch export"]
popular = true
allow_promotion_codes = true
"""
PRO_V1_KEPT = """
[plans.pro.versions.v1]
prices = { monthly = "14.99" }
credits_per_period = 100
features = ["demo", "patchbook", "export", "advanced_patchbook"]
"""


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """The operator's own copy of Patch-Hive's catalog, which the stories edit."""
    copy = tmp_path / "catalog.toml"
    shutil.copy(CATALOGS / "patch_hive.toml", copy)
    text = copy.read_text()
    assert PRO_V1 in text
    return copy


@pytest.fixture
def stack(database_url: str, catalog_file: Path) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog=catalog_file)
    yield running
    running.stop()


def push(stack: Stack, catalog_file: Path) -> None:
    gateway = stack.container.gateway
    catalog_flows.apply_push(gateway, catalog_flows.plan_push(gateway, load_catalog(catalog_file)))
    stack.settle()


def release_pro_v2(stack: Stack, catalog_file: Path) -> None:
    """The operator writes Pro v2, keeps v1's terms for its subscribers, and pushes."""
    text = catalog_file.read_text()
    catalog_file.write_text(text.replace(PRO_V1, PRO_V2 + PRO_V1_KEPT))
    push(stack, catalog_file)


def migrate(stack: Stack, user: User, *args: str) -> Any:
    """`coinslot plans migrate --from v1 --to v2 ... --json`, on the user's test clock (the CLI follows it,
    as coinslot's server does; read once: a command of seconds needs no polling)."""
    env = {**cli_env(stack), "COINSLOT_STRIPE_TEST_CLOCK": user.test_clock_id,
           "COINSLOT_STRIPE_TEST_CLOCK_POLL_S": "86400"}
    command = ["plans", "migrate", "--from", "v1", "--to", "v2", *args, "--json"]
    ran = CliRunner().invoke(cli, command, env=env)
    assert ran.exit_code == 0, ran.output
    assert "subscriptions" in ran.stderr  # progress
    return json.loads(ran.stdout)


def version_events(stack: Stack) -> list[dict[str, Any]]:
    with stack.container.db.unit_of_work(read_only=True) as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.event_type == "subscription.plan_version_changed").order_by(OutboxMessage.id))
        return [json.loads(row.payload) for row in rows]


def per_version(stack: Stack) -> list[tuple[str, str, int]]:
    """The admin console's subscribers per plan version, as the figures compute them."""
    catalog = load_catalog(stack.container.settings.catalog_path)
    with stack.container.db.unit_of_work(read_only=True) as session:
        figures = analytics.figures(session, catalog=catalog, now=stack.clock.now())
    return [(row.plan_key, row.version, row.count) for row in figures.versions]


def admin_dashboard(stack: Stack) -> str:
    with httpx.Client(base_url=stack.url, timeout=30) as browser:
        form = browser.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        browser.post("/admin/login", data={"csrf_token": token.group(1), "password": "admin-e2e"})
        page = browser.get("/admin")
    assert page.status_code == 200
    return page.text


def grants(user: User) -> list[tuple[str, int]]:
    return [(entry_id, delta) for entry_id, kind, delta, _ in user.entries() if kind == "grant"]


def billed_price(stack: Stack, subscription_id: str) -> tuple[int, str | None]:
    price = stack.stripe.v1.subscriptions.retrieve(subscription_id)["items"].data[0].price
    return price.unit_amount, price.metadata.to_dict().get("coinslot_version")


@start_dates()
def test_a_grandfathered_subscriber_keeps_v1_until_migrated_at_her_period_end(
    stack: Stack, catalog_file: Path, start_at: dt.datetime
) -> None:
    push(stack, catalog_file)
    ada = User.on_test_clock(stack, "ada", start_at)
    ada_sub = ada.subscribe("pro")
    first = ada.latest_invoice(ada_sub)

    release_pro_v2(stack, catalog_file)
    bea = User.on_test_clock(stack, "bea", start_at)
    bea_sub = bea.subscribe("pro")
    assert stack.stripe.v1.invoices.retrieve(bea.latest_invoice(bea_sub)).amount_paid == 1999
    assert (bea.credits(), bea.check("batch_export")["allowed"]) == (credits(150, period=150), True)

    # Ada is grandfathered: her price, her credits, her features, through a renewal.
    renewal = ada.renew(ada_sub)
    assert stack.stripe.v1.invoices.retrieve(renewal).amount_paid == 1499
    row = mirror(stack, ada_sub)
    assert row is not None
    assert (row.plan_key, row.plan_version, row.pending_plan_version) == ("pro", "v1", None)
    assert ada.credits() == credits(100, period=100)
    assert ada.check("batch_export")["reason"] == "feature_not_in_plan"

    assert per_version(stack) == [("pro", "v1", 1), ("pro", "v2", 1)]
    dry = migrate(stack, ada, "--dry-run")
    assert [(moved["host_user_id"], moved["subscription"]) for moved in dry["moved"]] == [("ada", ada_sub)]
    assert billed_price(stack, ada_sub) == (1499, "v1")  # a dry run changes nothing
    assert version_events(stack) == []

    period_end = ada.period_end(ada_sub)
    done = migrate(stack, ada, "--at", "period-end")
    assert (len(done["moved"]), done["failed"]) == (1, [])
    assert done["moved"][0]["effective_at"] == period_end.isoformat()
    stack.settle()
    assert billed_price(stack, ada_sub) == (1999, "v2")  # from the renewal on
    assert ada.latest_invoice(ada_sub) == renewal  # nothing charged now
    row = mirror(stack, ada_sub)
    assert row is not None
    assert (row.plan_version, row.pending_plan_version) == ("v1", "v2")  # the paid-for period keeps v1
    assert ada.check("batch_export")["reason"] == "feature_not_in_plan"
    again = migrate(stack, ada, "--at", "period-end")
    assert (again["moved"], again["failed"]) == ([], [])  # idempotent

    moved_renewal = ada.renew(ada_sub)
    assert stack.stripe.v1.invoices.retrieve(moved_renewal).amount_paid == 1999
    row = mirror(stack, ada_sub)
    assert row is not None
    assert (row.plan_version, row.pending_plan_version) == ("v2", None)
    assert ada.check("batch_export")["allowed"]
    assert grants(ada) == [(f"invoice:{first}", 100), (f"invoice:{renewal}", 100),
                           (f"invoice:{moved_renewal}", 150)]
    assert ada.credits() == credits(150, period=150)
    assert per_version(stack) == [("pro", "v1", 0), ("pro", "v2", 2)]
    assert [(event["host_user_id"], event["from_version"], event["to_version"], event["state"])
            for event in version_events(stack)] == [("ada", "v1", "v2", "scheduled"),
                                                    ("ada", "v1", "v2", "applied")]
    assert {event.status for event in inbox(stack)} <= {"processed", "ignored"}
    assert_ledger_exact(stack)


def test_a_migration_now_is_prorated_and_tops_the_period_up_to_v2s_credits(
    stack: Stack, catalog_file: Path
) -> None:
    push(stack, catalog_file)
    ada = User.on_test_clock(stack, "ada", MID_MONTH)
    ada_sub = ada.subscribe("pro")
    release_pro_v2(stack, catalog_file)
    ada.advance(days=10)

    done = migrate(stack, ada, "--at", "now")
    assert (len(done["moved"]), done["failed"]) == (1, [])
    stack.settle()
    upgrade = stack.stripe.v1.invoices.retrieve(ada.latest_invoice(ada_sub))
    assert upgrade.billing_reason == "subscription_update"
    assert 0 < upgrade.amount_paid < 1999 - 1499  # the unused part of the period, prorated
    row = mirror(stack, ada_sub)
    assert row is not None
    assert (row.plan_version, row.pending_plan_version) == ("v2", None)
    assert ada.credits()["period_credits"] == 150
    assert ada.credits()["available_credits"] == 150  # topped up by what the period had not received
    assert ada.check("batch_export")["allowed"]
    assert [event["state"] for event in version_events(stack)] == ["applied"]
    page = admin_dashboard(stack)
    assert "Subscribers per plan version" in page
    assert re.search(r"v1 <span class=\"muted\">\(grandfathered\)</span></td><td class=\"num\">0<", page)
    assert re.search(r"v2 <span class=\"muted\">\(sold now\)</span></td><td class=\"num\">1<", page)
    assert_ledger_exact(stack)


def test_migrate_refuses_versions_the_catalog_does_not_have_naming_the_option(
    stack: Stack, catalog_file: Path
) -> None:
    release_pro_v2(stack, catalog_file)
    runner = CliRunner()
    wrong_from = runner.invoke(cli, ["plans", "migrate", "--from", "v0", "--to", "v2"], env=cli_env(stack))
    assert wrong_from.exit_code != 0
    assert "v0" in wrong_from.output
    assert "from" in wrong_from.output
    wrong_to = runner.invoke(cli, ["plans", "migrate", "--from", "v1", "--to", "v3"], env=cli_env(stack))
    assert wrong_to.exit_code != 0
    assert "sells version 'v2', not 'v3'" in wrong_to.output
