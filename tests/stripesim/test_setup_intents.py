"""Saving a card for later: SetupIntents with the test cards' behaviours, setup-mode Checkout
(API control route and the hosted page with its 3D Secure step), and the saved card becoming
the customer's default for invoices."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from tests.stripesim.billing_helpers import event_types, price
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def _customer(sim: SimHelper) -> Any:
    return sim.client.v1.customers.create(params={"email": "saver@example.com"})


def test_a_card_set_up_for_later_is_attached_and_becomes_the_default(sim: SimHelper) -> None:
    customer = _customer(sim)
    si = sim.client.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method": "pm_card_visa", "confirm": True,
        "metadata": {"purpose": "auto_top_up"}, "expand": ["latest_attempt"]})
    assert si.status == "succeeded"
    assert si.usage == "off_session"
    assert si.latest_attempt.status == "succeeded"
    assert si.client_secret.startswith(f"{si.id}_secret_")
    assert_stripe_shape(si)
    pm = sim.client.v1.payment_methods.retrieve(str(si.payment_method))
    assert pm.customer == customer.id
    attempts = sim.client.v1.setup_attempts.list(params={"setup_intent": si.id})
    assert [a.id for a in attempts.data] == [si.latest_attempt.id]
    assert_stripe_shape(attempts)
    assert [t for t in event_types(sim) if t.startswith(("setup_intent.", "payment_method."))] == [
        "setup_intent.created", "payment_method.attached", "setup_intent.succeeded"]
    updated = sim.client.v1.customers.update(customer.id, params={
        "invoice_settings": {"default_payment_method": pm.id}})
    assert updated.invoice_settings.default_payment_method == pm.id
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": price(sim).id}]})
    assert sub.status == "active"
    assert sim.client.v1.charges.list(params={"customer": customer.id}).data[0].payment_method == pm.id


def test_a_declined_card_fails_the_setup_with_the_intent_in_the_error(sim: SimHelper) -> None:
    customer = _customer(sim)
    si = sim.client.v1.setup_intents.create(params={"customer": customer.id})
    assert si.status == "requires_payment_method"
    with pytest.raises(stripe.CardError) as declined:
        sim.client.v1.setup_intents.confirm(si.id, params={
            "payment_method": "pm_card_visa_chargeDeclined"})
    error = declined.value.json_body["error"]
    assert (declined.value.http_status, error["code"], error["decline_code"]) == (
        402, "card_declined", "generic_decline")
    assert error["setup_intent"]["status"] == "requires_payment_method"
    assert error["setup_intent"]["last_setup_error"]["code"] == "card_declined"
    assert_stripe_shape(error["setup_intent"])
    assert sim.client.v1.payment_methods.list(params={"customer": customer.id}).data == []
    assert "setup_intent.setup_failed" in event_types(sim)
    again = sim.client.v1.setup_intents.confirm(si.id, params={"payment_method": "pm_card_visa"})
    assert again.status == "succeeded"
    attempts = sim.client.v1.setup_attempts.list(params={"setup_intent": si.id}).data
    assert [a.status for a in attempts] == ["succeeded", "failed"]


def test_a_card_that_always_fails_charges_can_still_be_saved(sim: SimHelper) -> None:
    """4000 0000 0000 0341 attaches (and so sets up) fine; only its charges fail."""
    customer = _customer(sim)
    si = sim.client.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method": "pm_card_chargeCustomerFail", "confirm": True})
    assert si.status == "succeeded"


@pytest.mark.parametrize("outcome", ["succeed", "fail"])
def test_three_d_secure_cards_wait_for_the_customer(sim: SimHelper, outcome: str) -> None:
    customer = _customer(sim)
    si = sim.client.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method": "pm_card_authenticationRequiredOnSetup",
        "confirm": True})
    assert si.status == "requires_action"
    assert si.next_action.type == "use_stripe_sdk"
    assert "setup_intent.requires_action" in event_types(sim)
    assert sim.client.v1.payment_methods.list(params={"customer": customer.id}).data == []
    done = sim.control("POST", f"/_sim/setup_intents/{si.id}/authenticate", {"outcome": outcome})
    if outcome == "succeed":
        assert done["status"] == "succeeded"
        assert sim.client.v1.payment_methods.retrieve(done["payment_method"]).customer == customer.id
    else:
        assert done["status"] == "requires_payment_method"
        assert done["last_setup_error"]["code"] == "setup_intent_authentication_failure"
        assert event_types(sim)[-1] == "setup_intent.setup_failed"
    assert_stripe_shape(sim.client.v1.setup_intents.retrieve(si.id))


def test_cancel_update_and_list(sim: SimHelper) -> None:
    customer = _customer(sim)
    first = sim.client.v1.setup_intents.create(params={"customer": customer.id})
    sim.client.v1.setup_intents.create(params={"customer": _customer(sim).id})
    updated = sim.client.v1.setup_intents.update(first.id, params={
        "payment_method": "pm_card_mastercard", "description": "Top-ups"})
    assert updated.status == "requires_confirmation"
    canceled = sim.client.v1.setup_intents.cancel(first.id, params={
        "cancellation_reason": "abandoned"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    with pytest.raises(stripe.InvalidRequestError, match="status of canceled") as refused:
        sim.client.v1.setup_intents.confirm(first.id)
    assert refused.value.code == "setup_intent_unexpected_state"
    listed = sim.client.v1.setup_intents.list(params={"customer": customer.id})
    assert [si.id for si in listed.data] == [first.id]
    assert_stripe_shape(listed)
    assert event_types(sim).count("setup_intent.canceled") == 1
    other = _customer(sim)
    owned = sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": other.id})
    with pytest.raises(stripe.InvalidRequestError, match="another Customer"):
        sim.client.v1.setup_intents.create(params={"customer": customer.id,
                                                   "payment_method": owned.id})


def _setup_session(sim: SimHelper, customer_id: str | None = None) -> Any:
    params: dict[str, Any] = {"mode": "setup", "currency": "usd",
                              "success_url": "https://app.example/saved?s={CHECKOUT_SESSION_ID}",
                              "cancel_url": "https://app.example/cancel",
                              "setup_intent_data": {"metadata": {"consent": "v1"}}}
    if customer_id:
        params["customer"] = customer_id
    return sim.client.v1.checkout.sessions.create(params=params)


def test_setup_mode_checkout_saves_the_card_on_the_customer(sim: SimHelper) -> None:
    customer = _customer(sim)
    session = _setup_session(sim, customer.id)
    assert (session.mode, session.status, session.payment_status) == (
        "setup", "open", "no_payment_required")
    assert session.amount_total is None
    assert session.setup_intent is None
    assert_stripe_shape(session)
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete",
                       {"payment_method": "pm_card_visa"})
    assert (done["status"], done["payment_status"]) == ("complete", "no_payment_required")
    si = sim.client.v1.setup_intents.retrieve(done["setup_intent"])
    assert si.status == "succeeded"
    assert si.metadata["consent"] == "v1"
    assert sim.client.v1.payment_methods.retrieve(str(si.payment_method)).customer == customer.id
    assert event_types(sim)[-1] == "checkout.session.completed"
    completed = sim.client.v1.events.list(params={"type": "checkout.session.completed"}).data[0]
    assert completed.data.object.setup_intent == si.id
    assert_stripe_shape(completed.data.object)


def test_setup_mode_on_the_hosted_page_with_3d_secure(sim: SimHelper) -> None:
    customer = _customer(sim)
    session = _setup_session(sim, customer.id)
    with httpx.Client(base_url=sim.url) as browser:
        page = browser.get(f"/c/pay/{session.id}")
        assert ">Save card</button>" in page.text
        paid = browser.post(f"/c/pay/{session.id}",
                            data={"payment_method": "pm_card_threeDSecure2Required"})
        assert paid.status_code == 303
        challenge = paid.headers["location"]
        assert challenge.startswith("/c/3ds/seti_")
        answered = browser.post(challenge.split("?")[0],
                                data={"outcome": "succeed", "session": session.id})
    assert answered.status_code == 303
    assert answered.headers["location"] == f"https://app.example/saved?s={session.id}"
    done = sim.client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["setup_intent"]})
    assert done.status == "complete"
    assert done.setup_intent.status == "succeeded"


def test_setup_mode_refusals_change_nothing(sim: SimHelper) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="line_items"):
        sim.client.v1.checkout.sessions.create(params={
            "mode": "setup", "currency": "usd", "success_url": "https://app.example/ok",
            "line_items": [{"price": price(sim).id, "quantity": 1}]})
    session = _setup_session(sim, _customer(sim).id)
    response = sim.http.post(f"/_sim/checkout/sessions/{session.id}/complete",
                             json={"payment_method": "pm_card_visa_chargeDeclinedLostCard"})
    assert response.status_code == 402
    assert response.json()["error"]["decline_code"] == "lost_card"
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert sim.client.v1.setup_intents.list().data == []
