"""The hosted billing portal's sections and steps, over plain HTTP: cancel with a confirmation,
switch with a proration preview, cards (add, make default, remove), billing information, invoice
history, and the flows (`flow_data`) that open on one step."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.stripesim.billing_helpers import DAY, T0, advance, clock_customer, event_types, price, subscribe
from tests.stripesim.conftest import SimHelper


def _path(url: str) -> str:
    return urlparse(url).path


def _config(sim: SimHelper, *prices: Any, **overrides: Any) -> Any:
    features: dict[str, Any] = {
        "invoice_history": {"enabled": True},
        "payment_method_update": {"enabled": True},
        "customer_update": {"enabled": True, "allowed_updates": ["name", "email", "address"]},
        "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
        "subscription_update": {"enabled": True, "default_allowed_updates": ["price"],
                                "proration_behavior": "create_prorations",
                                "products": [{"product": str(p.product), "prices": [p.id]}
                                             for p in prices]}}
    features.update(overrides)
    return sim.client.v1.billing_portal.configurations.create(params={"features": features})


def _subscriber(sim: SimHelper) -> tuple[Any, Any, Any, Any, Any]:
    """Ada on Basic ($10/month) since 1 January 2026, her clock at 16 January; Plus is $30."""
    basic, plus = price(sim, 1000, name="Basic"), price(sim, 3000, name="Plus")
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, basic.id)
    advance(sim, clock.id, T0 + 15 * DAY)
    return basic, plus, clock, customer, sub


def _portal(sim: SimHelper, customer_id: str, config_id: str, **params: Any) -> str:
    session = sim.client.v1.billing_portal.sessions.create(params={
        "customer": customer_id, "configuration": config_id,
        "return_url": "https://app.example/account", **params})
    return _path(session.url)


def test_the_homepage_shows_subscription_cards_billing_information_and_invoices(
        sim: SimHelper) -> None:
    basic, plus, _, customer, sub = _subscriber(sim)
    url = _portal(sim, customer.id, _config(sim, basic, plus).id)
    page = sim.http.get(url)
    assert page.status_code == 200
    assert f'data-subscription="{sub.id}"' in page.text
    assert "<h3 id=\"plan-" in page.text
    assert ">Basic</h3>" in page.text
    assert "$10.00 per month" in page.text
    assert "Renews on February 1, 2026" in page.text
    assert f'href="{url}/subscriptions/{sub.id}/update">Update plan' in page.text
    assert f'href="{url}/subscriptions/{sub.id}/cancel">Cancel plan' in page.text
    assert "Visa •••• 4242" in page.text
    assert ">Default</span>" in page.text
    assert "<dd data-email>ada@example.com</dd>" in page.text
    invoice = sim.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert f'<a href="{invoice.hosted_invoice_url}">Jan 1, 2026</a>' in page.text
    assert f'href="{invoice.invoice_pdf}"' in page.text
    assert ">Paid</span>" in page.text
    assert 'href="https://app.example/account"' in page.text
    assert "Return to stripesim" in page.text


def test_cancel_has_a_confirmation_step_then_cancels_at_period_end(sim: SimHelper) -> None:
    basic, plus, _, customer, sub = _subscriber(sim)
    url = _portal(sim, customer.id, _config(sim, basic, plus, subscription_cancel={
        "enabled": True, "mode": "at_period_end",
        "cancellation_reason": {"enabled": True, "options": ["too_expensive", "other"]}}).id)
    step = sim.http.get(f"{url}/subscriptions/{sub.id}/cancel")
    assert step.status_code == 200
    assert "Cancel your plan" in step.text
    assert "<strong data-cancel-date>February 1, 2026</strong>" in step.text
    assert 'value="too_expensive"' in step.text
    assert sim.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False  # nothing yet
    done = sim.http.post(url, data={"action": "cancel", "subscription": sub.id,
                                    "reason": "too_expensive"})
    assert done.status_code == 303
    assert parse_qs(urlparse(done.headers["location"]).query) == {"notice": ["cancel_scheduled"]}
    canceled = sim.client.v1.subscriptions.retrieve(sub.id)
    assert canceled.cancel_at_period_end is True
    assert canceled.cancellation_details.feedback == "too_expensive"
    home = sim.http.get(done.headers["location"])
    assert 'role="status">Your subscription will be canceled' in home.text
    assert "Cancels on February 1, 2026" in home.text
    assert ">Renew plan</button>" in home.text
    sim.http.post(url, data={"action": "resume", "subscription": sub.id})
    assert sim.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False


def test_switching_plan_previews_the_proration_and_changes_only_on_confirm(sim: SimHelper) -> None:
    basic, plus, _, customer, sub = _subscriber(sim)
    url = _portal(sim, customer.id, _config(sim, basic, plus).id)
    choose = sim.http.get(f"{url}/subscriptions/{sub.id}/update")
    assert "Update your plan" in choose.text
    assert re.search(rf'value="{basic.id}" data-plan="Basic" checked', choose.text)
    assert f'value="{plus.id}" data-plan="Plus">' in choose.text
    updates = event_types(sim).count("customer.subscription.updated")
    preview = sim.http.get(f"{url}/subscriptions/{sub.id}/update/confirm",
                           params={"price": plus.id})
    assert preview.status_code == 200
    # 16 of January's 31 days remain: -$10.00×16/31 = -$5.16, +$30.00×16/31 = $15.48.
    assert "-$5.16" in preview.text
    assert "$15.48" in preview.text
    assert "data-proration>$10.32</td>" in preview.text
    assert "<th scope=\"row\">Next invoice</th>" in preview.text
    assert "data-total>$40.32</td>" in preview.text
    assert event_types(sim).count("customer.subscription.updated") == updates  # preview only
    switched = sim.http.post(url, data={"action": "switch", "subscription": sub.id,
                                        "price": plus.id})
    assert switched.status_code == 303
    after = sim.client.v1.subscriptions.retrieve(sub.id)
    assert after["items"].data[0].price.id == plus.id
    pending = sim.client.v1.invoice_items.list(params={"customer": customer.id}).data
    assert sorted(ii.amount for ii in pending if ii.proration) == [-516, 1548]
    upcoming = sim.client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert upcoming.amount_due == 4032  # what the confirm step announced
    assert "Your plan was updated." in sim.http.get(switched.headers["location"]).text
    same = sim.http.get(f"{url}/subscriptions/{sub.id}/update/confirm", params={"price": plus.id})
    assert same.status_code == 400
    assert "already your plan" in same.text


def test_cards_can_be_added_made_default_and_removed(sim: SimHelper) -> None:
    basic, plus, _, customer, sub = _subscriber(sim)
    url = _portal(sim, customer.id, _config(sim, basic, plus).id)
    first = str(sim.client.v1.customers.retrieve(customer.id).invoice_settings
                .default_payment_method)
    step = sim.http.get(f"{url}/payment-methods/new")
    assert "Add payment method" in step.text
    assert 'value="pm_card_mastercard"' in step.text
    refused = sim.http.post(url, data={"action": "add_card",
                                       "payment_method": "pm_card_visa_chargeDeclined"})
    assert refused.status_code == 402
    assert 'id="cards-error" role="alert">Your card was declined.<' in refused.text
    assert re.search(r'value="pm_card_visa_chargeDeclined"[^>]*checked', refused.text)
    added = sim.http.post(url, data={"action": "add_card", "payment_method": "pm_card_mastercard"})
    assert added.status_code == 303
    mastercard = sim.client.v1.customers.retrieve(customer.id).invoice_settings \
        .default_payment_method
    assert mastercard != first
    assert sim.client.v1.subscriptions.retrieve(sub.id).default_payment_method == mastercard
    home = sim.http.get(added.headers["location"])
    assert "Mastercard •••• 4444" in home.text
    assert "Your card was added" in home.text
    # The default card cannot go while it pays a subscription; another one can.
    kept = sim.http.post(url, data={"action": "remove_card", "payment_method": str(mastercard)})
    assert kept.status_code == 400
    assert "pays your subscription" in kept.text
    sim.http.post(url, data={"action": "default_card", "payment_method": first})
    assert sim.client.v1.subscriptions.retrieve(sub.id).default_payment_method == first
    removed = sim.http.post(url, data={"action": "remove_card", "payment_method": str(mastercard)})
    assert removed.status_code == 303
    assert sim.client.v1.payment_methods.retrieve(str(mastercard)).customer is None
    foreign = sim.http.post(url, data={"action": "default_card", "payment_method": "pm_nope"})
    assert foreign.status_code == 400


def test_billing_information_is_edited_within_the_allowed_fields(sim: SimHelper) -> None:
    basic, plus, _, customer, _ = _subscriber(sim)
    url = _portal(sim, customer.id, _config(sim, basic, plus).id)
    form = sim.http.get(f"{url}/customer")
    assert 'name="address_line1"' in form.text
    assert 'name="phone"' not in form.text
    bad = sim.http.post(url, data={"action": "customer", "name": "Ada King",
                                   "email": "not-an-email"})
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.text
    assert 'value="Ada King"' in bad.text  # kept
    saved = sim.http.post(url, data={
        "action": "customer", "name": "Ada King", "email": "ada@king.example",
        "address_line1": "12 St James's Square", "address_city": "London",
        "address_postal_code": "SW1Y 4JH", "address_country": "GB", "phone": "+44 1"})
    assert saved.status_code == 303
    updated = sim.client.v1.customers.retrieve(customer.id)
    assert (updated.name, updated.email) == ("Ada King", "ada@king.example")
    assert (updated.address.city, updated.address.country) == ("London", "GB")
    assert updated.phone is None  # not an allowed update
    home = sim.http.get(saved.headers["location"])
    assert "London, SW1Y 4JH" in home.text
    locked = _portal(sim, customer.id, _config(sim, basic, plus, customer_update={
        "enabled": False}).id)
    assert f'href="{locked}/customer"' not in sim.http.get(locked).text
    assert sim.http.post(locked, data={"action": "customer", "name": "X"}).status_code == 400


def test_flows_open_on_their_step_and_follow_after_completion(sim: SimHelper) -> None:
    basic, plus, _, customer, sub = _subscriber(sim)
    config = _config(sim, basic, plus)
    update = _portal(sim, customer.id, config.id, flow_data={
        "type": "subscription_update", "subscription_update": {"subscription": sub.id}})
    assert "Update your plan" in sim.http.get(update).text
    card = _portal(sim, customer.id, config.id, flow_data={
        "type": "payment_method_update", "after_completion": {
            "type": "hosted_confirmation",
            "hosted_confirmation": {"custom_message": "Card saved, thanks!"}}})
    assert "<h1>Add payment method</h1>" in sim.http.get(card).text
    confirmed = sim.http.post(card, data={"action": "add_card", "payment_method": "pm_card_visa"})
    assert confirmed.status_code == 200
    assert "Card saved, thanks!" in confirmed.text
    assert "<h1>Add payment method</h1>" not in sim.http.get(card).text  # the flow is over
    cancel = _portal(sim, customer.id, config.id, flow_data={
        "type": "subscription_cancel", "subscription_cancel": {"subscription": sub.id}})
    assert "Cancel your plan" in sim.http.get(cancel).text
    left = sim.http.post(cancel, data={"action": "leave_flow"})
    assert left.headers["location"] == "https://app.example/account"
    assert sim.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    home = sim.http.get(cancel)
    assert "Current subscription" in home.text  # after leaving: the homepage


def test_an_expired_or_unknown_portal_session_says_so(sim: SimHelper) -> None:
    page = sim.http.get("/p/session/test_nothing")
    assert page.status_code == 404
    assert "This portal session has expired" in page.text


def test_a_step_that_no_longer_stands_answers_on_the_homepage_not_with_a_crash(
        sim: SimHelper) -> None:
    basic, plus, _, customer, sub = _subscriber(sim)
    config = _config(sim, basic, plus)
    url = _portal(sim, customer.id, config.id, flow_data={
        "type": "subscription_update_confirm", "subscription_update_confirm": {
            "subscription": sub.id, "items": [{"id": sub["items"].data[0].id, "price": plus.id}]}})
    sim.client.v1.subscriptions.cancel(sub.id)  # meanwhile, through the API
    late = sim.http.post(url, data={"action": "confirm_update", "subscription": sub.id})
    assert late.status_code == 400
    assert "This subscription has ended" in late.text
    assert "Current subscription" in late.text
    assert sim.client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    sim.client.v1.customers.delete(customer.id)
    gone = sim.http.get(url)
    assert gone.status_code == 404
    assert "This portal session has expired" in gone.text
