"""The Python clients against a real coinslot + stripesim: the async one used as a FastAPI host would,
typed answers, the one error, and retries that honour Retry-After and never charge twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from coinslot.client import AsyncCoinslotClient, CoinslotClient, CoinslotError
from coinslot.entitlements.schemas import UseOut
from tests.e2e.billing_user import URLS, User, push_catalog
from tests.support.stack import Stack


@pytest.fixture
def patch_hive(database_url: str) -> Iterator[Stack]:
    stack = Stack.start(database_url, catalog="patch_hive")
    push_catalog(stack, "patch_hive")
    yield stack
    stack.stop()


def test_an_async_host_subscribes_consumes_is_refused_and_reads_the_state(patch_hive: Stack) -> None:
    ada = User.on_test_clock(patch_hive, "ada")

    async def story() -> None:
        async with AsyncCoinslotClient(patch_hive.url, patch_hive.api_key) as billing:
            plans = await billing.list_plans()
            assert [plan.key for plan in plans.plans] == ["free", "core", "pro", "studio"]
            started = await billing.start_checkout(host_user_id="ada", plan="core", **URLS)
            ada.pay(started.session_id)
            fulfilled = await billing.fulfil_checkout(started.session_id, host_user_id="ada")
            assert fulfilled.payment_status == "paid"
            uses = await asyncio.gather(*[
                billing.consume(host_user_id="ada", feature="export", idempotency_key=f"export-{n}")
                for n in range(8)])
            assert sorted(use.remaining or 0 for use in uses) == [1, 4, 7, 10, 13, 16, 19, 22]
            assert all(isinstance(use, UseOut) for use in uses)
            with pytest.raises(CoinslotError) as refused:
                await billing.consume(host_user_id="ada", feature="export", idempotency_key="export-8")
            assert (refused.value.status, refused.value.code) == (402, "insufficient_credits")
            held = await billing.create_hold(host_user_id="ada", feature="export", idempotency_key="job-1",
                                             credits=1)
            state = await billing.get_customer_state("ada")
            assert (state.plan, state.credits.available, state.credits.held) == ("core", 0, 1)
            assert [hold.hold_id for hold in state.holds] == [held.hold_id]
            released = await billing.release_hold(held.hold_id)
            assert released.balance_after == 1
            page = await billing.list_ledger_entries("ada", limit=3)
            assert ([line.kind for line in page.data], page.has_more) == (["release", "hold", "spend"], True)
            events = await billing.list_events(status="received")
            assert events.data == []  # everything Stripe sent was applied

    asyncio.run(story())


def test_a_503_is_retried_after_retry_after_with_the_same_idempotency_key(patch_hive: Stack) -> None:
    sim = httpx.Client(base_url=patch_hive.sim_server.url)
    # Stripe fails the first two customer creations: coinslot answers 503 with Retry-After twice.
    sim.post("/_sim/faults", json={"api": [{"status": 500, "method": "POST", "path_prefix": "/v1/customers",
                                            "times": 2}]})
    with CoinslotClient(patch_hive.url, patch_hive.api_key, max_retries=2) as billing:
        started_s = time.monotonic()
        customer = billing.ensure_customer(host_user_id="bea", email="bea@example.com")
        waited_s = time.monotonic() - started_s
    assert customer.stripe_customer_id is not None
    assert waited_s >= 2 * 2  # twice coinslot's Retry-After for an unreachable Stripe (2 s)
    created = [customer for customer in patch_hive.stripe.v1.customers.list().data
               if customer.to_dict().get("metadata", {}).get("coinslot_user_id") == "bea"]
    assert len(created) == 1  # retried, never doubled
    sim.delete("/_sim/faults")


def test_without_retries_the_503_reaches_the_caller_with_retry_after(patch_hive: Stack) -> None:
    sim = httpx.Client(base_url=patch_hive.sim_server.url)
    sim.post("/_sim/faults", json={"api": [{"status": 500, "method": "POST", "path_prefix": "/v1/customers",
                                            "times": 1}]})
    with CoinslotClient(patch_hive.url, patch_hive.api_key, max_retries=0) as billing, \
            pytest.raises(CoinslotError) as unavailable:
        billing.ensure_customer(host_user_id="cy")
    assert (unavailable.value.status, unavailable.value.code) == (503, "stripe_unavailable")
    assert unavailable.value.retry_after_s is not None
    sim.delete("/_sim/faults")
