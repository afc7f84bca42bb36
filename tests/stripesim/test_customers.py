"""Customers: create, update with metadata rules, default payment method, delete, list."""

from __future__ import annotations

import pytest
import stripe

from tests.stripesim.conftest import SimHelper


def _events(sim: SimHelper, event_type: str) -> list[stripe.Event]:
    return list(sim.client.v1.events.list(params={"type": event_type}).data)


def test_metadata_merges_and_empty_string_unsets(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={"metadata": {"plan": "pro", "seat": "1"}})
    updated = sim.client.v1.customers.update(customer.id, params={"metadata": {"seat": "", "x": "y"}})
    assert updated.metadata.to_dict() == {"plan": "pro", "x": "y"}
    cleared = sim.http.post(f"/v1/customers/{customer.id}", data={"metadata": ""}).json()
    assert cleared["metadata"] == {}


def test_update_emits_customer_updated_with_previous_attributes(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={"email": "old@example.com"})
    sim.client.v1.customers.update(customer.id, params={"email": "new@example.com"})
    (event,) = _events(sim, "customer.updated")
    assert event.data.object["email"] == "new@example.com"
    assert event.data.previous_attributes.to_dict() == {"email": "old@example.com"}
    assert event.request.id is not None
    assert event.request.id.startswith("req_")


def test_an_update_that_changes_nothing_emits_nothing(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={"name": "Ada"})
    sim.client.v1.customers.update(customer.id, params={"name": "Ada"})
    assert _events(sim, "customer.updated") == []


def test_default_payment_method_must_be_attached(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sim.client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": "pm_nope"}})
    assert raised.value.param == "invoice_settings[default_payment_method]"
    pm = sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    updated = sim.client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    assert updated.invoice_settings.default_payment_method == pm.id
    (event,) = _events(sim, "customer.updated")
    assert event.data.previous_attributes.to_dict() == {"invoice_settings": {"default_payment_method": None}}


def test_delete_leaves_a_stub_and_emits_the_full_object(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={"email": "gone@example.com"})
    deleted = sim.client.v1.customers.delete(customer.id)
    assert deleted.deleted is True
    assert sim.client.v1.customers.retrieve(customer.id).deleted is True
    (event,) = _events(sim, "customer.deleted")
    assert event.data.object["email"] == "gone@example.com"
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.customers.update(customer.id, params={"name": "x"})
    assert sim.client.v1.customers.list().data == []


def test_list_filters_by_email_exactly(sim: SimHelper) -> None:
    sim.client.v1.customers.create(params={"email": "a@example.com"})
    wanted = sim.client.v1.customers.create(params={"email": "b@example.com"})
    found = sim.client.v1.customers.list(params={"email": "b@example.com"}).data
    assert [c.id for c in found] == [wanted.id]


def test_balance_is_an_integer_and_can_be_set(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={"balance": -500})
    assert customer.balance == -500


def test_test_clock_is_stored_and_drives_created(sim: SimHelper) -> None:
    with sim.engine.store.lock:
        sim.engine.store.insert({"id": "clock_fixed", "object": "test_helpers.test_clock",
                                 "frozen_time": 1_700_000_000})
    customer = sim.client.v1.customers.create(params={"test_clock": "clock_fixed"})
    assert customer.test_clock == "clock_fixed"
    assert customer.created == 1_700_000_000
    assert sim.engine.store.now_for(customer.id) == 1_700_000_000
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sim.client.v1.customers.create(params={"test_clock": "clock_missing"})
    assert raised.value.param == "test_clock"
