"""Products and prices: lookup keys, immutable amounts, filters."""

from __future__ import annotations

import pytest
import stripe

from tests.stripesim.billing_helpers import clock_customer, subscribe
from tests.stripesim.conftest import SimHelper


def _product(sim: SimHelper, name: str = "Pro") -> stripe.Product:
    return sim.client.v1.products.create(params={"name": name})


def test_price_with_product_data_creates_the_product(sim: SimHelper) -> None:
    price = sim.client.v1.prices.create(params={
        "currency": "USD", "unit_amount": 1500, "recurring": {"interval": "month"},
        "product_data": {"name": "Team"}, "lookup_key": "team_monthly", "nickname": "Team"})
    assert price.currency == "usd"
    assert price.type == "recurring"
    assert price.recurring is not None
    assert price.recurring.interval_count == 1
    assert price.unit_amount == 1500
    assert str(price.unit_amount_decimal) == "1500"
    product = sim.client.v1.products.retrieve(str(price.product))
    assert product.name == "Team"


def test_reusing_a_lookup_key_needs_transfer(sim: SimHelper) -> None:
    product = _product(sim)
    first = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1000,
                                                "product": product.id, "lookup_key": "pro"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1200,
                                            "product": product.id, "lookup_key": "pro"})
    assert raised.value.user_message == f"A price (`{first.id}`) already uses that lookup key."
    assert len(sim.client.v1.prices.list().data) == 1  # the refused price was not stored
    second = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1200,
                                                 "product": product.id, "lookup_key": "pro",
                                                 "transfer_lookup_key": True})
    assert second.lookup_key == "pro"
    assert sim.client.v1.prices.retrieve(first.id).lookup_key is None
    found = sim.client.v1.prices.list(params={"lookup_keys": ["pro"], "active": True}).data
    assert [p.id for p in found] == [second.id]
    moved = sim.client.v1.events.list(params={"type": "price.updated"}).data
    assert moved[0].data.previous_attributes.to_dict() == {"lookup_key": "pro"}


def test_lookup_key_transfer_on_update(sim: SimHelper) -> None:
    product = _product(sim)
    old = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1, "product": product.id,
                                              "lookup_key": "k"})
    new = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 2, "product": product.id})
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.prices.update(new.id, params={"lookup_key": "k"})
    moved = sim.client.v1.prices.update(new.id, params={"lookup_key": "k", "transfer_lookup_key": True})
    assert moved.lookup_key == "k"
    assert sim.client.v1.prices.retrieve(old.id).lookup_key is None


def test_amounts_cannot_be_updated(sim: SimHelper) -> None:
    product = _product(sim)
    price = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1, "product": product.id})
    response = sim.http.post(f"/v1/prices/{price.id}", data={"unit_amount": "5"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "unit_amount"
    updated = sim.client.v1.prices.update(price.id, params={"active": False, "nickname": "old",
                                                            "metadata": {"a": "b"}})
    assert (updated.active, updated.nickname, updated.unit_amount) == (False, "old", 1)


def test_price_list_filters(sim: SimHelper) -> None:
    product, other = _product(sim), _product(sim, "Other")
    monthly = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1,
                                                  "product": product.id,
                                                  "recurring": {"interval": "month"}})
    yearly = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 10,
                                                 "product": product.id,
                                                 "recurring": {"interval": "year"}})
    once = sim.client.v1.prices.create(params={"currency": "eur", "unit_amount": 5, "product": other.id})

    def ids(**params: object) -> list[str]:
        return [p.id for p in sim.client.v1.prices.list(params=params).data]  # type: ignore[arg-type]

    assert ids(type="one_time") == [once.id]
    assert ids(product=product.id) == [yearly.id, monthly.id]
    assert ids(recurring={"interval": "year"}) == [yearly.id]
    assert ids(currency="eur") == [once.id]


def test_recurring_interval_is_validated(sim: SimHelper) -> None:
    response = sim.http.post("/v1/prices", data={"currency": "usd", "unit_amount": "1",
                                                 "product_data[name]": "x",
                                                 "recurring[interval]": "fortnight"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "recurring[interval]"


def test_product_crud_and_events(sim: SimHelper) -> None:
    product = sim.client.v1.products.create(params={"name": "Pro", "metadata": {"tier": "2"}})
    updated = sim.client.v1.products.update(product.id, params={"description": "Best"})
    assert updated.description == "Best"
    assert sim.client.v1.products.list(params={"active": True}).data[0].id == product.id
    sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1, "product": product.id})
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.products.delete(product.id)
    bare = _product(sim, "Bare")
    assert sim.client.v1.products.delete(bare.id).deleted is True
    types = [e.type for e in sim.client.v1.events.list(params={"type": "product.*"}).data]
    assert types == ["product.deleted", "product.created", "product.updated", "product.created"]


def test_product_default_price_data(sim: SimHelper) -> None:
    product = sim.client.v1.products.create(params={
        "name": "Pro", "default_price_data": {"currency": "usd", "unit_amount": 900,
                                              "recurring": {"interval": "month"}}})
    assert product.default_price is not None
    price = sim.client.v1.prices.retrieve(str(product.default_price))
    assert price.product == product.id
    assert price.unit_amount == 900


def test_a_subscription_shows_its_price_as_it_is_now_after_a_repricing(sim: SimHelper) -> None:
    """Stripe renders a subscription item's price from the price itself: once a new price takes the
    lookup key over and the old one is deactivated, the subscriptions still on it show that."""
    product = _product(sim)
    old = sim.client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 499, "product": product.id, "recurring": {"interval": "month"},
        "lookup_key": "core", "metadata": {"coinslot_key": "plan:core"}})
    _, customer = clock_customer(sim)
    subscription = subscribe(sim, customer.id, old.id)
    sim.client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 599, "product": product.id, "recurring": {"interval": "month"},
        "lookup_key": "core", "transfer_lookup_key": True})
    sim.client.v1.prices.update(old.id, params={"active": False})

    item = sim.client.v1.subscriptions.retrieve(subscription.id)["items"].data[0]
    assert (item.price.id, item.price.lookup_key, item.price.active) == (old.id, None, False)
    assert item.price.metadata.to_dict() == {"coinslot_key": "plan:core"}
    assert (item.plan.id, item.plan.active) == (old.id, False)
    listed = sim.client.v1.subscription_items.list(params={"subscription": subscription.id}).data
    assert listed[0].price.lookup_key is None
    updated = sim.client.v1.subscriptions.update(subscription.id, params={"metadata": {"seen": "yes"}})
    event = sim.client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated["items"].data[0].price.lookup_key is None
    assert event.data.object["items"].data[0].price.lookup_key is None  # the event's copy too
    # The event created before the repricing keeps the price as it was then: events are snapshots.
    created = sim.client.v1.events.list(params={"type": "customer.subscription.created"}).data[0]
    assert created.data.object["items"].data[0].price.lookup_key == "core"
