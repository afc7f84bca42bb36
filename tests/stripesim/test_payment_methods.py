"""Test cards: which attach, what charges on them do, attach / detach events."""

from __future__ import annotations

import pytest
import stripe

from stripesim.cards import card_behaviour
from tests.stripesim.conftest import SimHelper


def test_attaching_an_alias_materialises_a_new_card(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    pm = sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    again = sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert pm.id.startswith("pm_")
    assert pm.id != "pm_card_visa"
    assert again.id != pm.id
    assert pm.card is not None
    assert (pm.card.brand, pm.card.last4, pm.card.funding, pm.card.country) == (
        "visa", "4242", "credit", "US")
    assert pm.customer == customer.id
    assert pm.card.fingerprint == again.card.fingerprint  # type: ignore[union-attr]
    mastercard = sim.client.v1.payment_methods.attach("pm_card_mastercard",
                                                      params={"customer": customer.id})
    assert mastercard.card is not None
    assert mastercard.card.brand == "mastercard"


@pytest.mark.parametrize(("alias", "code", "decline_code"), [
    ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
])
def test_declining_cards_cannot_be_attached(sim: SimHelper, alias: str, code: str,
                                            decline_code: str) -> None:
    customer = sim.client.v1.customers.create()
    with pytest.raises(stripe.CardError) as raised:
        sim.client.v1.payment_methods.attach(alias, params={"customer": customer.id})
    assert raised.value.http_status == 402
    assert raised.value.code == code
    assert raised.value.error is not None
    assert raised.value.error.decline_code == decline_code
    assert sim.client.v1.payment_methods.list(params={"customer": customer.id}).data == []


def test_charge_customer_fail_attaches_but_every_charge_declines(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    pm = sim.client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                              params={"customer": customer.id})
    stored = sim.engine.store.get("payment_method", pm.id)
    assert stored is not None
    behaviour = card_behaviour(stored)
    assert (behaviour.outcome, behaviour.code) == ("decline", "card_declined")


def test_card_behaviour_table(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    visa = sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    three_ds = sim.client.v1.payment_methods.attach("pm_card_threeDSecure2Required",
                                                    params={"customer": customer.id})
    store = sim.engine.store
    assert card_behaviour(store.get("payment_method", visa.id) or {}).succeeds
    assert card_behaviour(store.get("payment_method", three_ds.id) or {}).outcome == "requires_action"
    assert card_behaviour({"_test_card": "pm_card_visa_chargeDeclinedInsufficientFunds"}).decline_code \
        == "insufficient_funds"


def test_detach_clears_the_default_and_emits_events(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={
        "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    pm_id = customer.invoice_settings.default_payment_method  # type: ignore[union-attr]
    assert isinstance(pm_id, str)
    detached = sim.client.v1.payment_methods.detach(pm_id)
    assert detached.customer is None
    refreshed = sim.client.v1.customers.retrieve(customer.id)
    assert refreshed.invoice_settings.default_payment_method is None  # type: ignore[union-attr]
    types = [e.type for e in sim.client.v1.events.list().data]
    assert types == ["customer.updated", "payment_method.detached", "payment_method.attached",
                     "customer.created"]
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.payment_methods.detach(pm_id)


def test_a_card_attached_elsewhere_cannot_move(sim: SimHelper) -> None:
    one, two = sim.client.v1.customers.create(), sim.client.v1.customers.create()
    pm = sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": one.id})
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.payment_methods.attach(pm.id, params={"customer": two.id})


def test_list_by_customer_and_type(sim: SimHelper) -> None:
    customer, other = sim.client.v1.customers.create(), sim.client.v1.customers.create()
    mine = sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": other.id})
    listed = sim.client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    assert [p.id for p in listed.data] == [mine.id]
    nested = sim.client.v1.customers.payment_methods.list(customer.id)
    assert [p.id for p in nested.data] == [mine.id]


def test_create_from_a_test_number_and_update(sim: SimHelper) -> None:
    pm = sim.client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000000341", "exp_month": 4, "exp_year": 2031},
        "billing_details": {"name": "Ada"}})
    assert pm.card is not None
    assert (pm.card.last4, pm.card.exp_month) == ("0341", 4)
    assert pm.billing_details.name == "Ada"
    updated = sim.client.v1.payment_methods.update(pm.id, params={"metadata": {"k": "v"}})
    assert updated.metadata.to_dict() == {"k": "v"}
