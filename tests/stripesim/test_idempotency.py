"""Idempotency-Key: the first answer is replayed; other params with the same key are refused."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest
import stripe

from tests.stripesim.conftest import SimHelper


def test_same_key_replays_the_first_answer_with_replay_headers(sim: SimHelper) -> None:
    key = str(uuid.uuid4())
    first = sim.http.post("/v1/customers", data={"email": "a@example.com"},
                          headers={"Idempotency-Key": key})
    again = sim.http.post("/v1/customers", data={"email": "a@example.com"},
                          headers={"Idempotency-Key": key})
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Original-Request"] == first.headers["Request-Id"]
    assert "Idempotent-Replayed" not in first.headers
    assert len(sim.client.v1.customers.list().data) == 1


def test_sdk_retry_with_its_key_creates_nothing_twice(sim: SimHelper) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "order-42"}
    one = sim.client.v1.customers.create(params={"name": "Ada"}, options=options)
    two = sim.client.v1.customers.create(params={"name": "Ada"}, options=options)
    assert one.id == two.id


def test_same_key_with_other_params_is_an_idempotency_error(sim: SimHelper) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "k-1"}
    sim.client.v1.customers.create(params={"name": "Ada"}, options=options)
    with pytest.raises(stripe.IdempotencyError):
        sim.client.v1.customers.create(params={"name": "Grace"}, options=options)
    raw = sim.http.post("/v1/customers", data={"name": "Grace"}, headers={"Idempotency-Key": "k-1"})
    assert raw.status_code == 400
    assert raw.json()["error"]["type"] == "idempotency_error"


def test_keys_are_scoped_by_path(sim: SimHelper) -> None:
    headers = {"Idempotency-Key": "shared"}
    customer = sim.http.post("/v1/customers", data={"name": "A"}, headers=headers)
    product = sim.http.post("/v1/products", data={"name": "A"}, headers=headers)
    assert customer.json()["object"] == "customer"
    assert product.json()["object"] == "product"


def test_validation_failures_are_not_saved(sim: SimHelper) -> None:
    headers = {"Idempotency-Key": "fix-and-retry"}
    failed = sim.http.post("/v1/customers", data={"balance": "lots"}, headers=headers)
    assert failed.status_code == 400
    fixed = sim.http.post("/v1/customers", data={"balance": "lots"}, headers=headers)
    assert "Idempotent-Replayed" not in fixed.headers


def test_card_declines_are_saved_and_replayed(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    headers = {"Idempotency-Key": "decline"}
    path = "/v1/payment_methods/pm_card_chargeDeclined/attach"
    first = sim.http.post(path, data={"customer": customer.id}, headers=headers)
    again = sim.http.post(path, data={"customer": customer.id}, headers=headers)
    assert first.status_code == again.status_code == 402
    assert again.headers["Idempotent-Replayed"] == "true"


def test_concurrent_request_with_the_same_key_gets_409(sim: SimHelper) -> None:
    sim.set_faults(api=[{"status": None, "delay_ms": 400, "path_prefix": "/v1/customers",
                         "times": 1}])
    headers = {"Idempotency-Key": "in-flight", "Authorization": "Bearer sk_test_x"}
    results: list[httpx.Response] = []

    def slow_first() -> None:
        results.append(httpx.post(sim.url + "/v1/customers", data={"name": "A"}, headers=headers))

    thread = threading.Thread(target=slow_first)
    thread.start()
    # Wait until the slow request holds the key: the fault's single use is spent then.
    for _ in range(200):
        if sim.control("GET", "/_sim/faults")["api"][0]["times"] == 0:
            break
        threading.Event().wait(0.005)
    second = sim.http.post("/v1/customers", data={"name": "A"}, headers=headers)
    thread.join()
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_key_in_use"
    assert results[0].status_code == 200
    replay = sim.http.post("/v1/customers", data={"name": "A"}, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
