"""The hosted Checkout page as a person meets it: the order summary, the test-card tiles, a decline
that keeps the choice, 3D Secure passed and failed, and the page's hooks for discounts and setup mode.

Plain HTTP (the pages work without JavaScript); tests/browser/test_stripesim_pages.py clicks the same
pages in Chromium.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, price
from tests.stripesim.conftest import SimHelper


def _path(url: str) -> str:
    return urlparse(url).path


def _session(sim: SimHelper, **params: Any) -> Any:
    base: dict[str, Any] = {"success_url": "https://app.example/ok?s={CHECKOUT_SESSION_ID}",
                            "cancel_url": "https://app.example/pricing"}
    return sim.client.v1.checkout.sessions.create(params={**base, **params})


def _checked(html: str) -> list[str]:
    return re.findall(r'name="payment_method" value="(\w+)"[^>]*checked', html)


def test_the_summary_shows_each_line_with_quantity_unit_and_total(sim: SimHelper) -> None:
    pack = price(sim, 500, interval=None, name="Credit pack")
    session = _session(sim, mode="payment", customer_email="bo@example.com",
                       line_items=[{"price": pack.id, "quantity": 3}])
    page = sim.http.get(_path(session.url))
    assert page.status_code == 200
    assert "Pay stripesim" in page.text
    assert '<span data-amount>$15.00</span>' in page.text
    assert "Credit pack" in page.text
    assert "Qty 3 · $5.00 each" in page.text
    assert '<dd data-total>$15.00</dd>' in page.text
    assert session.amount_total == 1500  # what the page says is what the session says
    assert 'value="bo@example.com"' in page.text
    assert "required" in page.text
    assert ">Pay</button>" in page.text
    assert 'href="/c/pay/' + session.id + '/cancel"' in page.text
    assert "TEST MODE" in page.text
    assert _checked(page.text) == ["pm_card_visa"]
    for last4 in ("4242", "0002", "9995", "3220", "3155", "0341"):
        assert f"</span>{last4}</span>" in page.text


def test_a_subscription_says_then_per_month_and_a_trial_says_when_it_ends(sim: SimHelper) -> None:
    _, customer = clock_customer(sim, pm=None)
    pro = price(sim, 1499, name="Pro")
    plain = sim.http.get(_path(_session(sim, mode="subscription", customer=customer.id,
                                        line_items=[{"price": pro.id, "quantity": 2}]).url))
    assert "Subscribe to Pro" in plain.text
    assert '<span data-amount>$29.98</span> <span class="per">per month</span>' in plain.text
    assert "Qty 2 · $14.99 each · Billed monthly" in plain.text
    assert ">Subscribe</button>" in plain.text
    # The customer's email is shown, not asked for again.
    assert 'value="ada@example.com" readonly' in plain.text

    trial = sim.http.get(_path(_session(
        sim, mode="subscription", customer=customer.id, line_items=[{"price": pro.id}],
        subscription_data={"trial_period_days": 14}).url))
    assert "Try Pro" in trial.text
    assert "14 days free" in trial.text
    # The customer's test clock is at 1 January 2026: the trial ends on the 15th.
    assert "Then $14.99 per month starting January 15, 2026" in trial.text
    assert "<dt>Total after trial</dt><dd>$14.99</dd>" in trial.text
    assert '<dd data-total>$0.00</dd>' in trial.text
    assert ">Start trial</button>" in trial.text


def test_a_decline_shows_the_error_by_the_cards_and_keeps_what_was_chosen(sim: SimHelper) -> None:
    session = _session(sim, mode="subscription", line_items=[{"price": price(sim).id}])
    declined = sim.http.post(_path(session.url), data={
        "email": "p@example.com", "name": "Pat Doe",
        "payment_method": "pm_card_visa_chargeDeclinedInsufficientFunds"})
    assert declined.status_code == 402
    assert re.search(r'id="cards-error" role="alert">Your card has insufficient funds\.<',
                     declined.text)
    assert 'aria-invalid="true"' in declined.text
    assert _checked(declined.text) == ["pm_card_visa_chargeDeclinedInsufficientFunds"]
    assert 'value="p@example.com"' in declined.text
    assert 'value="Pat Doe"' in declined.text
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert sim.client.v1.subscriptions.list().data == []
    paid = sim.http.post(_path(session.url), data={"email": "p@example.com",
                                                   "payment_method": "pm_card_visa"})
    assert paid.status_code == 303
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "complete"
    # The page of a complete session says so, and leads on to the success URL.
    done = sim.http.get(_path(session.url))
    assert "all done here" in done.text
    assert f"https://app.example/ok?s={session.id}" in done.text


def test_failed_3d_secure_returns_to_the_page_and_the_next_card_pays_the_same_subscription(
        sim: SimHelper) -> None:
    session = _session(sim, mode="subscription", line_items=[{"price": price(sim, 2000).id}])
    challenge = sim.http.post(_path(session.url), data={
        "email": "p@example.com", "payment_method": "pm_card_threeDSecure2Required"})
    assert challenge.status_code == 303
    page = sim.http.get(challenge.headers["location"])
    assert "Complete authentication" in page.text
    assert "Fail authentication" in page.text
    assert "<strong data-amount>$20.00</strong>" in page.text
    assert "3220" in page.text
    failed = sim.http.post(urlparse(challenge.headers["location"]).path,
                           data={"outcome": "fail", "session": session.id})
    assert failed.status_code == 303
    back = urlparse(failed.headers["location"])
    assert back.path == _path(session.url)
    assert parse_qs(back.query) == {"notice": ["authentication_failed"],
                                    "payment_method": ["pm_card_threeDSecure2Required"]}
    shown = sim.http.get(failed.headers["location"])
    assert "We are unable to authenticate your payment method" in shown.text
    assert _checked(shown.text) == ["pm_card_threeDSecure2Required"]
    [waiting] = sim.client.v1.subscriptions.list(params={"status": "all"}).data
    assert waiting.status == "incomplete"
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "open"

    paid = sim.http.post(_path(session.url), data={"payment_method": "pm_card_visa"})
    assert paid.headers["location"] == f"https://app.example/ok?s={session.id}"
    # As on Stripe: one subscription, its first invoice paid by the second card.
    [sub] = sim.client.v1.subscriptions.list(params={"status": "all"}).data
    assert (sub.id, sub.status) == (waiting.id, "active")
    invoice = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (invoice.status, invoice.amount_paid) == ("paid", 2000)
    completed = sim.client.v1.checkout.sessions.retrieve(session.id)
    assert (completed.status, completed.subscription) == ("complete", sub.id)


def test_a_payment_retried_after_failed_3d_secure_keeps_one_payment_intent(sim: SimHelper) -> None:
    pack = price(sim, 700, interval=None, name="Pack")
    session = _session(sim, mode="payment", line_items=[{"price": pack.id}])
    challenge = sim.http.post(_path(session.url), data={
        "email": "p@example.com", "payment_method": "pm_card_threeDSecure2Required"})
    sim.http.post(urlparse(challenge.headers["location"]).path,
                  data={"outcome": "fail", "session": session.id})
    first = sim.client.v1.checkout.sessions.retrieve(session.id).payment_intent
    paid = sim.http.post(_path(session.url), data={"payment_method": "pm_card_mastercard"})
    assert paid.status_code == 303
    done = sim.client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_intent) == ("complete", first)
    intent = sim.client.v1.payment_intents.retrieve(str(first))
    assert (intent.status, intent.amount_received) == ("succeeded", 700)
    assert len(sim.client.v1.payment_intents.list().data) == 1


def test_card_3155_asks_for_3d_secure_once_then_renewals_pass_off_session(sim: SimHelper) -> None:
    clock, customer = clock_customer(sim, pm=None)
    session = _session(sim, mode="subscription", customer=customer.id,
                       line_items=[{"price": price(sim, 1000).id}])
    challenge = sim.http.post(_path(session.url), data={
        "payment_method": "pm_card_authenticationRequiredOnSetup"})
    assert challenge.headers["location"].startswith("/c/3ds/")
    sim.http.post(urlparse(challenge.headers["location"]).path,
                  data={"outcome": "succeed", "session": session.id})
    sub = sim.client.v1.subscriptions.retrieve(
        str(sim.client.v1.checkout.sessions.retrieve(session.id).subscription))
    assert sub.status == "active"
    advance(sim, clock.id, T0 + 32 * DAY)  # the renewal is drafted, finalized and charged
    renewed = sim.client.v1.subscriptions.retrieve(sub.id)
    invoice = sim.client.v1.invoices.retrieve(str(renewed.latest_invoice))
    assert (invoice.billing_reason, invoice.status) == ("subscription_cycle", "paid")
    assert renewed.status == "active"


def test_card_3220_asks_every_time_so_its_renewal_fails_off_session(sim: SimHelper) -> None:
    clock, customer = clock_customer(sim, pm=None)
    session = _session(sim, mode="subscription", customer=customer.id,
                       line_items=[{"price": price(sim, 1000).id}])
    challenge = sim.http.post(_path(session.url), data={
        "payment_method": "pm_card_threeDSecure2Required"})
    sim.http.post(urlparse(challenge.headers["location"]).path,
                  data={"outcome": "succeed", "session": session.id})
    sub_id = str(sim.client.v1.checkout.sessions.retrieve(session.id).subscription)
    advance(sim, clock.id, T0 + 32 * DAY)
    renewed = sim.client.v1.subscriptions.retrieve(sub_id)
    invoice = sim.client.v1.invoices.retrieve(str(renewed.latest_invoice))
    assert (invoice.billing_reason, invoice.status) == ("subscription_cycle", "open")
    assert renewed.status == "past_due"


def test_promotion_codes_field_shows_when_allowed_and_refuses_an_unknown_code(sim: SimHelper) -> None:
    session = _session(sim, mode="subscription", line_items=[{"price": price(sim).id}],
                       allow_promotion_codes=True)
    page = sim.http.get(_path(session.url))
    assert 'id="promotion_code"' in page.text
    # The pay form stays the page's first form: integrations' tests press its only submit button.
    first_form = page.text[page.text.index("<form"):page.text.index("</form>")]
    assert 'id="pay-form"' in first_form
    assert first_form.count('type="submit"') == 1
    refused = sim.http.post(_path(session.url), data={
        "action": "apply_promotion_code", "promotion_code": "SUMMER25",
        "payment_method": "pm_card_mastercard"})
    assert refused.status_code == 400
    assert 'id="promo-error" role="alert">This code is invalid.<' in refused.text
    assert 'value="SUMMER25"' in refused.text
    assert _checked(refused.text) == ["pm_card_mastercard"]
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    # A code that exists is applied: the summary shows its discount row.
    coupon = sim.client.v1.coupons.create(params={"percent_off": 25, "duration": "forever"})
    sim.client.v1.promotion_codes.create(params={
        "promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SUMMER25"})
    known = sim.http.post(_path(session.url), data={"action": "apply_promotion_code",
                                                    "promotion_code": "summer25"})
    assert known.status_code == 200
    assert "<dt>SUMMER25 (25% off)</dt><dd>-$5.00</dd>" in known.text
    without = _session(sim, mode="subscription", line_items=[{"price": price(sim).id}])
    assert 'id="promotion_code"' not in sim.http.get(_path(without.url)).text


def test_the_summary_shows_discounts_tax_and_setup_mode_from_the_session_alone(
        sim: SimHelper) -> None:
    """The hooks for the billing objects still to come: what the page shows follows the session's
    `total_details`, `discounts` and `mode`, whichever code fills them."""
    session = _session(sim, mode="payment",
                       line_items=[{"price": price(sim, 4000, interval=None, name="Kit").id}])
    with sim.engine.store.lock:
        stored = sim.engine.store.get("checkout.session", session.id)
        assert stored is not None
        stored["total_details"].update(amount_discount=1000, amount_tax=240)
        stored["discounts"] = [{"coupon": "co_missing", "promotion_code": None}]
        stored["amount_total"] = 3240
    page = sim.http.get(_path(session.url))
    assert "<dt>Discount</dt><dd>-$10.00</dd>" in page.text
    assert "<dt>Tax</dt><dd>$2.40</dd>" in page.text
    assert '<dd data-total>$32.40</dd>' in page.text
    with sim.engine.store.lock:
        stored["mode"] = "setup"
    setup = sim.http.get(_path(session.url))
    assert ">Save card</button>" in setup.text
    assert "Set up a payment method with stripesim" in setup.text
    assert "data-total" not in setup.text


def test_the_back_link_goes_to_cancel_url_and_an_expired_session_says_so(sim: SimHelper) -> None:
    session = _session(sim, mode="subscription", line_items=[{"price": price(sim).id}])
    back = sim.http.get(_path(session.url) + "/cancel")
    assert back.headers["location"] == "https://app.example/pricing"
    sim.client.v1.checkout.sessions.expire(session.id)
    gone = sim.http.get(f"/c/pay/{session.id}")
    assert gone.status_code == 410
    assert "This page has expired" in gone.text
    assert sim.http.get("/c/pay/cs_test_nothing").status_code == 404
    late = sim.http.post(f"/c/pay/{session.id}", data={"payment_method": "pm_card_visa"})
    assert late.status_code == 410
    assert sim.client.v1.subscriptions.list().data == []


def test_the_home_page_says_what_runs_here(sim: SimHelper) -> None:
    sim.add_webhook_endpoint("http://127.0.0.1:9/hooks/stripe")
    home = sim.http.get("/")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    assert f"<code data-base-url>{sim.url}</code>" in home.text
    assert f'base_addresses={{"api": "{sim.url}"}}' in home.text.replace("&#34;", '"')
    assert "http://127.0.0.1:9/hooks/stripe" in home.text
    assert "pm_card_authenticationRequiredOnSetup" in home.text
    for route in ("POST /_sim/flush", "POST /_sim/checkout/sessions/{id}/complete",
                  "POST /_sim/test_clocks/{id}/advance", "GET /_sim/health"):
        assert route in home.text
    assert 'rel="icon" href="/favicon.svg"' in home.text
    css = sim.http.get("/assets/stripesim.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "http" not in css.text  # no external assets
    js = sim.http.get("/assets/stripesim.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert "http" not in js.text
    for icon in ("/favicon.svg", "/favicon.ico"):
        answer = sim.http.get(icon)
        assert answer.headers["content-type"] == "image/svg+xml"
        assert answer.text.startswith("<svg")
    assert sim.http.get("/assets/other.css").status_code == 404
