"""Checkout Sessions: create, complete (what Stripe creates, in causal order), expire."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.stripesim.billing_helpers import T0, advance, clock_customer, event_types, price
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def _session(sim: SimHelper, price_id: str, **extra: object) -> stripe.checkout.Session:
    params = {"mode": "subscription", "line_items": [{"price": price_id, "quantity": 1}],
              "success_url": "https://app.example/ok?s={CHECKOUT_SESSION_ID}",
              "cancel_url": "https://app.example/cancel", **extra}
    return sim.client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]


def test_subscribing_through_checkout_creates_everything_in_causal_order(sim: SimHelper) -> None:
    pro = price(sim)
    session = _session(sim, pro.id, customer_email="ada@example.com", client_reference_id="u1",
                       metadata={"user": "1"}, subscription_data={"metadata": {"plan": "pro"}})
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.url
    assert session.url.endswith(session.id)
    assert_stripe_shape(session)
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete",
                       {"payment_method": "pm_card_visa"})
    assert done["status"] == "complete"
    assert done["payment_status"] == "paid"
    assert done["customer_details"]["email"] == "ada@example.com"
    sub = sim.client.v1.subscriptions.retrieve(done["subscription"],
                                               params={"expand": ["latest_invoice"]})
    assert sub.status == "active"
    assert sub.metadata["plan"] == "pro"
    assert_stripe_shape(sub)
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.id == done["invoice"]
    assert invoice.status == "paid"
    assert invoice.billing_reason == "subscription_create"
    assert invoice.amount_paid == 2000
    assert invoice.parent
    assert invoice.parent.subscription_details
    assert invoice.parent.subscription_details.metadata.to_dict() == {"plan": "pro"}
    assert_stripe_shape(invoice)
    item = sub["items"].data[0]
    assert item.current_period_end > item.current_period_start
    assert "current_period_end" not in sub
    types = event_types(sim)
    expected = ["customer.created", "payment_method.attached", "customer.subscription.created",
                "invoice.created", "invoice.finalized", "payment_intent.created",
                "charge.succeeded", "payment_intent.succeeded", "invoice.paid",
                "invoice.payment_succeeded", "customer.subscription.updated",
                "checkout.session.completed"]
    assert [t for t in types if t in expected] == expected
    updated = sim.client.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert updated.data.previous_attributes["status"] == "incomplete"
    for obj_type in ("payment_intent", "charge"):
        found = sim.client.v1.events.list(params={"type": f"{obj_type}.succeeded"}).data[0]
        assert_stripe_shape(found.data.object)
    items = sim.client.v1.checkout.sessions.line_items.list(session.id)
    assert items.data[0].price.id == pro.id
    assert_stripe_shape(items)
    listed = sim.client.v1.checkout.sessions.list(params={"subscription": sub.id})
    assert [s.id for s in listed.data] == [session.id]


def test_credit_pack_bought_in_payment_mode_with_quantity(sim: SimHelper) -> None:
    pack = price(sim, amount=500, interval=None, name="100 credits")
    customer = sim.client.v1.customers.create(params={"email": "c@example.com"})
    session = sim.client.v1.checkout.sessions.create(params={
        "mode": "payment", "customer": customer.id,
        "line_items": [{"price": pack.id, "quantity": 3}],
        "payment_intent_data": {"metadata": {"pack": "100"}},
        "success_url": "https://app.example/ok"})
    assert session.amount_total == 1500
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {})
    pi = sim.client.v1.payment_intents.retrieve(done["payment_intent"])
    assert pi.status == "succeeded"
    assert pi.amount == 1500
    assert pi.metadata["pack"] == "100"
    assert_stripe_shape(pi)
    charge = sim.client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.paid
    assert charge.amount == 1500
    assert_stripe_shape(charge)


def test_declined_card_leaves_the_session_open(sim: SimHelper) -> None:
    session = _session(sim, price(sim).id)
    response = sim.http.post(f"/_sim/checkout/sessions/{session.id}/complete",
                             json={"payment_method": "pm_card_visa_chargeDeclinedInsufficientFunds"})
    assert response.status_code == 402
    assert response.json()["error"]["decline_code"] == "insufficient_funds"
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert sim.client.v1.subscriptions.list().data == []


def test_expire_only_when_open_and_automatic_expiry_on_a_clock(sim: SimHelper) -> None:
    pro = price(sim)
    session = _session(sim, pro.id)
    expired = sim.client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        sim.client.v1.checkout.sessions.expire(session.id)
    clock, customer = clock_customer(sim)
    later = _session(sim, pro.id, customer=customer.id, expires_at=T0 + 3600)
    advance(sim, clock.id, T0 + 2 * 3600)
    assert sim.client.v1.checkout.sessions.retrieve(later.id).status == "expired"
    assert event_types(sim).count("checkout.session.expired") == 2
    with pytest.raises(stripe.InvalidRequestError, match="30 minutes"):
        _session(sim, pro.id, expires_at=T0)


def test_three_d_secure_never_completed_expires_the_subscription(sim: SimHelper) -> None:
    pro = price(sim)
    clock, customer = clock_customer(sim, pm=None)
    session = _session(sim, pro.id, customer=customer.id)
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete",
                       {"payment_method": "pm_card_threeDSecure2Required"})
    assert done["status"] == "open"
    sub = sim.client.v1.subscriptions.retrieve(done["subscription"])
    assert sub.status == "incomplete"
    invoice = sim.client.v1.invoices.retrieve(str(sub.latest_invoice), params={"expand": ["payments"]})
    assert invoice.status == "open"
    pi = sim.client.v1.payment_intents.retrieve(invoice.payments.data[0].payment.payment_intent)
    assert pi.status == "requires_action"
    advance(sim, clock.id, T0 + 23 * 3600 + 1)
    sub = sim.client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "incomplete_expired"
    assert sim.client.v1.invoices.retrieve(invoice.id).status == "void"


def test_three_d_secure_confirmed_later_completes_the_session(sim: SimHelper) -> None:
    session = _session(sim, price(sim).id)
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete",
                       {"payment_method": "pm_card_threeDSecure2Required"})
    invoice = sim.client.v1.invoices.retrieve(done["invoice"], params={"expand": ["payments"]})
    pi_id = invoice.payments.data[0].payment.payment_intent
    pi = sim.client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"
    assert sim.client.v1.subscriptions.retrieve(done["subscription"]).status == "active"
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def test_unknown_session_is_a_404(sim: SimHelper) -> None:
    response = sim.http.get("/v1/checkout/sessions/cs_test_nope")
    assert response.status_code == 404
    assert isinstance(response, httpx.Response)


def test_expanding_line_items_shows_the_sessions_lines_with_their_prices_as_they_are_now(
    sim: SimHelper,
) -> None:
    pack = price(sim, amount=500, interval=None, name="100 credits")
    session = sim.client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": pack.id, "quantity": 3}],
        "success_url": "https://app.example/ok", "expand": ["line_items"]})
    assert [(line.price.id, line.quantity) for line in session.line_items.data] == [(pack.id, 3)]
    sim.client.v1.prices.update(pack.id, params={"lookup_key": "pack", "active": False})
    again = sim.client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    [line] = again.line_items.data
    assert (line.price.lookup_key, line.price.active) == ("pack", False)


def test_a_trial_subscription_checkout_needs_no_payment(sim: SimHelper) -> None:
    price = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1200,
                                                "recurring": {"interval": "month"},
                                                "product_data": {"name": "Trial"}})
    session = sim.client.v1.checkout.sessions.create(params={
        "mode": "subscription", "success_url": "https://app.example/ok",
        "line_items": [{"price": price.id}], "subscription_data": {"trial_period_days": 14}})
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {})
    assert (done["status"], done["payment_status"]) == ("complete", "no_payment_required")
    assert sim.client.v1.subscriptions.retrieve(done["subscription"]).status == "trialing"


def test_invoice_creation_on_payment_mode_checkout_makes_a_paid_invoice(sim: SimHelper) -> None:
    price = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 1500,
                                                "product_data": {"name": "Pack"}})
    session = sim.client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://app.example/ok", "customer_email": "b@example.com",
        "line_items": [{"price": price.id, "quantity": 2}],
        "invoice_creation": {"enabled": True, "invoice_data": {"description": "Credits",
                                                                 "metadata": {"order": "42"}}}})
    assert session.invoice_creation.enabled is True
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {})
    invoice = sim.client.v1.invoices.retrieve(done["invoice"], params={"expand": ["payments"]})
    assert (invoice.status, invoice.total, invoice.amount_paid, invoice.customer) == (
        "paid", 3000, 3000, done["customer"])
    assert (invoice.description, invoice.metadata.to_dict()) == ("Credits", {"order": "42"})
    assert invoice.lines.data[0].quantity == 2
    assert invoice.payments.data[0].payment.payment_intent == done["payment_intent"]
    assert_stripe_shape(invoice)
    plain = sim.client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://app.example/ok",
        "line_items": [{"price": price.id}]})
    assert sim.control("POST", f"/_sim/checkout/sessions/{plain.id}/complete", {})["invoice"] is None


def test_the_address_typed_in_checkout_is_saved_with_customer_update_auto(sim: SimHelper) -> None:
    price = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 900,
                                                "recurring": {"interval": "month"},
                                                "product_data": {"name": "Taxed"}})
    customer = sim.client.v1.customers.create(params={"email": "t@example.com"})
    session = sim.client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id, "success_url": "https://app.example/ok",
        "automatic_tax": {"enabled": True}, "customer_update": {"address": "auto"},
        "line_items": [{"price": price.id}]})
    sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete",
                {"address": {"country": "US", "postal_code": "94110", "state": "CA"}})
    saved = sim.client.v1.customers.retrieve(customer.id, params={"expand": ["tax"]})
    assert (saved.address.country, saved.address.postal_code) == ("US", "94110")
    assert saved.tax.automatic_tax == "supported"
