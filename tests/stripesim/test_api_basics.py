"""The request pipeline: auth, errors in Stripe's envelope, headers, unknown paths."""

from __future__ import annotations

import base64

import httpx
import pytest
import stripe

from tests.stripesim.conftest import SimHelper


def test_a_request_without_a_key_is_401_in_stripes_envelope(sim: SimHelper) -> None:
    response = httpx.get(sim.url + "/v1/customers")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "You did not provide an API key" in error["message"]


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer sk_live_abcdefghijkl", "Token sk_test_x"])
def test_bad_or_live_keys_are_refused(sim: SimHelper, header: str) -> None:
    response = httpx.get(sim.url + "/v1/customers", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_basic_auth_with_the_key_as_user_is_accepted(sim: SimHelper) -> None:
    token = base64.b64encode(b"sk_test_abc:").decode()
    response = httpx.get(sim.url + "/v1/customers", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200
    assert response.json()["object"] == "list"


def test_the_sdk_raises_authentication_error(sim: SimHelper) -> None:
    client = stripe.StripeClient("sk_live_nope_nope", base_addresses={"api": sim.url},
                                 max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.list()


def test_missing_object_is_404_resource_missing_naming_id(sim: SimHelper) -> None:
    response = sim.http.get("/v1/customers/cus_missing")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "resource_missing"
    assert error["message"] == "No such customer: 'cus_missing'"
    assert error["param"] == "id"
    assert error["doc_url"].startswith("https://stripe.com/docs/error-codes/")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sim.client.v1.customers.retrieve("cus_missing")
    assert raised.value.code == "resource_missing"
    assert raised.value.http_status == 404


def test_unknown_url_is_404_unrecognized_request_url(sim: SimHelper) -> None:
    response = sim.http.post("/v1/nothing_here", data={"a": "b"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Unrecognized request URL (POST: /v1/nothing_here)")


def test_missing_parameter_names_it(sim: SimHelper) -> None:
    response = sim.http.post("/v1/prices", data={"unit_amount": "100", "product": "prod_x"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("parameter_missing", "currency")


def test_invalid_and_unknown_parameters_name_them(sim: SimHelper) -> None:
    bad = sim.http.get("/v1/customers", params={"limit": "1000"})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "limit"
    unknown = sim.http.post("/v1/customers", data={"emali": "x@example.com"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "emali"
    assert unknown.json()["error"]["message"] == "Received unknown parameter: emali"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 5,
                                            "product": "prod_nope"})
    assert raised.value.param == "product"


def test_headers_echo_version_and_carry_a_request_id(sim: SimHelper) -> None:
    response = sim.http.get("/v1/customers", headers={"Stripe-Version": "2026-10-28.endive"})
    assert response.headers["Stripe-Version"] == "2026-10-28.endive"
    assert response.headers["Request-Id"].startswith("req_")
    default = sim.http.get("/v1/customers")
    assert default.headers["Stripe-Version"] == "2026-10-28.endive"


def test_sdk_surfaces_the_request_id(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    assert customer.last_response is not None
    assert customer.last_response.request_id.startswith("req_")


def test_control_routes_need_no_key(sim: SimHelper) -> None:
    response = httpx.get(sim.url + "/_sim/health")
    assert response.json() == {"ok": True, "api_version": "2026-10-28.endive"}
