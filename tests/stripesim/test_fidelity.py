"""Every emulated object has Stripe's fields for 2026-10-28.endive, and no others."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape, fixtures


def _json(sim: SimHelper, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = sim.http.request(method, path, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_customer_shapes(sim: SimHelper) -> None:
    customer = _json(sim, "POST", "/v1/customers", data={
        "email": "ada@example.com", "name": "Ada", "address[city]": "London",
        "shipping[name]": "Ada", "shipping[address][line1]": "1 Road",
        "payment_method": "pm_card_visa",
        "invoice_settings[default_payment_method]": "pm_card_visa"})
    assert_stripe_shape(customer)
    expanded = _json(sim, "GET", f"/v1/customers/{customer['id']}", params={
        "expand[]": ["subscriptions", "tax_ids", "sources", "invoice_settings.default_payment_method"]})
    assert_stripe_shape(expanded)
    assert_stripe_shape(_json(sim, "GET", "/v1/customers"))
    assert_stripe_shape(_json(sim, "GET", "/v1/customers/search", params={"query": 'name:"Ada"'}))
    deleted = _json(sim, "DELETE", f"/v1/customers/{customer['id']}")
    assert deleted == {"id": customer["id"], "object": "customer", "deleted": True}
    assert_stripe_shape(deleted)


def test_expandable_only_customer_fields_are_absent_by_default(sim: SimHelper) -> None:
    customer = _json(sim, "POST", "/v1/customers")
    for field in ("subscriptions", "sources", "tax_ids", "cash_balance", "invoice_credit_balance",
                  "deleted"):
        assert field not in customer


def test_product_and_price_shapes(sim: SimHelper) -> None:
    product = _json(sim, "POST", "/v1/products", data={
        "name": "Pro", "default_price_data[currency]": "usd",
        "default_price_data[unit_amount]": "1500",
        "default_price_data[recurring][interval]": "month",
        "package_dimensions[height]": "1", "package_dimensions[length]": "2",
        "package_dimensions[weight]": "3", "package_dimensions[width]": "4",
        "marketing_features[0][name]": "Fast"})
    assert_stripe_shape(product)
    recurring = _json(sim, "GET", f"/v1/prices/{product['default_price']}",
                      params={"expand[]": "product"})
    assert_stripe_shape(recurring)
    one_time = _json(sim, "POST", "/v1/prices", data={
        "currency": "eur", "unit_amount": "500", "product": product["id"],
        "transform_quantity[divide_by]": "10", "transform_quantity[round]": "up"})
    assert_stripe_shape(one_time)
    custom = _json(sim, "POST", "/v1/prices", data={
        "currency": "usd", "product": product["id"], "custom_unit_amount[enabled]": "true"})
    assert_stripe_shape(custom)
    assert_stripe_shape(_json(sim, "GET", "/v1/prices"))
    bare = _json(sim, "POST", "/v1/products", data={"name": "Bare"})
    assert_stripe_shape(_json(sim, "DELETE", f"/v1/products/{bare['id']}"))


def test_payment_method_shape(sim: SimHelper) -> None:
    customer = _json(sim, "POST", "/v1/customers")
    pm = _json(sim, "POST", "/v1/payment_methods/pm_card_mastercard/attach",
               data={"customer": customer["id"], "expand[]": "customer"})
    assert_stripe_shape(pm)
    assert_stripe_shape(_json(sim, "GET", "/v1/payment_methods",
                              params={"customer": customer["id"], "type": "card"}))


def test_event_and_webhook_endpoint_shapes(sim: SimHelper) -> None:
    endpoint = _json(sim, "POST", "/v1/webhook_endpoints", data={
        "url": "http://127.0.0.1:9/hook", "enabled_events[]": ["*"]})
    assert endpoint["secret"].startswith("whsec_")
    assert_stripe_shape(endpoint)
    listed = _json(sim, "GET", f"/v1/webhook_endpoints/{endpoint['id']}")
    assert "secret" not in listed
    assert_stripe_shape(listed)
    customer = _json(sim, "POST", "/v1/customers", data={"name": "A"})
    _json(sim, "POST", f"/v1/customers/{customer['id']}", data={"name": "B"})
    events = _json(sim, "GET", "/v1/events")
    assert_stripe_shape(events)
    assert {e["type"] for e in events["data"]} == {"customer.created", "customer.updated"}


def test_fixture_fields_are_really_checked() -> None:
    """The helper itself catches both a missing and an unknown field."""
    example = dict(fixtures()["price"])
    assert_stripe_shape(example)
    with pytest.raises(AssertionError, match="missing"):
        assert_stripe_shape({k: v for k, v in example.items() if k != "lookup_key"})
    with pytest.raises(AssertionError, match="not in stripe"):
        assert_stripe_shape({**example, "amount": 5})
    with pytest.raises(AssertionError, match="recurring"):
        assert_stripe_shape({**example, "recurring": {**example["recurring"], "bogus": 1}})
