"""One story that makes stripesim emit every kind of object it knows, checking each
returned object, and every event's `data.object`, against Stripe's shapes
(`assert_stripe_shape`: SDK class fields + fixtures3 example fields)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from tests.stripesim.billing_helpers import DAY, T0
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape
from tests.stripesim.receiver import WebhookReceiver

EVERY_KIND = {
    "billing_portal.configuration", "billing_portal.session", "charge", "checkout.session",
    "coupon", "credit_note", "credit_note_line_item", "customer", "customer_balance_transaction",
    "discount", "event", "invoice", "invoice_payment", "invoiceitem", "item", "line_item",
    "promotion_code", "billing.meter", "billing.meter_event", "billing.meter_event_adjustment",
    "billing.meter_event_summary",
    "payment_intent", "payment_method", "plan", "price", "product", "refund", "setup_attempt",
    "setup_intent", "subscription", "subscription_item", "test_helpers.test_clock",
    "webhook_endpoint",
}


class Walker:
    """Checks objects as they come back and remembers every `object` kind seen, nested too."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.checked = 0

    def __call__(self, obj: Any, where: str | None = None) -> Any:
        data = json.loads(str(obj)) if isinstance(obj, stripe.StripeObject) else obj
        assert_stripe_shape(data, where=where)
        self._collect(data)
        self.checked += 1
        return obj

    def _collect(self, value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("object"), str):
                self.kinds.add(value["object"])
            for item in value.values():
                self._collect(item)
        elif isinstance(value, list):
            for item in value:
                self._collect(item)


def _catalog(sim: SimHelper, check: Walker) -> dict[str, Any]:
    v1 = sim.client.v1
    product = check(v1.products.create(params={"name": "Pro", "metadata": {"tier": "pro"}}))
    monthly = check(v1.prices.create(params={
        "product": product.id, "currency": "usd", "unit_amount": 2000, "lookup_key": "pro_m",
        "recurring": {"interval": "month"}}))
    yearly = check(v1.prices.create(params={
        "product": product.id, "currency": "usd", "unit_amount": 20000,
        "recurring": {"interval": "year"}}))
    plus = check(v1.prices.create(params={
        "currency": "usd", "unit_amount": 4000, "recurring": {"interval": "month"},
        "product_data": {"name": "Plus"}}))
    credits = check(v1.prices.create(params={
        "currency": "usd", "unit_amount": 500, "product_data": {"name": "Credits"}}))
    addon = check(v1.prices.create(params={
        "currency": "usd", "unit_amount": 300, "recurring": {"interval": "month"},
        "product_data": {"name": "Extra tokens"}}))
    check(v1.products.retrieve(product.id, params={"expand": ["default_price"]}))
    check(v1.prices.list(params={"lookup_keys": ["pro_m"], "expand": ["data.product"]}))
    check(v1.prices.search(params={"query": "active:'true'"}))
    check(v1.products.list())
    throwaway = check(v1.products.create(params={"name": "Gone"}))
    check(v1.products.delete(throwaway.id))
    return {"product": product, "monthly": monthly, "yearly": yearly, "plus": plus,
            "credits": credits, "addon": addon}


def _checkout(sim: SimHelper, check: Walker, customer_id: str, prices: dict[str, Any]) -> None:
    v1 = sim.client.v1
    subscribe = check(v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer_id,
        "line_items": [{"price": prices["monthly"].id, "quantity": 1}],
        "success_url": "https://app.example/ok?s={CHECKOUT_SESSION_ID}",
        "subscription_data": {"metadata": {"via": "checkout"}}}))
    check(v1.checkout.sessions.line_items.list(subscribe.id))
    check(sim.control("POST", f"/_sim/checkout/sessions/{subscribe.id}/complete",
                      {"payment_method": "pm_card_visa"}))
    check(v1.checkout.sessions.retrieve(subscribe.id, params={
        "expand": ["line_items", "subscription", "invoice", "customer"]}))
    pack = check(v1.checkout.sessions.create(params={
        "mode": "payment", "customer_email": "buyer@example.com", "customer_creation": "always",
        "line_items": [{"price": prices["credits"].id, "quantity": 3}],
        "payment_intent_data": {"metadata": {"credits": "3"}},
        "success_url": "https://app.example/ok", "cancel_url": "https://app.example/no"}))
    done = check(sim.control("POST", f"/_sim/checkout/sessions/{pack.id}/complete", {}))
    pi = check(v1.payment_intents.retrieve(done["payment_intent"],
                                           params={"expand": ["latest_charge", "customer"]}))
    check(v1.refunds.create(params={"payment_intent": pi.id, "amount": 500}))
    check(v1.refunds.list())
    check(v1.charges.retrieve(pi.latest_charge.id, params={"expand": ["refunds"]}))
    expiring = check(v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": prices["credits"].id}],
        "success_url": "https://app.example/ok"}))
    check(v1.checkout.sessions.expire(expiring.id))
    check(v1.checkout.sessions.list())


def _payments(sim: SimHelper, check: Walker, customer_id: str) -> None:
    v1 = sim.client.v1
    three_ds = check(v1.payment_intents.create(params={
        "amount": 700, "currency": "usd", "customer": customer_id, "confirm": True,
        "payment_method": "pm_card_threeDSecure2Required"}))
    assert three_ds.status == "requires_action"
    check(sim.control("POST", f"/_sim/payment_intents/{three_ds.id}/authenticate", {}))
    with pytest.raises(stripe.CardError) as declined:
        v1.payment_intents.create(params={
            "amount": 900, "currency": "usd", "customer": customer_id, "confirm": True,
            "payment_method": "pm_card_chargeCustomerFail"})
    check(declined.value.json_body["error"]["payment_intent"])
    check(v1.payment_intents.list(params={"customer": customer_id}))
    check(v1.charges.list(params={"customer": customer_id}))
    check(v1.charges.search(params={"query": "status:'failed'"}))


def _setup(sim: SimHelper, check: Walker, customer_id: str) -> None:
    v1 = sim.client.v1
    saved = check(v1.setup_intents.create(params={
        "customer": customer_id, "payment_method": "pm_card_visa", "confirm": True,
        "expand": ["latest_attempt", "payment_method"]}))
    check(v1.setup_attempts.list(params={"setup_intent": saved.id}))
    check(v1.payment_intents.create(params={
        "amount": 500, "currency": "usd", "customer": customer_id, "confirm": True,
        "payment_method": saved.payment_method.id, "off_session": True}))
    strict = check(v1.setup_intents.create(params={
        "customer": customer_id, "payment_method": "pm_card_authenticationRequired",
        "confirm": True}))
    check(sim.control("POST", f"/_sim/setup_intents/{strict.id}/authenticate", {}))
    with pytest.raises(stripe.CardError) as needs_auth:
        v1.payment_intents.create(params={
            "amount": 500, "currency": "usd", "customer": customer_id, "confirm": True,
            "payment_method": strict.payment_method, "off_session": True})
    check(needs_auth.value.json_body["error"]["payment_intent"])
    three_ds = check(v1.setup_intents.create(params={
        "customer": customer_id, "payment_method": "pm_card_authenticationRequiredOnSetup",
        "confirm": True}))
    check(sim.control("POST", f"/_sim/setup_intents/{three_ds.id}/authenticate", {}))
    with pytest.raises(stripe.CardError) as declined:
        v1.setup_intents.create(params={"customer": customer_id, "confirm": True,
                                        "payment_method": "pm_card_visa_chargeDeclined"})
    check(declined.value.json_body["error"]["setup_intent"])
    dropped = check(v1.setup_intents.create(params={"customer": customer_id}))
    check(v1.setup_intents.update(dropped.id, params={"metadata": {"k": "v"}}))
    check(v1.setup_intents.cancel(dropped.id))
    check(v1.setup_intents.list(params={"customer": customer_id}))
    session = check(v1.checkout.sessions.create(params={
        "mode": "setup", "customer": customer_id, "currency": "usd",
        "success_url": "https://app.example/saved"}))
    check(sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {}))
    check(v1.checkout.sessions.retrieve(session.id, params={"expand": ["setup_intent"]}))


def _discounts_and_credits(sim: SimHelper, check: Walker, customer_id: str,
                           prices: dict[str, Any]) -> None:
    v1 = sim.client.v1
    coupon = check(v1.coupons.create(params={"percent_off": 20, "duration": "repeating",
                                             "duration_in_months": 2, "name": "Walk 20%"}))
    check(v1.coupons.update(coupon.id, params={"metadata": {"k": "v"}}))
    check(v1.coupons.retrieve(coupon.id, params={"expand": ["applies_to"]}))
    code = check(v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "WALK20",
        "restrictions": {"minimum_amount": 100, "minimum_amount_currency": "usd"}}))
    check(v1.promotion_codes.update(code.id, params={"metadata": {"k": "v"}}))
    check(v1.promotion_codes.list(params={"code": "walk20"}))
    check(v1.coupons.list())
    sub = check(v1.subscriptions.create(params={
        "customer": customer_id, "items": [{"price": prices["addon"].id, "quantity": 3}],
        "discounts": [{"promotion_code": code.id}],
        "expand": ["discounts.source.coupon", "discounts.promotion_code", "latest_invoice"]}))
    invoice = check(v1.invoices.retrieve(sub.latest_invoice.id, params={
        "expand": ["discounts", "total_discount_amounts.discount"]}))
    check(v1.subscriptions.update(sub.id, params={"discounts": ""}))
    line = invoice.lines.data[0]
    params = {"invoice": invoice.id, "refund_amount": 300, "credit_amount": 100,
              "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 400}]}
    check(v1.credit_notes.preview(params=params))
    check(v1.credit_notes.preview_lines.list(params=params))
    note = check(v1.credit_notes.create(params={**params, "memo": "Walk",
                                                "expand": ["customer_balance_transaction"]}))
    check(v1.credit_notes.line_items.list(note.id))
    check(v1.credit_notes.update(note.id, params={"metadata": {"k": "v"}}))
    doomed = check(v1.credit_notes.create(params={"invoice": invoice.id, "amount": 100,
                                                  "credit_amount": 100}))
    check(v1.credit_notes.void_credit_note(doomed.id))
    check(v1.credit_notes.list(params={"invoice": invoice.id}))
    adjustment = check(v1.customers.balance_transactions.create(customer_id, params={
        "amount": -250, "currency": "usd", "description": "Walk credit"}))
    check(v1.customers.balance_transactions.update(customer_id, adjustment.id, params={
        "metadata": {"k": "v"}}))
    check(v1.customers.balance_transactions.retrieve(customer_id, adjustment.id, params={
        "expand": ["credit_note", "invoice"]}))
    check(v1.customers.balance_transactions.list(customer_id))
    session = check(v1.checkout.sessions.create(params={
        "mode": "payment", "customer": customer_id, "allow_promotion_codes": True,
        "line_items": [{"price": prices["credits"].id, "quantity": 2}],
        "success_url": "https://app.example/ok"}))
    check(sim.control("POST", f"/_sim/checkout/sessions/{session.id}/promotion_code",
                      {"code": "walk20"}))
    check(sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {}))
    check(v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]}))
    check(v1.subscriptions.cancel(sub.id))
    check(v1.coupons.delete(coupon.id))


def _meters(sim: SimHelper, check: Walker, customer_id: str) -> None:
    billing = sim.client.v1.billing
    meter = check(billing.meters.create(params={
        "display_name": "Walk tokens", "event_name": "walk_tokens",
        "default_aggregation": {"formula": "sum"},
        "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
        "value_settings": {"event_payload_key": "value"}}))
    check(billing.meters.update(meter.id, params={"display_name": "Walk tokens (v2)"}))
    check(billing.meters.deactivate(meter.id))
    check(billing.meters.reactivate(meter.id))
    check(billing.meters.list())
    overage = check(sim.client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 2, "product_data": {"name": "Walk overage"},
        "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id}}))
    sub = check(sim.client.v1.subscriptions.create(params={
        "customer": customer_id, "items": [{"price": overage.id}],
        "expand": ["latest_invoice"]}))
    event = check(billing.meter_events.create(params={
        "event_name": "walk_tokens", "identifier": "walk-1",
        "payload": {"stripe_customer_id": customer_id, "value": "42"}}))
    check(billing.meter_events.create(params={
        "event_name": "walk_tokens", "payload": {"stripe_customer_id": customer_id, "value": "8"},
        "timestamp": event.timestamp - 60}))
    check(billing.meter_event_adjustments.create(params={
        "event_name": "walk_tokens", "type": "cancel", "cancel": {"identifier": "walk-1"}}))
    start = event.timestamp - event.timestamp % 86_400
    check(billing.meters.event_summaries.list(meter.id, params={
        "customer": customer_id, "start_time": start, "end_time": start + 86_400,
        "value_grouping_window": "hour"}))
    check(sim.client.v1.invoices.create_preview(params={"subscription": sub.id}))
    check(sim.client.v1.subscription_items.list(params={"subscription": sub.id}))
    check(sim.client.v1.subscriptions.cancel(sub.id))


def _trials(sim: SimHelper, check: Walker, prices: dict[str, Any]) -> None:
    v1 = sim.client.v1
    trialist = check(v1.customers.create(params={"email": "trial@example.com"}))
    session = check(v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": trialist.id, "payment_method_collection": "if_required",
        "line_items": [{"price": prices["addon"].id}], "success_url": "https://app.example/ok",
        "subscription_data": {"trial_period_days": 7, "trial_settings": {
            "end_behavior": {"missing_payment_method": "pause"}}}}))
    done = check(sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {}))
    check(v1.subscriptions.update(done["subscription"], params={
        "trial_settings": {"end_behavior": {"missing_payment_method": "cancel"}}}))


def _subscription(sim: SimHelper, check: Walker, clock_id: str, customer_id: str,
                  prices: dict[str, Any]) -> Any:
    v1 = sim.client.v1
    sub = check(v1.subscriptions.create(params={
        "customer": customer_id, "items": [{"price": prices["monthly"].id, "quantity": 2}],
        "metadata": {"story": "walk"}, "expand": ["latest_invoice.payments"]}))
    invoice = sub.latest_invoice
    check(v1.invoices.line_items.list(invoice.id))
    check(v1.invoice_payments.list(params={"invoice": invoice.id}))
    check(v1.invoice_payments.retrieve(invoice.payments.data[0].id))
    items = check(v1.subscription_items.list(params={"subscription": sub.id}))
    item = check(v1.subscription_items.retrieve(items.data[0].id))
    pending = check(v1.invoice_items.create(params={
        "customer": customer_id, "amount": 300, "currency": "usd", "description": "Setup"}))
    check(v1.invoice_items.update(pending.id, params={"metadata": {"k": "v"}}))
    doomed = check(v1.invoice_items.create(params={
        "customer": customer_id, "pricing": {"price": prices["credits"].id}}))
    check(v1.invoice_items.delete(doomed.id))
    check(v1.invoice_items.list(params={"customer": customer_id}))
    sim.client.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": T0 + 10 * DAY})
    check(sim.control("POST", f"/_sim/test_clocks/{clock_id}/wait"))
    check(v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {
            "items": [{"id": item.id, "price": prices["plus"].id}]}}))
    check(v1.subscription_items.update(item.id, params={"quantity": 3}))
    check(v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {
            "items": [{"price": prices["addon"].id, "quantity": 2}]}}))
    addon = check(v1.subscription_items.create(params={
        "subscription": sub.id, "price": prices["addon"].id, "quantity": 2}))
    check(v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {
            "items": [{"id": addon.id, "deleted": True}]}}))
    check(v1.subscription_items.delete(addon.id, params={"proration_behavior": "always_invoice"}))
    check(v1.subscriptions.update(sub.id, params={
        "items": [{"id": item.id, "price": prices["plus"].id}],
        "proration_behavior": "always_invoice", "expand": ["latest_invoice"]}))
    check(v1.subscriptions.update(sub.id, params={
        "items": [{"id": item.id, "price": prices["yearly"].id}]}))
    check(v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True}))
    check(v1.subscriptions.update(sub.id, params={"cancel_at_period_end": False}))
    check(v1.subscriptions.search(params={"query": "status:'active'"}))
    return sub


def _portal(sim: SimHelper, check: Walker, customer_id: str, sub: Any,
            prices: dict[str, Any]) -> None:
    v1 = sim.client.v1.billing_portal
    config = check(v1.configurations.create(params={
        "business_profile": {"headline": "Walk"},
        "features": {"invoice_history": {"enabled": True},
                     "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                     "subscription_update": {
                         "enabled": True, "default_allowed_updates": ["price"],
                         "products": [{"product": prices["product"].id,
                                       "prices": [prices["monthly"].id]}]}}}))
    check(v1.configurations.update(config.id, params={"metadata": {"v": "2"}}))
    check(v1.configurations.list())
    check(v1.sessions.create(params={"customer": customer_id, "configuration": config.id,
                                     "return_url": "https://app.example/account"}))
    check(v1.sessions.create(params={
        "customer": customer_id, "flow_data": {
            "type": "subscription_cancel", "subscription_cancel": {"subscription": sub.id}}}))


def test_every_object_and_every_event_payload_has_stripes_shape(
        sim: SimHelper, receiver: WebhookReceiver) -> None:
    check = Walker()
    v1 = sim.client.v1
    endpoint = check(v1.webhook_endpoints.create(params={"url": receiver.url,
                                                         "enabled_events": ["*"]}))
    check(v1.webhook_endpoints.update(endpoint.id, params={"description": "walk"}))
    check(v1.webhook_endpoints.list())
    prices = _catalog(sim, check)
    clock = check(v1.test_helpers.test_clocks.create(params={"frozen_time": T0, "name": "walk"}))
    customer = check(v1.customers.create(params={
        "email": "walk@example.com", "name": "Walker", "test_clock": clock.id,
        "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}}))
    check(v1.customers.retrieve(customer.id, params={"expand": ["subscriptions", "tax_ids"]}))
    card = check(v1.payment_methods.attach("pm_card_mastercard", params={"customer": customer.id}))
    check(v1.payment_methods.update(card.id, params={"billing_details": {"name": "Walker"}}))
    check(v1.payment_methods.detach(card.id))
    check(v1.customers.payment_methods.list(customer.id))
    check(v1.customers.update(customer.id, params={"metadata": {"walk": "yes"}}))
    check(v1.customers.search(params={"query": "email:'walk@example.com'"}))
    _checkout(sim, check, customer.id, prices)
    _payments(sim, check, customer.id)
    _setup(sim, check, customer.id)
    _discounts_and_credits(sim, check, customer.id, prices)
    _meters(sim, check, customer.id)
    _trials(sim, check, prices)
    sub = _subscription(sim, check, clock.id, customer.id, prices)
    _portal(sim, check, customer.id, sub, prices)
    check(v1.invoices.list(params={"customer": customer.id, "expand": ["data.payments"]}))
    draft = check(v1.invoices.create(params={"customer": customer.id}))
    check(v1.invoices.delete(draft.id))
    check(v1.subscriptions.cancel(sub.id))
    check(v1.test_helpers.test_clocks.list())
    check(v1.test_helpers.test_clocks.delete(clock.id))
    other = check(v1.customers.create(params={"email": "bye@example.com"}))
    check(v1.customers.delete(other.id))
    sim.flush()
    events = list(v1.events.list(params={"limit": 100}).auto_paging_iter())
    for event in events:
        check(event, where=f"event {event.type}")
        check(event.data.object, where=f"{event.type}.data.object")
    check(v1.events.retrieve(events[0].id))
    missing = EVERY_KIND - check.kinds
    assert not missing, sorted(missing)
    delivered = receiver.events(_secret_of(sim, endpoint.id))
    assert len(delivered) == len(events)
    for event in delivered:
        check(event.data.object, where=f"delivered {event.type}")
    print(f"\n{check.checked} objects checked, {len(events)} events, kinds: {sorted(check.kinds)}")


def _secret_of(sim: SimHelper, endpoint_id: str) -> str:
    with sim.engine.store.lock:
        endpoint = sim.engine.store.get("webhook_endpoint", endpoint_id)
        assert endpoint is not None
        return str(endpoint["_secret"])
