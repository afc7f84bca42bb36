"""Whole billing stories on test clocks: renewals, dunning, prorations, cancellation, refunds."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, event_types, price, subscribe
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def _month(n: int) -> int:
    """1 Jan 2026 + n calendar months (all these months start on day 1)."""
    year, month = 2026 + n // 12, n % 12 + 1
    import calendar

    return calendar.timegm((year, month, 1, 0, 0, 0))


def test_renews_for_twelve_months_with_events_and_previous_attributes(sim: SimHelper, webhooks) -> None:
    pro = price(sim)
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, pro.id)
    assert sub.status == "active"
    timings = []
    for n in range(1, 13):
        started = time.perf_counter()
        advance(sim, clock.id, _month(n) + 2 * 3600)
        sim.flush()
        timings.append(time.perf_counter() - started)
    print(f"\none month advanced + webhooks delivered: median {sorted(timings)[6] * 1000:.1f} ms, "
          f"max {max(timings) * 1000:.1f} ms")
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    item = sub["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (_month(12), _month(13))
    invoices = sim.client.v1.invoices.list(params={"subscription": sub.id, "limit": 100}).data
    assert len(invoices) == 13
    assert all(i.status == "paid" for i in invoices)
    cycle = invoices[0]
    assert cycle.billing_reason == "subscription_cycle"
    assert cycle.status_transitions.finalized_at == _month(12) + 3600
    assert_stripe_shape(cycle)
    lines = sim.client.v1.invoices.line_items.list(cycle.id)
    assert lines.data[0].period.start == _month(12)
    assert_stripe_shape(lines)
    updates = sim.client.v1.events.list(params={"type": "customer.subscription.updated"}).data
    assert "items" in updates[0].data.previous_attributes
    assert event_types(sim).count("invoice.paid") == 13
    assert all(d["status"] == "succeeded" for d in sim.deliveries())
    clock_obj = sim.client.v1.test_helpers.test_clocks.retrieve(clock.id)
    assert clock_obj.status == "ready"
    assert_stripe_shape(clock_obj)


def test_failed_renewal_goes_past_due_then_canceled_after_retries(sim: SimHelper) -> None:
    pro = price(sim)
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, pro.id)
    bad = sim.client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                               params={"customer": customer.id})
    sim.client.v1.subscriptions.update(sub.id, params={"default_payment_method": bad.id})
    advance(sim, clock.id, _month(1) + 2 * 3600)
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    invoice = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert invoice.status == "open"
    assert invoice.attempt_count == 1
    assert invoice.next_payment_attempt == _month(1) + 3600 + DAY
    advance(sim, clock.id, _month(1) + 20 * DAY)
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled"
    assert sub.cancellation_details.reason == "payment_failed"
    invoice = sim.client.v1.invoices.retrieve(invoice.id)
    assert invoice.attempt_count == 8
    assert invoice.next_payment_attempt is None
    types = event_types(sim)
    assert types.count("invoice.payment_failed") == 8
    assert types[-1] == "test_helpers.test_clock.ready"
    assert "customer.subscription.deleted" in types


def test_upgrade_always_invoice_and_downgrade_leaves_balance_for_next_invoice(sim: SimHelper) -> None:
    basic, plus = price(sim, 1000, name="Basic"), price(sim, 3000, name="Plus")
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, basic.id)
    item_id = sub["items"].data[0].id
    advance(sim, clock.id, T0 + 15 * DAY + 12 * 3600)  # half of January (31 days)
    up = sim.client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": item_id, "price": plus.id}], "proration_behavior": "always_invoice"})
    invoice = sim.client.v1.invoices.retrieve(str(up.latest_invoice))
    assert invoice.billing_reason == "subscription_update"
    assert invoice.status == "paid"
    assert invoice.total == -500 + 1500
    prorations = [line for line in invoice.lines.data
                  if line.parent.subscription_item_details.proration]
    assert len(prorations) == 2
    assert_stripe_shape(invoice)
    down = sim.client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": item_id, "price": basic.id}], "proration_behavior": "always_invoice"})
    credit_invoice = sim.client.v1.invoices.retrieve(str(down.latest_invoice))
    assert credit_invoice.total == -1500 + 500
    assert credit_invoice.amount_due == 0
    assert sim.client.v1.customers.retrieve(customer.id).balance == -1000
    advance(sim, clock.id, _month(1) + 2 * 3600)
    renewal = sim.client.v1.invoices.retrieve(
        str(sim.client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert renewal.total == 1000
    assert renewal.starting_balance == -1000
    assert renewal.amount_due == 0
    assert renewal.status == "paid"
    assert sim.client.v1.customers.retrieve(customer.id).balance == 0


def test_create_prorations_land_on_the_next_invoice(sim: SimHelper) -> None:
    basic, plus = price(sim, 1000), price(sim, 3000)
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, basic.id)
    advance(sim, clock.id, T0 + 15 * DAY + 12 * 3600)
    sim.client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"].data[0].id, "price": plus.id}]})
    advance(sim, clock.id, _month(1) + 2 * 3600)
    renewal = sim.client.v1.invoices.retrieve(
        str(sim.client.v1.subscriptions.retrieve(sub.id).latest_invoice))
    assert renewal.total == 3000 - 500 + 1500


def test_cancel_at_period_end_then_deleted_at_period_end(sim: SimHelper) -> None:
    pro = price(sim)
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, pro.id)
    sub = sim.client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert sub.status == "active"
    assert sub.cancel_at == _month(1)
    advance(sim, clock.id, _month(1) + 60)
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled"
    assert sub.ended_at == _month(1)
    assert event_types(sim)[-2] == "customer.subscription.deleted"
    assert sim.client.v1.subscriptions.list(params={"customer": customer.id}).data == []
    assert len(sim.client.v1.subscriptions.list(params={"status": "all"}).data) == 1


def test_cancel_now_and_trial_then_active(sim: SimHelper) -> None:
    pro = price(sim)
    clock, customer = clock_customer(sim)
    trial = subscribe(sim, customer.id, pro.id, trial_period_days=14)
    assert trial.status == "trialing"
    assert trial.trial_end == T0 + 14 * DAY
    advance(sim, clock.id, T0 + 14 * DAY + 2 * 3600)
    trial = sim.client.v1.subscriptions.retrieve(trial.id)
    assert trial.status == "active"
    assert "customer.subscription.trial_will_end" in event_types(sim)
    canceled = sim.client.v1.subscriptions.cancel(trial.id)
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.subscriptions.cancel(trial.id)


def test_payment_behaviours(sim: SimHelper) -> None:
    pro = price(sim)
    customer = sim.client.v1.customers.create(params={"email": "x@example.com"})
    with pytest.raises(stripe.InvalidRequestError, match="no attached payment source"):
        subscribe(sim, customer.id, pro.id)
    pending = subscribe(sim, customer.id, pro.id, payment_behavior="default_incomplete")
    assert pending.status == "incomplete"
    failing = sim.client.v1.customers.create(params={
        "payment_method": "pm_card_chargeCustomerFail",
        "invoice_settings": {"default_payment_method": "pm_card_chargeCustomerFail"}})
    with pytest.raises(stripe.CardError):
        subscribe(sim, failing.id, pro.id, payment_behavior="error_if_incomplete")
    assert sim.client.v1.subscriptions.list(params={"customer": failing.id}).data == []
    incomplete = subscribe(sim, failing.id, pro.id)
    assert incomplete.status == "incomplete"
    listed = sim.client.v1.subscriptions.list(params={"status": "incomplete", "price": pro.id})
    assert {s.id for s in listed.data} == {pending.id, incomplete.id}


def test_writes_during_an_advance_answer_429(sim: SimHelper) -> None:
    pro = price(sim)
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, pro.id)
    from stripesim import clock as clocks

    with sim.engine.store.lock:  # an advance under way, paused before its first step
        clocks.begin_advance(sim.engine, sim.engine.store.get("test_helpers.test_clock", clock.id),
                             _month(1))
    with pytest.raises(stripe.RateLimitError, match="advancement underway"):
        sim.client.v1.subscriptions.update(sub.id, params={"metadata": {"a": "b"}})
    assert sim.client.v1.test_helpers.test_clocks.retrieve(clock.id).status == "advancing"
    clocks.advance_now(sim.engine, clock.id)
    assert sim.client.v1.test_helpers.test_clocks.retrieve(clock.id).status == "ready"
    ready = sim.client.v1.test_helpers.test_clocks.advance(clock.id, params={
        "frozen_time": _month(1) + 7200})
    assert ready.status == "advancing"
    # Wait for the background advance itself (no polling against a deadline).
    assert sim.control("POST", f"/_sim/test_clocks/{clock.id}/wait")["status"] == "ready"
    assert sim.client.v1.test_helpers.test_clocks.retrieve(clock.id).status == "ready"
    assert sim.client.v1.invoices.retrieve(
        str(sim.client.v1.subscriptions.retrieve(sub.id).latest_invoice)).status == "paid"


def test_clock_limits_and_delete_cascades(sim: SimHelper) -> None:
    pro = price(sim)
    clock, customer = clock_customer(sim)
    subscribe(sim, customer.id, pro.id)
    with pytest.raises(stripe.InvalidRequestError, match="two intervals"):
        sim.client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": _month(3)})
    with pytest.raises(stripe.InvalidRequestError, match="later than"):
        sim.client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": T0})
    listed = sim.client.v1.test_helpers.test_clocks.list()
    assert [c.id for c in listed.data] == [clock.id]
    deleted = sim.client.v1.test_helpers.test_clocks.delete(clock.id)
    assert deleted.deleted is True
    assert sim.client.v1.customers.retrieve(customer.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.test_helpers.test_clocks.retrieve(clock.id)


def test_partial_and_full_refunds(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    pi = sim.client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "customer": customer.id,
        "payment_method": "pm_card_visa", "confirm": True})
    assert pi.status == "succeeded"
    partial = sim.client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 300})
    assert_stripe_shape(partial)
    charge = sim.client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.amount_refunded == 300
    assert not charge.refunded
    sim.client.v1.refunds.create(params={"charge": charge.id})
    charge = sim.client.v1.charges.retrieve(charge.id)
    assert charge.amount_refunded == 1000
    assert charge.refunded
    assert_stripe_shape(charge)
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.refunds.create(params={"charge": charge.id})
    refunded = sim.client.v1.events.list(params={"type": "charge.refunded"}).data
    assert len(refunded) == 2
    assert refunded[0].data.previous_attributes["amount_refunded"] == 300
    assert len(sim.client.v1.refunds.list(params={"charge": charge.id}).data) == 2


def test_a_charge_lists_its_refunds_only_when_expanded(sim: SimHelper) -> None:
    """Since 2022-11-15 `refunds` is not on a charge unless asked for with expand[]=refunds."""
    pi = sim.client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True})
    first = sim.client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 300})
    second = sim.client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 200})
    plain = sim.http.get(f"/v1/charges/{pi.latest_charge}").json()
    assert "refunds" not in plain
    assert plain["amount_refunded"] == 500
    expanded = sim.client.v1.charges.retrieve(str(pi.latest_charge), params={"expand": ["refunds"]})
    assert [refund.id for refund in expanded.refunds.data] == [second.id, first.id]  # newest first
    assert expanded.refunds.url == f"/v1/charges/{pi.latest_charge}/refunds"
    event = sim.client.v1.events.list(params={"type": "charge.refunded"}).data[0]
    assert "refunds" not in event.data.object
