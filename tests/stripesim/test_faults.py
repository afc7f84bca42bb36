"""Fault injection: off by default, per test, deterministic under a seed."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.stripesim.conftest import API_KEY, WEBHOOK_SECRET, SimHelper
from tests.stripesim.receiver import WebhookReceiver


def test_api_500_n_times_then_the_sdk_retry_succeeds_once(sim: SimHelper) -> None:
    sim.set_faults(api=[{"status": 500, "path_prefix": "/v1/customers", "times": 2}])
    with pytest.raises(stripe.APIError):
        sim.client.v1.customers.create()
    retrying = stripe.StripeClient(API_KEY, base_addresses={"api": sim.url}, max_network_retries=2)
    retrying.v1.customers.create(params={"name": "Ada"})
    assert [c.name for c in sim.client.v1.customers.list().data] == ["Ada"]
    sim.client.v1.products.create(params={"name": "unaffected"})


def test_api_429_only_on_its_prefix(sim: SimHelper) -> None:
    sim.set_faults(api=[{"status": 429, "path_prefix": "/v1/prices"}])
    with pytest.raises(stripe.RateLimitError):
        sim.client.v1.prices.list()
    sim.client.v1.customers.list()
    sim.clear_faults()
    sim.client.v1.prices.list()


def test_slow_answers(sim: SimHelper) -> None:
    sim.set_faults(api=[{"status": None, "delay_ms": 300, "path_prefix": "/v1/products",
                         "method": "GET", "times": 1}])
    started = time.monotonic()
    sim.client.v1.products.list()
    assert time.monotonic() - started >= 0.3
    assert sim.control("GET", "/_sim/faults")["api"][0]["times"] == 0


def test_probabilistic_api_faults_repeat_under_the_same_seed(sim: SimHelper) -> None:
    def pattern() -> list[int]:
        sim.set_faults(seed=42, api=[{"status": 500, "probability": 0.5}])
        return [sim.http.get("/v1/customers").status_code for _ in range(16)]

    first = pattern()
    assert first == pattern()
    assert set(first) == {200, 500}


def test_bad_fault_spec_is_400(sim: SimHelper) -> None:
    response = sim.http.post("/_sim/faults", json={"api": [{"status": 418}]})
    assert response.status_code == 400


def _customers(sim: SimHelper, count: int) -> list[str]:
    return [sim.client.v1.customers.create().id for _ in range(count)]


def _received_customer_ids(receiver: WebhookReceiver) -> list[str]:
    return [str(e.data.object["id"]) for e in receiver.events(WEBHOOK_SECRET)]


def test_duplicate_deliveries(sim: SimHelper, webhooks: WebhookReceiver) -> None:
    sim.set_faults(seed=1, webhooks={"duplicate": 1.0})
    _customers(sim, 2)
    sim.flush()
    events = webhooks.events(WEBHOOK_SECRET)
    assert len(events) == 4
    assert len({e.id for e in events}) == 2
    assert sum(d["duplicate"] for d in sim.deliveries()) == 2
    assert all(e.pending_webhooks == 0 for e in sim.client.v1.events.list().data)


def test_shuffled_delivery_is_a_seeded_permutation(sim: SimHelper,
                                                   webhooks: WebhookReceiver) -> None:
    def run() -> list[int]:
        sim.reset()
        webhooks.clear()
        sim.add_webhook_endpoint(webhooks.url, WEBHOOK_SECRET)
        # A long window: nothing is due before the flush, so timing cannot matter.
        sim.set_faults(seed=7, webhooks={"shuffle": True, "shuffle_window_ms": 60_000})
        created = _customers(sim, 8)
        sim.flush()
        received = _received_customer_ids(webhooks)
        assert sorted(received) == sorted(created)
        return [created.index(i) for i in received]

    order = run()
    assert order != sorted(order)
    assert run() == order


def test_delayed_deliveries_arrive_after_the_others(sim: SimHelper,
                                                    webhooks: WebhookReceiver) -> None:
    sim.set_faults(seed=3, webhooks={"delay_ms": 60_000, "delay_probability": 0.5})
    created = _customers(sim, 8)
    sim.flush()
    log = {d["event_id"]: d["delay_ms"] for d in sim.deliveries()}
    delayed_events = {e for e, ms in log.items() if ms}
    assert 0 < len(delayed_events) < 8
    events = webhooks.events(WEBHOOK_SECRET)
    flags = [e.id in delayed_events for e in events]
    assert flags == sorted(flags)  # all prompt ones first, then the delayed ones
    prompt = [str(e.data.object["id"]) for e in events if e.id not in delayed_events]
    assert prompt == [c for c in created if c in prompt]


def test_an_endpoint_failing_n_times_is_retried(sim: SimHelper, webhooks: WebhookReceiver) -> None:
    sim.set_faults(webhooks={"endpoint_failures": {webhooks.url: 2}})
    sim.client.v1.customers.create()
    sim.flush()
    assert len(webhooks.received) == 1
    (delivery,) = sim.deliveries()
    assert (delivery["attempts"], delivery["status"]) == (3, "succeeded")


def test_reset_turns_faults_off(sim: SimHelper) -> None:
    sim.set_faults(api=[{"status": 500}])
    sim.reset()
    assert sim.control("GET", "/_sim/faults")["api"] == []
    sim.client.v1.customers.list()
