"""Idempotency-Key: the first answer is replayed; the same key with other params or on
another endpoint is refused."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import httpx
import pytest
import stripe

from stripesim.app import create_app
from stripesim.errors import ConflictError, IdempotencyError
from stripesim.idempotency import IdempotencyCache
from tests.stripesim.conftest import SimHelper
from tests.support.servers import ServerThread


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


def test_a_key_reused_on_another_endpoint_is_an_idempotency_error(sim: SimHelper) -> None:
    headers = {"Idempotency-Key": "shared"}
    customer = sim.http.post("/v1/customers", data={"name": "A"}, headers=headers)
    assert customer.status_code == 200
    product = sim.http.post("/v1/products", data={"name": "A"}, headers=headers)
    assert product.status_code == 400
    error = product.json()["error"]
    assert error["type"] == "idempotency_error"
    assert "same endpoint" in error["message"]
    assert "'POST /v1/customers'" in error["message"]
    assert "Idempotent-Replayed" not in product.headers
    assert sim.client.v1.products.list().data == []
    # The refusal saved nothing: the first endpoint still replays.
    again = sim.http.post("/v1/customers", data={"name": "A"}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == customer.json()["id"]


def test_sdk_gets_idempotency_error_for_a_key_on_another_endpoint(sim: SimHelper) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "order-7"}
    sim.client.v1.customers.create(params={"name": "Ada"}, options=options)
    with pytest.raises(stripe.IdempotencyError, match="same endpoint"):
        sim.client.v1.products.create(params={"name": "Ada"}, options=options)


def test_a_key_is_bound_to_the_exact_path_not_the_route(sim: SimHelper) -> None:
    one = sim.client.v1.customers.create()
    two = sim.client.v1.customers.create()
    headers = {"Idempotency-Key": "update"}
    first = sim.http.post(f"/v1/customers/{one.id}", data={"name": "A"}, headers=headers)
    assert first.status_code == 200
    other = sim.http.post(f"/v1/customers/{two.id}", data={"name": "A"}, headers=headers)
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    assert sim.client.v1.customers.retrieve(two.id).name is None


def test_a_key_has_no_effect_on_delete(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(options={"idempotency_key": "del"})
    deleted = sim.http.delete(f"/v1/customers/{customer.id}", headers={"Idempotency-Key": "del"})
    assert deleted.status_code == 200
    assert deleted.json()["deleted"] is True
    assert "Idempotent-Replayed" not in deleted.headers


def test_a_key_freed_by_a_validation_failure_may_go_to_another_endpoint(sim: SimHelper) -> None:
    headers = {"Idempotency-Key": "moved"}
    failed = sim.http.post("/v1/customers", data={"balance": "lots"}, headers=headers)
    assert failed.status_code == 400
    product = sim.http.post("/v1/products", data={"name": "P"}, headers=headers)
    assert product.status_code == 200
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


def test_a_state_file_with_one_key_on_two_endpoints_still_loads(tmp_path: Path) -> None:
    """Files written while keys were scoped by endpoint: the newest entry of a key wins."""
    state = tmp_path / "state.json"
    auth = {"Authorization": "Bearer sk_test_x"}
    with ServerThread(create_app(state_file=str(state))) as server:
        first = httpx.post(f"{server.url}/v1/customers", data={"name": "A"},
                           headers={**auth, "Idempotency-Key": "old"})
        assert first.status_code == 200
    data = json.loads(state.read_text())
    (saved,) = data["parts"]["idempotency"]
    # An older answer to the same key on another endpoint, as the old scoping allowed.
    older = {**saved, "path": "/v1/products", "created_s": saved["created_s"] - 60,
             "fingerprint": "0" * 64, "request_id": "req_older"}
    data["parts"]["idempotency"] = [saved, older]
    state.write_text(json.dumps(data))
    with ServerThread(create_app(state_file=str(state))) as server:
        replay = httpx.post(f"{server.url}/v1/customers", data={"name": "A"},
                            headers={**auth, "Idempotency-Key": "old"})
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"]
        product = httpx.post(f"{server.url}/v1/products", data={"name": "A"},
                             headers={**auth, "Idempotency-Key": "old"})
        assert product.status_code == 400
        assert product.json()["error"]["type"] == "idempotency_error"
        httpx.post(f"{server.url}/v1/customers", headers=auth)  # rewrites the file
    assert [(k["key"], k["path"]) for k in json.loads(state.read_text())["parts"]["idempotency"]] \
        == [("old", "/v1/customers")]


def test_an_in_flight_key_on_another_endpoint_is_refused_and_kept() -> None:
    cache = IdempotencyCache()
    assert cache.begin("POST", "/v1/customers", "k", {"name": "A"}) is None
    with pytest.raises(IdempotencyError, match="same endpoint"):
        cache.begin("POST", "/v1/products", "k", {"name": "A"})
    with pytest.raises(ConflictError):
        cache.begin("POST", "/v1/customers", "k", {"name": "A"})
    # A refused request's finish() must not touch the first request's entry.
    cache.finish("POST", "/v1/products", "k", status=200, body=b"{}", request_id="req_x",
                 save=False)
    cache.finish("POST", "/v1/customers", "k", status=200, body=b"{}", request_id="req_1",
                 save=True)
    saved = cache.begin("POST", "/v1/customers", "k", {"name": "A"})
    assert saved is not None
    assert saved.request_id == "req_1"
