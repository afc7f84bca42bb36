"""Coupons and promotion codes: on subscriptions for their duration (once, repeating, forever),
on Checkout (given, or a code typed on the pay page), reflected on invoices; and the codes'
restrictions."""

from __future__ import annotations

import calendar
from typing import Any

import httpx
import pytest
import stripe

from tests.stripesim.billing_helpers import T0, advance, clock_customer, event_types, price
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def _month(n: int) -> int:
    return calendar.timegm((2026 + n // 12, n % 12 + 1, 1, 0, 0, 0))


def _coupon(sim: SimHelper, **params: Any) -> Any:
    return sim.client.v1.coupons.create(params=params)  # type: ignore[arg-type]


def _invoices(sim: SimHelper, sub_id: str) -> list[Any]:
    """The subscription's invoices, oldest first."""
    listed = sim.client.v1.invoices.list(params={"subscription": sub_id, "limit": 100})
    return list(reversed(listed.data))


def test_a_repeating_coupon_lowers_three_months_then_ends(sim: SimHelper) -> None:
    pro = price(sim, 2000)
    coupon = _coupon(sim, percent_off=25, duration="repeating", duration_in_months=3,
                     name="Launch 25%")
    assert (coupon.percent_off, coupon.valid) == (25.0, True)
    assert_stripe_shape(coupon)
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": pro.id}], "discounts": [{"coupon": coupon.id}],
        "expand": ["discounts.source.coupon"]})
    discount = sub.discounts[0]
    assert (discount.source.coupon.id, discount.start, discount.end) == (coupon.id, T0, _month(3))
    assert discount.subscription == sub.id
    assert_stripe_shape(sub)
    first = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (first.subtotal, first.total, first.amount_paid) == (2000, 1500, 1500)
    assert first.discounts == [discount.id]
    assert [(d.amount, d.discount) for d in first.total_discount_amounts] == [(500, discount.id)]
    assert [(d.amount, d.discount) for d in first.lines.data[0].discount_amounts] == [
        (500, discount.id)]
    assert_stripe_shape(first)
    for n in range(1, 5):
        advance(sim, clock.id, _month(n) + 2 * 3600)
    assert [i.total for i in _invoices(sim, sub.id)] == [1500, 1500, 1500, 2000, 2000]
    assert sim.client.v1.subscriptions.retrieve(sub.id).discounts == []
    types = event_types(sim)
    assert types.count("customer.discount.deleted") == 1
    assert types.index("customer.discount.deleted") < len(types) - 1
    assert sim.client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


def test_a_once_amount_off_coupon_lowers_the_first_invoice_only(sim: SimHelper) -> None:
    pro = price(sim, 2000)
    coupon = _coupon(sim, amount_off=500, currency="usd", duration="once")
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": pro.id}], "discounts": [{"coupon": coupon.id}]})
    assert sim.client.v1.subscriptions.retrieve(sub.id).discounts == []
    advance(sim, clock.id, _month(1) + 2 * 3600)
    assert [i.total for i in _invoices(sim, sub.id)] == [1500, 2000]
    assert event_types(sim).count("customer.discount.created") == 1


def test_a_forever_code_for_some_products_and_changing_discounts(sim: SimHelper) -> None:
    plan, addon = price(sim, 2000, name="Pro"), price(sim, 1000, name="Add-on")
    coupon = _coupon(sim, percent_off="12.5", duration="forever",
                     applies_to={"products": [plan.product]})
    code = sim.client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "PRO12"})
    assert_stripe_shape(code)
    clock, customer = clock_customer(sim)
    sub = sim.client.v1.subscriptions.create(params={
        "customer": customer.id, "items": [{"price": plan.id}, {"price": addon.id}]})
    sub = sim.client.v1.subscriptions.update(sub.id, params={
        "discounts": [{"promotion_code": code.id}]})
    assert len(sub.discounts) == 1
    advance(sim, clock.id, _month(1) + 2 * 3600)
    renewal = _invoices(sim, sub.id)[-1]
    assert (renewal.subtotal, renewal.total) == (3000, 2750)  # 12.5% of the Pro line only
    by_price = {line.pricing.price_details.price: [d.amount for d in line.discount_amounts]
                for line in renewal.lines.data}
    assert by_price == {plan.id: [250], addon.id: []}
    assert sim.client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1
    kept = sim.client.v1.subscriptions.update(sub.id, params={
        "discounts": [{"discount": sub.discounts[0]}]})
    assert kept.discounts == sub.discounts
    cleared = sim.client.v1.subscriptions.update(sub.id, params={"discounts": ""})
    assert cleared.discounts == []
    assert event_types(sim).count("customer.discount.deleted") == 1
    advance(sim, clock.id, _month(2) + 2 * 3600)
    assert _invoices(sim, sub.id)[-1].total == 3000


def test_checkout_with_a_coupon_charges_the_discounted_amount(sim: SimHelper) -> None:
    pack = price(sim, 1000, interval=None, name="Credits")
    coupon = _coupon(sim, percent_off=50)
    session = sim.client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": pack.id, "quantity": 3}],
        "discounts": [{"coupon": coupon.id}], "success_url": "https://app.example/ok"})
    assert (session.amount_subtotal, session.amount_total) == (3000, 1500)
    assert session.total_details.amount_discount == 1500
    assert session.discounts[0].coupon == coupon.id
    item = sim.client.v1.checkout.sessions.line_items.list(session.id).data[0]
    assert (item.amount_subtotal, item.amount_discount, item.amount_total) == (3000, 1500, 1500)
    assert_stripe_shape(session)
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {})
    assert sim.client.v1.payment_intents.retrieve(done["payment_intent"]).amount == 1500
    assert sim.client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    with pytest.raises(stripe.InvalidRequestError, match="allow_promotion_codes, discounts"):
        sim.client.v1.checkout.sessions.create(params={
            "mode": "payment", "line_items": [{"price": pack.id}], "allow_promotion_codes": True,
            "discounts": [{"coupon": coupon.id}], "success_url": "https://app.example/ok"})


def _code(sim: SimHelper, code: str, **extra: Any) -> Any:
    coupon = _coupon(sim, percent_off=20, duration="forever")
    return sim.client.v1.promotion_codes.create(params={  # type: ignore[arg-type]
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": code, **extra})


def _promo_session(sim: SimHelper, price_id: str, customer_id: str | None = None) -> Any:
    params: dict[str, Any] = {"mode": "subscription", "allow_promotion_codes": True,
                              "line_items": [{"price": price_id}],
                              "success_url": "https://app.example/ok"}
    if customer_id:
        params["customer"] = customer_id
    return sim.client.v1.checkout.sessions.create(params=params)


def test_a_code_typed_on_checkout_discounts_the_subscription(sim: SimHelper) -> None:
    pro = price(sim, 2000)
    code = _code(sim, "WELCOME20")
    session = _promo_session(sim, pro.id)
    refused = sim.http.post(f"/_sim/checkout/sessions/{session.id}/promotion_code",
                            json={"code": "NOPE"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "promotion_code_invalid"
    entered = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/promotion_code",
                          {"code": "welcome20"})
    assert entered["discounts"] == [{"coupon": code.promotion.coupon, "promotion_code": code.id}]
    assert entered["amount_total"] == 1600
    done = sim.control("POST", f"/_sim/checkout/sessions/{session.id}/complete", {})
    sub = sim.client.v1.subscriptions.retrieve(done["subscription"],
                                               params={"expand": ["discounts", "latest_invoice"]})
    assert sub.discounts[0].promotion_code == code.id
    assert sub.discounts[0].checkout_session == session.id
    assert sub.latest_invoice.total == 1600
    assert sim.client.v1.promotion_codes.retrieve(code.id).times_redeemed == 1


def test_a_code_typed_on_the_hosted_pay_page(sim: SimHelper) -> None:
    pro = price(sim, 2000)
    _code(sim, "PAGE20")
    session = _promo_session(sim, pro.id)
    with httpx.Client(base_url=sim.url) as browser:
        assert 'id="promotion_code"' in browser.get(f"/c/pay/{session.id}").text
        wrong = browser.post(f"/c/pay/{session.id}", data={
            "action": "apply_promotion_code", "promotion_code": "WRONG"})
        assert wrong.status_code == 400
        assert "This code is invalid." in wrong.text
        applied = browser.post(f"/c/pay/{session.id}", data={
            "action": "apply_promotion_code", "promotion_code": "page20",
            "payment_method": "pm_card_mastercard"})
        assert applied.status_code == 200
        assert "<dd>-$4.00</dd>" in applied.text
        assert '<dd data-total>$16.00</dd>' in applied.text
        paid = browser.post(f"/c/pay/{session.id}", data={"payment_method": "pm_card_visa"})
    assert paid.status_code == 303
    done = sim.client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["invoice"]})
    assert (done.status, done.invoice.total) == ("complete", 1600)


def test_promotion_code_restrictions(sim: SimHelper) -> None:
    pro = price(sim, 2000)
    _clock, regular = clock_customer(sim)
    sim.client.v1.subscriptions.create(params={"customer": regular.id,
                                               "items": [{"price": price(sim, 500).id}]})
    first_time = _code(sim, "FIRST", restrictions={"first_time_transaction": True})
    big = _code(sim, "BIG", restrictions={"minimum_amount": 5000,
                                          "minimum_amount_currency": "usd"})
    single = _code(sim, "ONCE", max_redemptions=1)
    inactive = _code(sim, "OFF", active=False)
    mine = _code(sim, "MINE", customer=sim.client.v1.customers.create().id)
    for code, message in [(first_time, "first-time"), (big, "at least 5000"),
                          (inactive, "inactive"), (mine, "another customer")]:
        with pytest.raises(stripe.InvalidRequestError, match=message):
            sim.client.v1.subscriptions.create(params={
                "customer": regular.id, "items": [{"price": pro.id}],
                "discounts": [{"promotion_code": code.id}]})
    sim.client.v1.subscriptions.create(params={
        "customer": regular.id, "items": [{"price": pro.id}],
        "discounts": [{"promotion_code": single.id}]})
    with pytest.raises(stripe.InvalidRequestError, match="maximum number of redemptions"):
        sim.client.v1.subscriptions.create(params={
            "customer": regular.id, "items": [{"price": pro.id}],
            "discounts": [{"promotion_code": single.id}]})
    assert len(sim.client.v1.subscriptions.list(params={"customer": regular.id}).data) == 2
    session = _promo_session(sim, pro.id, regular.id)
    refused = sim.http.post(f"/_sim/checkout/sessions/{session.id}/promotion_code",
                            json={"code": "FIRST"})
    assert refused.status_code == 400


def test_coupon_and_code_management(sim: SimHelper) -> None:
    v1 = sim.client.v1
    fixed = _coupon(sim, id="TENOFF", amount_off=1000, currency="eur", max_redemptions=5)
    assert (fixed.id, fixed.amount_off, fixed.currency, fixed.duration) == (
        "TENOFF", 1000, "eur", "once")
    for params, message in [({"percent_off": 10, "amount_off": 5, "currency": "usd"}, "exactly one"),
                            ({"amount_off": 5}, "currency"),
                            ({"percent_off": 101}, "at most"),
                            ({"percent_off": 5, "duration": "repeating"}, "duration_in_months"),
                            ({"id": "TENOFF", "percent_off": 5}, "already exists")]:
        with pytest.raises(stripe.InvalidRequestError, match=message):
            _coupon(sim, **params)
    renamed = v1.coupons.update(fixed.id, params={"name": "Ten off", "metadata": {"c": "1"}})
    assert renamed.name == "Ten off"
    code = v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": fixed.id}})
    assert code.code.isalnum()
    assert code.code.isupper()
    with pytest.raises(stripe.InvalidRequestError, match="already exists"):
        v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": fixed.id},
                                          "code": code.code.lower()})
    off = v1.promotion_codes.update(code.id, params={"active": False})
    assert off.active is False
    assert [c.id for c in v1.promotion_codes.list(params={"coupon": fixed.id}).data] == [code.id]
    assert v1.promotion_codes.list(params={"active": True}).data == []
    deleted = v1.coupons.delete(fixed.id)
    assert deleted.to_dict() == {"id": "TENOFF", "object": "coupon", "deleted": True}
    assert_stripe_shape(deleted)
    with pytest.raises(stripe.InvalidRequestError, match="No such coupon"):
        v1.coupons.retrieve(fixed.id)
    assert v1.coupons.list().data == []
    assert {"coupon.created", "coupon.updated", "coupon.deleted", "promotion_code.created",
            "promotion_code.updated"} <= set(event_types(sim))
