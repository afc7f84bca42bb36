"""The "existing account" fixture: a seeded Stripe account with history, as an importer finds
it through the API (customers linked by metadata, subscriptions with quantities, add-ons,
discounts, a retired price and an unmapped one), the same for the same seed."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from tests.stripesim.billing_helpers import T0
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape

HISTORY_START = 1_759_276_800  # 2025-10-01, three months before T0


def _fixture(sim: SimHelper, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = sim.control("POST", "/_sim/fixtures/existing_account", params)
    return result


def _without_ids(manifest: dict[str, Any]) -> list[Any]:
    keys = {price_id: key for key, price_id in manifest["prices"].items()}
    found = []
    for customer in manifest["customers"]:
        sub = customer["subscription"]
        found.append((customer["email"], customer["name"], customer["host_user_id"], sub and (
            sub["status"], sub["coupon"], sub["cancel_at_period_end"],
            [(keys[i["price"]], i["quantity"]) for i in sub["items"]])))
    return found


def test_the_same_seed_gives_the_same_account(sim: SimHelper) -> None:
    first = _fixture(sim, seed=42, count=30, frozen_time=T0)
    sim.reset()
    again = _fixture(sim, seed=42, count=30, frozen_time=T0)
    assert _without_ids(first) == _without_ids(again)
    sim.reset()
    other = _fixture(sim, seed=43, count=30, frozen_time=T0)
    assert _without_ids(other) != _without_ids(first)


def _api_subscriptions(sim: SimHelper) -> dict[str, Any]:
    listed = sim.client.v1.subscriptions.list(params={"status": "all", "limit": 100,
                                                      "expand": ["data.discounts"]})
    return {sub.id: sub for sub in listed.auto_paging_iter()}


def test_an_account_of_two_hundred_subscriptions_with_history(sim: SimHelper) -> None:
    started = time.perf_counter()
    manifest = _fixture(sim, seed=7, count=200, frozen_time=T0, history_months=3)
    print(f"\nexisting account of 200 customers, 3 months of history: "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    clock = sim.client.v1.test_helpers.test_clocks.retrieve(manifest["test_clock"])
    assert (clock.status, clock.frozen_time) == ("ready", T0)
    assert sim.client.v1.events.list().data == []  # history the integration never saw
    customers = manifest["customers"]
    assert len(customers) == 200
    linked = [c for c in customers if c["host_user_id"]]
    assert 150 < len(linked) < 200  # some need a mapping file
    found = sim.client.v1.customers.search(params={
        "query": f"metadata['host_user_id']:'{linked[0]['host_user_id']}'"})
    assert [c.id for c in found.data] == [linked[0]["id"]]
    subs = _api_subscriptions(sim)
    with_sub = [c for c in customers if c["subscription"]]
    assert len(subs) == len(with_sub)
    for customer in with_sub:
        described = customer["subscription"]
        sub = subs[described["id"]]
        assert sub.customer == customer["id"]
        assert sub.status == described["status"]
        assert sorted((i.price.id, i.quantity) for i in sub["items"].data) == sorted(
            (i["price"], i["quantity"]) for i in described["items"])
        assert [d.source.coupon for d in sub.discounts] == (
            [described["coupon"]] if described["coupon"] else [])
    statuses = Counter(sub.status for sub in subs.values())
    assert statuses["active"] > 150
    assert statuses["canceled"] > 0
    assert any(sub.cancel_at_period_end for sub in subs.values())
    keys = Counter(i["lookup_key"] for c in with_sub for i in c["subscription"]["items"])
    assert keys["team_seat_monthly"] > 0
    assert keys["extra_tokens_monthly"] > 0
    assert keys["pro_monthly_2024"] > 0  # the retired price, still billed
    assert keys[None] > 0  # the hand-made price no plan maps to
    assert any(i["quantity"] > 1 for c in with_sub for i in c["subscription"]["items"])
    legacy = sim.client.v1.prices.retrieve(manifest["prices"]["legacy"])
    assert (legacy.active, legacy.lookup_key) == (False, "pro_monthly_2024")
    assert sim.client.v1.prices.retrieve(manifest["prices"]["custom"]).lookup_key is None
    history = sim.client.v1.invoices.list(params={"status": "paid", "limit": 100}).data
    assert any(i.billing_reason == "subscription_cycle" for i in history)
    assert all(HISTORY_START <= i.created <= T0 for i in history)
    assert_stripe_shape(next(iter(subs.values())))


def test_hand_computed_mrr_from_the_api(sim: SimHelper) -> None:
    """What an importer computes (monthly value in cents, discounts applied, yearly / 12),
    against the same sum from the manifest: the fixture says what it made."""
    manifest = _fixture(sim, seed=3, count=40, frozen_time=T0)
    coupons = {c: sim.client.v1.coupons.retrieve(c) for c in manifest["coupons"]}

    def monthly(items: list[tuple[int, int, str]], coupon: str | None) -> int:
        total = sum(amount * quantity // (12 if interval == "year" else 1)
                    for amount, quantity, interval in items)
        if coupon is None:
            return total
        terms = coupons[coupon]
        if terms.percent_off:
            return total - (total * int(terms.percent_off) + 50) // 100
        return max(0, total - int(terms.amount_off))

    expected = sum(monthly([(i["unit_amount"], i["quantity"], i["interval"])
                            for i in c["subscription"]["items"]], c["subscription"]["coupon"])
                   for c in manifest["customers"]
                   if c["subscription"] and c["subscription"]["status"] in ("active", "past_due"))
    from_api = 0
    for sub in _api_subscriptions(sim).values():
        if sub.status not in ("active", "past_due"):
            continue
        items = [(i.price.unit_amount, i.quantity, i.price.recurring.interval)
                 for i in sub["items"].data]
        from_api += monthly(items, sub.discounts[0].source.coupon if sub.discounts else None)
    assert from_api == expected > 0


def test_events_on_demand_and_no_history_without_a_clock(sim: SimHelper) -> None:
    manifest = _fixture(sim, seed=1, count=3, events=True)
    assert manifest["test_clock"] is None
    listed = sim.client.v1.events.list(params={"limit": 100}).data
    assert "customer.subscription.created" in {e.type for e in listed}
    refused = sim.http.post("/_sim/fixtures/existing_account",
                            json={"seed": 1, "count": 3, "history_months": 2})
    assert refused.status_code == 400
