"""Charging a saved card off-session (what an auto top-up does): success, declines answered with
the PaymentIntent in the 402, authentication required, and the events a webhook handler sees."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import stripe

from tests.stripesim.billing_helpers import event_types
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def _saved_card(sim: SimHelper, card: str, *, authenticate: bool = True) -> tuple[Any, str]:
    """A customer with `card` saved through a SetupIntent (3D Secure answered if asked)."""
    customer = sim.client.v1.customers.create(params={"email": "topup@example.com"})
    si = sim.client.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method": card, "confirm": True})
    if si.status == "requires_action" and authenticate:
        sim.control("POST", f"/_sim/setup_intents/{si.id}/authenticate", {"outcome": "succeed"})
    return customer, str(si.payment_method)


def _top_up(sim: SimHelper, customer_id: str, pm_id: str, key: str | None = None) -> Any:
    return sim.client.v1.payment_intents.create(
        params={"amount": 500, "currency": "usd", "customer": customer_id,
                "payment_method": pm_id, "off_session": True, "confirm": True,
                "metadata": {"pack": "credits_100"}},
        options={"idempotency_key": key or str(uuid.uuid4())})


@pytest.mark.parametrize("card", ["pm_card_visa", "pm_card_authenticationRequiredOnSetup"])
def test_an_off_session_top_up_succeeds_once(sim: SimHelper, card: str) -> None:
    customer, pm_id = _saved_card(sim, card)
    key = "top-up:ledger-entry-42"
    pi = _top_up(sim, customer.id, pm_id, key)
    assert pi.status == "succeeded"
    assert pi.amount_received == 500
    assert_stripe_shape(pi)
    again = _top_up(sim, customer.id, pm_id, key)
    assert again.id == pi.id
    charges = sim.client.v1.charges.list(params={"customer": customer.id}).data
    assert [(c.payment_method, c.amount, c.status) for c in charges] == [(pm_id, 500, "succeeded")]
    types = [t for t in event_types(sim) if t.startswith(("payment_intent.", "charge."))]
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    succeeded = sim.client.v1.events.list(params={"type": "payment_intent.succeeded"}).data[0]
    assert succeeded.data.object.metadata["pack"] == "credits_100"


@pytest.mark.parametrize(("card", "code", "decline_code"), [
    ("pm_card_chargeCustomerFail", "card_declined", "generic_decline"),
    ("pm_card_authenticationRequired", "authentication_required", "authentication_required"),
    ("pm_card_threeDSecure2Required", "authentication_required", "authentication_required"),
])
def test_a_failing_top_up_answers_402_with_the_intent(sim: SimHelper, card: str, code: str,
                                                      decline_code: str) -> None:
    customer, pm_id = _saved_card(sim, card)
    with pytest.raises(stripe.CardError) as failed:
        _top_up(sim, customer.id, pm_id)
    error = failed.value.json_body["error"]
    assert (failed.value.http_status, error["code"], error["decline_code"]) == (
        402, code, decline_code)
    pi = error["payment_intent"]
    assert pi["status"] == "requires_payment_method"
    assert pi["last_payment_error"]["code"] == code
    assert_stripe_shape(pi)
    charge = sim.client.v1.charges.retrieve(pi["latest_charge"])
    assert (charge.status, charge.failure_code) == ("failed", code)
    assert event_types(sim)[-2:] == ["charge.failed", "payment_intent.payment_failed"]
    failed_event = sim.client.v1.events.list(params={"type": "payment_intent.payment_failed"}).data[0]
    assert failed_event.data.object.id == pi["id"]


def test_on_session_the_same_card_waits_for_authentication(sim: SimHelper) -> None:
    customer, pm_id = _saved_card(sim, "pm_card_authenticationRequired")
    pi = sim.client.v1.payment_intents.create(params={
        "amount": 500, "currency": "usd", "customer": customer.id, "payment_method": pm_id,
        "confirm": True})
    assert pi.status == "requires_action"
    done = sim.control("POST", f"/_sim/payment_intents/{pi.id}/authenticate", {})
    assert done["status"] == "succeeded"
    with pytest.raises(stripe.CardError, match="requires authentication"):
        sim.client.v1.payment_intents.create(params={
            "amount": 500, "currency": "usd", "customer": customer.id, "payment_method": pm_id,
            "confirm": True, "error_on_requires_action": True})


def test_a_card_reported_lost_after_it_was_saved_declines_hard(sim: SimHelper) -> None:
    customer, pm_id = _saved_card(sim, "pm_card_visa")
    assert _top_up(sim, customer.id, pm_id).status == "succeeded"
    sim.control("POST", f"/_sim/payment_methods/{pm_id}/behave_like",
                {"card": "pm_card_visa_chargeDeclinedLostCard"})
    with pytest.raises(stripe.CardError) as failed:
        _top_up(sim, customer.id, pm_id)
    assert failed.value.json_body["error"]["decline_code"] == "lost_card"


def test_paying_on_session_with_setup_future_usage_saves_the_card(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={"email": "first@example.com"})
    first = sim.client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "customer": customer.id,
        "payment_method": "pm_card_visa", "confirm": True, "setup_future_usage": "off_session"})
    assert first.status == "succeeded"
    saved = sim.client.v1.payment_methods.retrieve(str(first.payment_method))
    assert saved.customer == customer.id
    assert "payment_method.attached" in event_types(sim)
    assert _top_up(sim, customer.id, saved.id).status == "succeeded"


def test_bad_off_session_calls_are_refused_and_create_nothing(sim: SimHelper) -> None:
    customer, pm_id = _saved_card(sim, "pm_card_visa")
    other = sim.client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError, match="confirm=true"):
        sim.client.v1.payment_intents.create(params={
            "amount": 500, "currency": "usd", "customer": customer.id, "payment_method": pm_id,
            "off_session": True})
    with pytest.raises(stripe.InvalidRequestError, match="another Customer") as foreign:
        _top_up(sim, other.id, pm_id)
    assert foreign.value.param == "payment_method"
    with pytest.raises(stripe.InvalidRequestError, match="another Customer"):
        sim.client.v1.payment_intents.create(params={
            "amount": 500, "currency": "usd", "payment_method": pm_id, "confirm": True})
    assert sim.client.v1.payment_intents.list().data == []
