"""Checkout Session calls that Stripe refuses in production are refused here too, with
Stripe's code and message, and create nothing."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.stripesim.conftest import SimHelper
from tests.stripesim.test_versions import pinned

OK_URL = "https://app.example/ok"


def _prices(sim: SimHelper) -> tuple[Any, Any]:
    product = sim.client.v1.products.create(params={"name": "Pro"})
    monthly = sim.client.v1.prices.create(params={
        "product": product.id, "currency": "usd", "unit_amount": 900,
        "recurring": {"interval": "month"}})
    once = sim.client.v1.prices.create(params={"product": product.id, "currency": "usd",
                                               "unit_amount": 500})
    return monthly, once


def _refused(sim: SimHelper, **params: Any) -> stripe.InvalidRequestError:
    before = len(sim.client.v1.checkout.sessions.list(params={"limit": 100}).data)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sim.client.v1.checkout.sessions.create(params={"success_url": OK_URL, **params})
    assert len(sim.client.v1.checkout.sessions.list(params={"limit": 100}).data) == before
    return refused.value


def test_automatic_tax_for_a_customer_without_an_address_needs_customer_update(sim: SimHelper) -> None:
    monthly, _ = _prices(sim)
    customer = sim.client.v1.customers.create(params={"email": "a@example.com"})
    base = {"mode": "subscription", "customer": customer.id, "automatic_tax": {"enabled": True},
            "line_items": [{"price": monthly.id, "quantity": 1}]}
    error = _refused(sim, **base)
    assert error.code == "customer_tax_location_invalid"
    assert str(error.user_message).startswith(
        "Automatic tax calculation in Checkout requires a valid address on the Customer.")
    session = sim.client.v1.checkout.sessions.create(params={
        **base, "success_url": OK_URL, "customer_update": {"address": "auto"}})
    assert session.automatic_tax.enabled is True
    with_address = sim.client.v1.customers.create(params={
        "email": "b@example.com", "address": {"country": "US", "postal_code": "94110"}})
    assert sim.client.v1.checkout.sessions.create(params={
        **base, "customer": with_address.id, "success_url": OK_URL}).status == "open"


def test_customer_update_needs_a_customer(sim: SimHelper) -> None:
    _, once = _prices(sim)
    error = _refused(sim, mode="payment", customer_email="a@example.com",
                     customer_update={"address": "auto"}, line_items=[{"price": once.id}])
    assert error.user_message == ("`customer_update` can only be used with `customer` or "
                                  "`customer_account`.")
    with pinned(sim, "2024-04-10") as old:
        error = _refused(old, mode="payment", customer_update={"name": "auto"},
                         line_items=[{"price": once.id}])
    assert error.user_message == "`customer_update` can only be used with `customer`."


def test_a_recurring_price_in_payment_mode_and_only_one_time_prices_in_subscription_mode(
        sim: SimHelper) -> None:
    monthly, once = _prices(sim)
    error = _refused(sim, mode="payment", line_items=[{"price": monthly.id}])
    assert error.user_message == ("You specified `payment` mode but passed a recurring price. "
                                  "Either switch to `subscription` mode or use only one-time prices.")
    error = _refused(sim, mode="subscription", line_items=[{"price": once.id}])
    assert error.user_message == ("You must provide at least one recurring price in "
                                  "`subscription` mode when using prices.")
    # A one-time price next to a recurring one is fine in subscription mode (a setup fee).
    both = sim.client.v1.checkout.sessions.create(params={
        "mode": "subscription", "success_url": OK_URL,
        "line_items": [{"price": monthly.id}, {"price": once.id}]})
    assert both.amount_total == 1400


def test_payment_method_types_a_mode_cannot_use_are_refused(sim: SimHelper) -> None:
    monthly, once = _prices(sim)
    with pinned(sim, "2026-08-26.dahlia") as dahlia:
        error = _refused(dahlia, mode="subscription", line_items=[{"price": monthly.id}],
                         payment_method_types=["card", "blik"])
        assert error.user_message == "The payment method blik cannot be used in subscription mode."
        assert error.param == "payment_method_types[1]"
        error = _refused(dahlia, mode="payment", line_items=[{"price": once.id}],
                         payment_method_types=["bitcoin"])
        assert error.param == "payment_method_types[0]"
        ok = dahlia.client.v1.checkout.sessions.create(params={
            "mode": "payment", "success_url": OK_URL, "line_items": [{"price": once.id}],
            "payment_method_types": ["card", "blik"]})
        assert ok.payment_method_types == ["card", "blik"]
    # Endive removed the parameter; allowed_payment_method_types filters by what the mode takes.
    error = _refused(sim, mode="payment", line_items=[{"price": once.id}],
                     payment_method_types=["card"])
    assert error.code == "parameter_unknown"
    filtered = sim.client.v1.checkout.sessions.create(params={
        "mode": "subscription", "success_url": OK_URL, "line_items": [{"price": monthly.id}],
        "allowed_payment_method_types": ["blik", "card", "sepa_debit"]})
    assert filtered.payment_method_types == ["card", "sepa_debit"]


def test_parameters_of_one_mode_are_refused_in_another(sim: SimHelper) -> None:
    monthly, _ = _prices(sim)
    error = _refused(sim, mode="subscription", line_items=[{"price": monthly.id}],
                     invoice_creation={"enabled": True})
    assert str(error.user_message).startswith(
        "You can only enable invoice creation when mode is set to payment.")
    error = _refused(sim, mode="subscription", line_items=[{"price": monthly.id}],
                     customer_creation="always")
    assert error.user_message == "`customer_creation` can only be used in `payment` mode."


def test_line_item_limits(sim: SimHelper) -> None:
    monthly, once = _prices(sim)
    error = _refused(sim, mode="payment", line_items=[{"price": once.id}] * 101)
    assert error.param == "line_items"
    assert "at most 100 line items" in str(error.user_message)
    error = _refused(sim, mode="subscription", line_items=[{"price": monthly.id}] * 21)
    assert "at most 20 line items with recurring prices" in str(error.user_message)
    assert sim.client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": OK_URL,
        "line_items": [{"price": once.id}] * 100}).amount_total == 50_000


@pytest.mark.parametrize(("metadata", "message"), [
    ({f"k{i}": "v" for i in range(51)},
     "Metadata can have up to 50 keys, but you've set 51. Email us at "
     "support+metadata@stripe.com for more information."),
    ({"k" * 41: "v"}, "Metadata keys can have up to 40 characters, but you passed in a key that "
                      f"is 41 characters. Invalid key: {'k' * 41}"),
    ({"k": "v" * 501}, "Metadata values can have up to 500 characters, but you passed in a value "
                       f"that is 501 characters. Invalid value: {'v' * 501}"),
])
def test_metadata_limits(sim: SimHelper, metadata: dict[str, str], message: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sim.client.v1.customers.create(params={"metadata": metadata})
    assert refused.value.user_message == message
    assert refused.value.param == "metadata"
    assert sim.client.v1.customers.list().data == []
    at_limit = {f"k{i:02}" + "k" * 37: "v" * 500 for i in range(50)}
    created = sim.client.v1.customers.create(params={"metadata": at_limit})
    assert len(created.metadata.to_dict()) == 50
