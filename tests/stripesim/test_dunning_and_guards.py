"""Writes during a clock advance answer 429 everywhere; hard declines are not retried."""

from __future__ import annotations

import calendar
from collections.abc import Iterator

import pytest
import stripe

from stripesim import clock as clocks
from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, event_types, price, subscribe
from tests.stripesim.conftest import SimHelper

FEB_1 = calendar.timegm((2026, 2, 1, 0, 0, 0))


@pytest.fixture
def advancing(sim: SimHelper) -> Iterator[tuple[str, str]]:
    """A clock customer (with a card) whose clock is mid-advance, paused before any work."""
    clock, customer = clock_customer(sim)
    with sim.engine.store.lock:
        clocks.begin_advance(sim.engine, sim.engine.store.get("test_helpers.test_clock", clock.id),
                             T0 + DAY)
    yield clock.id, customer.id
    clocks.advance_now(sim.engine, clock.id)


def test_customer_and_payment_method_writes_answer_429_while_advancing(
        sim: SimHelper, advancing: tuple[str, str]) -> None:
    clock_id, customer_id = advancing
    card = sim.client.v1.payment_methods.list(params={"customer": customer_id}).data[0]
    writes = [
        lambda: sim.client.v1.customers.update(customer_id, params={"name": "Ada"}),
        lambda: sim.client.v1.customers.delete(customer_id),
        lambda: sim.client.v1.customers.create(params={"test_clock": clock_id}),
        lambda: sim.client.v1.payment_methods.attach("pm_card_mastercard",
                                                     params={"customer": customer_id}),
        lambda: sim.client.v1.payment_methods.detach(card.id),
        lambda: sim.client.v1.payment_methods.update(card.id, params={"metadata": {"a": "b"}}),
        lambda: sim.client.v1.invoice_items.create(params={
            "customer": customer_id, "amount": 100, "currency": "usd"}),
    ]
    for write in writes:
        with pytest.raises(stripe.RateLimitError, match="advancement underway"):
            write()
    assert sim.client.v1.customers.retrieve(customer_id).name is None  # reads still work
    other = sim.client.v1.customers.create(params={"name": "Not on the clock"})
    assert sim.client.v1.customers.update(other.id, params={"name": "Fine"}).name == "Fine"


@pytest.mark.parametrize("card", ["pm_card_visa_chargeDeclinedLostCard",
                                  "pm_card_visa_chargeDeclinedStolenCard",
                                  "pm_card_chargeDeclinedExpiredCard"])
def test_hard_declines_are_not_retried(sim: SimHelper, card: str) -> None:
    pro = price(sim)
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, pro.id)
    with pytest.raises(stripe.CardError):  # Stripe validates such cards when attaching them
        sim.client.v1.payment_methods.attach(card, params={"customer": customer.id})
    default = sim.client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method
    sim.control("POST", f"/_sim/payment_methods/{default}/behave_like", {"card": card})
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    invoice = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (sub.status, invoice.attempt_count, invoice.next_payment_attempt) == ("past_due", 1, None)
    failed = sim.client.v1.events.list(params={"type": "invoice.payment_failed"}).data[0]
    assert failed.data.object.id == invoice.id
    advance(sim, clock.id, FEB_1 + 20 * DAY)
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    assert sim.client.v1.invoices.retrieve(invoice.id).attempt_count == 1
    assert event_types(sim).count("invoice.payment_failed") == 1
    # The outcome still waits for the end of the retry window (14 days).
    assert (sub.status, sub.ended_at) == ("canceled", FEB_1 + 3600 + 14 * DAY)
    assert sub.cancellation_details.reason == "payment_failed"


def test_a_soft_decline_is_retried_and_the_final_action_is_configurable(sim: SimHelper) -> None:
    assert sim.control("POST", "/_sim/billing/settings",
                       {"final_action": "unpaid"}) == {"final_action": "unpaid"}
    pro = price(sim)
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, pro.id)
    default = sim.client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method
    sim.control("POST", f"/_sim/payment_methods/{default}/behave_like",
                {"card": "pm_card_visa_chargeDeclinedInsufficientFunds"})
    advance(sim, clock.id, FEB_1 + 2 * 3600)
    invoice = sim.client.v1.invoices.retrieve(
        str(sim.client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert invoice.next_payment_attempt == FEB_1 + 3600 + DAY
    advance(sim, clock.id, FEB_1 + 20 * DAY)
    assert sim.client.v1.invoices.retrieve(invoice.id).attempt_count == 8
    assert sim.client.v1.subscriptions.retrieve(sub.id).status == "unpaid"
    response = sim.http.post("/_sim/billing/settings", json={"final_action": "explode"})
    assert response.status_code == 400
    assert sim.control("GET", "/_sim/billing/settings") == {"final_action": "unpaid"}


def test_new_test_cards_by_number_and_alias(sim: SimHelper) -> None:
    lost = sim.client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000009987", "exp_month": 1, "exp_year": 2031}})
    assert lost.card.last4 == "9987"
    pi = sim.http.post("/v1/payment_intents", data={
        "amount": "500", "currency": "usd", "payment_method": lost.id, "confirm": "true"})
    assert pi.status_code == 402
    assert pi.json()["error"]["decline_code"] == "lost_card"
    stolen = sim.client.v1.payment_methods.retrieve("pm_card_visa_chargeDeclinedStolenCard")
    assert stolen.card.last4 == "9979"
