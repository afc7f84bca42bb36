"""Trials without a payment method: what the trial's end does (cancel, pause, create_invoice),
the events Stripe sends, and Checkout starting such a trial (`payment_method_collection`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, event_types, price
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape

TRIAL_END = T0 + 14 * DAY


def _trial(sim: SimHelper, behaviour: str) -> tuple[Any, Any, Any]:
    pro = price(sim, 2000)
    clock, customer = clock_customer(sim, pm=None)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": pro.id}], "trial_period_days": 14,
        "trial_settings": {"end_behavior": {"missing_payment_method": behaviour}}})
    assert (sub.status, sub.default_payment_method, sub.trial_end) == ("trialing", None, TRIAL_END)
    assert sub.trial_settings.end_behavior.missing_payment_method == behaviour
    return clock, customer, sub


def _since(sim: SimHelper, first: str) -> list[str]:
    types = event_types(sim)
    return types[types.index(first):]


def test_a_trial_ending_without_a_card_cancels(sim: SimHelper) -> None:
    clock, _customer, sub = _trial(sim, "cancel")
    advance(sim, clock.id, TRIAL_END - 3 * DAY + 60)
    assert event_types(sim)[-2:] == ["customer.subscription.trial_will_end",
                                     "test_helpers.test_clock.ready"]
    advance(sim, clock.id, TRIAL_END + 3600)
    ended = sim.client.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", TRIAL_END)
    assert "customer.subscription.deleted" in _since(sim, "customer.subscription.trial_will_end")
    assert len(sim.client.v1.invoices.list(params={"subscription": sub.id}).data) == 1  # the $0 one


def test_a_paused_trial_resumes_once_a_card_is_added(sim: SimHelper) -> None:
    clock, customer, sub = _trial(sim, "pause")
    advance(sim, clock.id, TRIAL_END + 3600)
    paused = sim.client.v1.subscriptions.retrieve(sub.id)
    assert paused.status == "paused"
    assert_stripe_shape(paused)
    assert _since(sim, "customer.subscription.trial_will_end")[1:3] == [
        "customer.subscription.updated", "customer.subscription.paused"]
    updated = sim.client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated.data.previous_attributes["status"] == "trialing"
    advance(sim, clock.id, TRIAL_END + 40 * DAY)  # no invoice while paused, however long
    assert len(sim.client.v1.invoices.list(params={"subscription": sub.id}).data) == 1
    card = sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    sim.client.v1.customers.update(customer.id, params={
        "invoice_settings": {"default_payment_method": card.id}})
    resumed = sim.client.v1.subscriptions.resume(sub.id)
    assert resumed.status == "active"
    invoice = sim.client.v1.invoices.retrieve(str(resumed.latest_invoice))
    assert (invoice.status, invoice.amount_paid) == ("paid", 2000)
    assert "customer.subscription.resumed" in event_types(sim)


def test_create_invoice_bills_at_the_trials_end_and_goes_past_due(sim: SimHelper) -> None:
    clock, _customer, sub = _trial(sim, "create_invoice")
    advance(sim, clock.id, TRIAL_END + 2 * 3600)
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    invoice = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (invoice.status, invoice.amount_due, invoice.attempt_count) == ("open", 2000, 1)
    assert {"invoice.created", "invoice.finalized", "invoice.payment_failed"} <= set(
        _since(sim, "customer.subscription.trial_will_end"))


def test_a_card_added_during_the_trial_is_charged_at_its_end(sim: SimHelper) -> None:
    clock, customer, sub = _trial(sim, "cancel")
    saved = sim.client.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method": "pm_card_visa", "confirm": True})
    sim.client.v1.subscriptions.update(sub.id, params={
        "default_payment_method": str(saved.payment_method)})
    advance(sim, clock.id, TRIAL_END + 2 * 3600)
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active"
    assert sim.client.v1.invoices.retrieve(str(sub.latest_invoice)).amount_paid == 2000


def _trial_session(sim: SimHelper, price_id: str, customer_id: str, collection: str) -> Any:
    return sim.client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer_id, "line_items": [{"price": price_id}],
        "payment_method_collection": collection, "success_url": "https://app.example/ok",
        "subscription_data": {"trial_period_days": 14, "trial_settings": {
            "end_behavior": {"missing_payment_method": "pause"}}}})


def test_checkout_starts_a_trial_without_a_card(sim: SimHelper) -> None:
    pro = price(sim, 2000)
    clock, customer = clock_customer(sim, pm=None)
    session = _trial_session(sim, pro.id, customer.id, "if_required")
    assert (session.payment_method_collection, session.amount_total) == ("if_required", 0)
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {})
    assert (done["status"], done["payment_status"]) == ("complete", "no_payment_required")
    sub = sim.client.v1.subscriptions.retrieve(done["subscription"])
    assert (sub.status, sub.default_payment_method) == ("trialing", None)
    assert sub.trial_settings.end_behavior.missing_payment_method == "pause"
    assert sim.client.v1.payment_methods.list(params={"customer": customer.id}).data == []
    completed = sim.client.v1.events.list(params={"type": "checkout.session.completed"}).data[0]
    assert_stripe_shape(completed.data.object)
    advance(sim, clock.id, TRIAL_END + 3600)
    assert sim.client.v1.subscriptions.retrieve(sub.id).status == "paused"


def test_checkout_trial_with_a_card_is_no_payment_required_too(sim: SimHelper) -> None:
    pro = price(sim, 2000)
    _clock, customer = clock_customer(sim, pm=None)
    session = _trial_session(sim, pro.id, customer.id, "always")
    with httpx.Client(base_url=sim.url) as browser:
        refused = browser.post(f"/c/pay/{session.id}", data={"payment_method": ""})
        assert refused.status_code == 400
        assert "payment method is required" in refused.text
        paid = browser.post(f"/c/pay/{session.id}", data={"payment_method": "pm_card_visa"})
    assert paid.status_code == 303
    done = sim.client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription"]})
    assert (done.payment_status, done.subscription.status) == ("no_payment_required", "trialing")
    assert done.subscription.default_payment_method is not None


def test_bad_trial_settings_are_refused(sim: SimHelper) -> None:
    pro, pack = price(sim, 2000), price(sim, 500, interval=None)
    _clock, customer = clock_customer(sim, pm=None)
    with pytest.raises(stripe.InvalidRequestError, match="missing_payment_method"):
        sim.client.v1.subscriptions.create(params={
            "customer": customer.id, "items": [{"price": pro.id}], "trial_period_days": 7,
            "trial_settings": {"end_behavior": {"missing_payment_method": "ignore"}}})
    with pytest.raises(stripe.InvalidRequestError, match="only be used in `subscription` mode"):
        sim.client.v1.checkout.sessions.create(params={
            "mode": "payment", "line_items": [{"price": pack.id}],
            "payment_method_collection": "if_required", "success_url": "https://app.example/ok"})
    assert sim.client.v1.subscriptions.list(params={"customer": customer.id}).data == []
