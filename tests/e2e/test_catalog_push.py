"""`catalog push` against stripesim: products and prices appear once; a price change moves the lookup key."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from coinslot.catalog import flows
from coinslot.catalog.parser import load_catalog
from tests.support.stack import CATALOGS, STRIPE_KEY, Stack


def test_pushing_twice_creates_everything_once_and_then_changes_nothing(stack: Stack) -> None:
    gateway = stack.container.gateway
    catalog = load_catalog(CATALOGS / "patch_hive.toml")
    first = flows.plan_push(gateway, catalog)
    assert sorted(action.kind for action in first.actions) == ["create_price"] * 4 + ["create_product"] * 4
    flows.apply_push(gateway, first)
    second = flows.plan_push(gateway, catalog)
    assert second.is_empty
    assert second.unchanged == 4
    prices = stack.stripe.v1.prices.list(params={"lookup_keys": ["coinslot:plan:pro:month"]}).data
    assert [
        (price.unit_amount, price.recurring.interval if price.recurring else None) for price in prices
    ] == [(1499, "month")]
    products = stack.stripe.v1.products.list(params={"limit": 100}).data
    assert sorted(product.metadata["coinslot_key"] for product in products) == [
        "pack:credits",
        "plan:core",
        "plan:pro",
        "plan:studio",
    ]


def test_a_changed_amount_makes_a_new_price_that_takes_the_lookup_key(stack: Stack) -> None:
    gateway = stack.container.gateway
    catalog = load_catalog(CATALOGS / "patch_hive.toml")
    flows.apply_push(gateway, flows.plan_push(gateway, catalog))
    old = stack.stripe.v1.prices.list(params={"lookup_keys": ["coinslot:plan:pro:month"]}).data[0]
    pro = catalog.plans["pro"]
    dearer = dataclasses.replace(
        pro, prices={"month": dataclasses.replace(pro.prices["month"], amount_minor=1999)}
    )
    changed = dataclasses.replace(catalog, plans={**catalog.plans, "pro": dearer})
    plan = flows.plan_push(gateway, changed)
    assert [action.kind for action in plan.actions] == ["replace_price"]
    flows.apply_push(gateway, plan)
    new = stack.stripe.v1.prices.list(params={"lookup_keys": ["coinslot:plan:pro:month"]}).data
    assert [(price.unit_amount, price.active) for price in new] == [(1999, True)]
    assert new[0].id != old.id
    assert new[0].product == old.product
    retired = stack.stripe.v1.prices.retrieve(old.id)
    assert (retired.active, retired.lookup_key) == (False, None)
    assert flows.plan_push(gateway, changed).is_empty


def test_the_cli_prints_the_plan_and_a_dry_run_changes_nothing(stack: Stack, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COINSLOT_STRIPE_SECRET_KEY": STRIPE_KEY,
        "COINSLOT_STRIPE_API_BASE": stack.sim_server.url,
        "COINSLOT_CATALOG_PATH": str(CATALOGS / "skinova.toml"),
        "COINSLOT_STRIPE_MAX_NETWORK_RETRIES": "0",
        "COLUMNS": "200",
    }
    command = [sys.executable, "-m", "coinslot.cli", "catalog", "push"]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *extra], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )

    dry = run("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Stripe mode: test" in dry.stdout
    assert "create price coinslot:product:consultation: 4900 usd one-time" in dry.stdout
    assert "dry run: nothing changed" in dry.stdout
    assert stack.stripe.v1.products.list().data == []
    applied = run()
    assert applied.returncode == 0, applied.stderr
    assert "done: 4 changes applied" in applied.stdout
    again = run()
    assert "nothing to change (2 prices up to date)" in again.stdout
    live = subprocess.run(
        [*command],
        env={**env, "COINSLOT_STRIPE_SECRET_KEY": "sk_live_not_real"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert live.returncode == 2
    assert "pass --live" in live.stderr
    assert "Traceback" not in live.stderr
