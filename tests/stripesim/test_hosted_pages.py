"""The hosted pages a person uses: Checkout pay page and the billing portal (plain HTML forms).

More of each: test_hosted_checkout.py, test_hosted_portal.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from tests.stripesim.billing_helpers import (
    DAY,
    T0,
    advance,
    clock_customer,
    event_types,
    price,
    subscribe,
)
from tests.stripesim.conftest import SimHelper
from tests.stripesim.fidelity import assert_stripe_shape


def _path(url: str) -> str:
    return urlparse(url).path


def test_a_person_pays_on_the_checkout_page_after_a_decline(sim: SimHelper) -> None:
    session = sim.client.v1.checkout.sessions.create(params={
        "mode": "subscription", "line_items": [{"price": price(sim).id}],
        "success_url": "https://app.example/ok?id={CHECKOUT_SESSION_ID}"})
    page = sim.http.get(_path(str(session.url)))
    assert page.status_code == 200
    assert "pm_card_threeDSecure2Required" in page.text
    declined = sim.http.post(_path(str(session.url)), data={
        "email": "p@example.com", "payment_method": "pm_card_visa_chargeDeclined"})
    assert declined.status_code == 402
    assert "declined" in declined.text
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    paid = sim.http.post(_path(str(session.url)), data={
        "email": "p@example.com", "payment_method": "pm_card_visa"})
    assert paid.status_code == 303
    assert paid.headers["location"] == f"https://app.example/ok?id={session.id}"
    assert sim.client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def test_three_d_secure_page_completes_the_payment(sim: SimHelper) -> None:
    session = sim.client.v1.checkout.sessions.create(params={
        "mode": "subscription", "line_items": [{"price": price(sim).id}],
        "success_url": "https://app.example/ok", "cancel_url": "https://app.example/no"})
    challenge = sim.http.post(_path(str(session.url)), data={
        "payment_method": "pm_card_threeDSecure2Required"})
    assert challenge.status_code == 303
    assert challenge.headers["location"].startswith("/c/3ds/")
    assert sim.http.get(challenge.headers["location"]).status_code == 200
    target = challenge.headers["location"]
    done = sim.http.post(target.split("?")[0], data={"outcome": "succeed", "session": session.id})
    assert done.headers["location"] == "https://app.example/ok"
    assert sim.client.v1.subscriptions.list().data[0].status == "active"
    cancel = sim.http.get(_path(str(session.url)) + "/cancel")
    assert cancel.headers["location"] == "https://app.example/no"


def test_portal_cancel_resume_switch_and_card(sim: SimHelper) -> None:
    basic, plus = price(sim, 1000, name="Basic"), price(sim, 3000, name="Plus")
    config = sim.client.v1.billing_portal.configurations.create(params={"features": {
        "invoice_history": {"enabled": True},
        "payment_method_update": {"enabled": True},
        "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
        "subscription_update": {"enabled": True, "default_allowed_updates": ["price"],
                                "proration_behavior": "always_invoice",
                                "products": [{"product": str(basic.product), "prices": [basic.id]},
                                             {"product": str(plus.product), "prices": [plus.id]}]}}})
    assert_stripe_shape(config)
    _, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, basic.id)
    portal = sim.client.v1.billing_portal.sessions.create(params={
        "customer": customer.id, "configuration": config.id, "return_url": "https://app.example"})
    assert_stripe_shape(portal)
    url = _path(portal.url)
    page = sim.http.get(url)
    assert page.status_code == 200
    assert sub.id in page.text
    sim.http.post(url, data={"action": "cancel", "subscription": sub.id})
    assert sim.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is True
    sim.http.post(url, data={"action": "resume", "subscription": sub.id})
    assert sim.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    sim.http.post(url, data={"action": "switch", "subscription": sub.id, "price": plus.id})
    switched = sim.client.v1.subscriptions.retrieve(sub.id)
    assert switched["items"].data[0].price.id == plus.id
    assert sim.client.v1.invoices.retrieve(str(switched.latest_invoice)).billing_reason == \
        "subscription_update"
    sim.http.post(url, data={"action": "card", "payment_method": "pm_card_mastercard"})
    assert sim.client.v1.subscriptions.retrieve(sub.id).default_payment_method != \
        switched.default_payment_method
    assert event_types(sim).count("customer.subscription.updated") >= 4
    refused = sim.http.post(url, data={"action": "switch", "subscription": sub.id, "price": "price_x"})
    assert refused.status_code == 400


def test_portal_default_configuration_and_flow(sim: SimHelper) -> None:
    _, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, price(sim).id)
    portal = sim.client.v1.billing_portal.sessions.create(params={
        "customer": customer.id,
        "flow_data": {"type": "subscription_cancel", "subscription_cancel": {"subscription": sub.id},
                      "after_completion": {"type": "redirect",
                                           "redirect": {"return_url": "https://app.example/bye"}}}})
    assert portal.flow.type == "subscription_cancel"
    assert_stripe_shape(portal)
    configs = sim.client.v1.billing_portal.configurations.list(params={"is_default": True})
    assert len(configs.data) == 1
    done = sim.http.post(_path(portal.url), data={"action": "cancel", "subscription": sub.id})
    assert done.headers["location"] == "https://app.example/bye"


def _confirm_flow(sim: SimHelper, return_url: str | None = "https://app.example/account") -> tuple[
        Any, Any, Any, str]:
    """A subscriber on Basic (10.00/month) 15 days into January, offered Plus (30.00/month)
    through a `subscription_update_confirm` portal session; (subscription, plus, clock, page path)."""
    basic, plus = price(sim, 1000, name="Basic"), price(sim, 3000, name="Plus")
    config = sim.client.v1.billing_portal.configurations.create(params={"features": {
        "subscription_update": {"enabled": True, "default_allowed_updates": ["price"],
                                "proration_behavior": "create_prorations",
                                "products": [{"product": str(basic.product), "prices": [basic.id]},
                                             {"product": str(plus.product), "prices": [plus.id]}]}}})
    clock, customer = clock_customer(sim)
    sub = subscribe(sim, customer.id, basic.id)
    advance(sim, clock.id, T0 + 15 * DAY)
    params: dict[str, Any] = {
        "customer": customer.id, "configuration": config.id,
        "flow_data": {"type": "subscription_update_confirm", "subscription_update_confirm": {
            "subscription": sub.id, "items": [{"id": sub["items"].data[0].id, "price": plus.id}]},
            "after_completion": {"type": "redirect",
                                 "redirect": {"return_url": "https://app.example/done"}}}}
    if return_url:
        params["return_url"] = return_url
    portal = sim.client.v1.billing_portal.sessions.create(params=params)
    assert portal.flow.type == "subscription_update_confirm"
    return sub, plus, clock, _path(portal.url)


def test_portal_update_confirm_flow_shows_the_proration_and_applies_on_confirm(sim: SimHelper) -> None:
    sub, plus, _, url = _confirm_flow(sim)
    before = sim.client.v1.subscriptions.retrieve(sub.id)
    updates_before = event_types(sim).count("customer.subscription.updated")
    # 16 of January's 31 days remain: credit -10.00×16/31 = -5.16, debit 30.00×16/31 = 15.48.
    preview = sim.client.v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {
            "items": [{"id": sub["items"].data[0].id, "price": plus.id}]}})
    assert sum(line.amount for line in preview.lines.data
               if line.parent and line.parent.subscription_item_details
               and line.parent.subscription_item_details.proration) == 1032
    page = sim.http.get(url)
    assert page.status_code == 200
    assert "Confirm your new plan" in page.text
    assert plus.id in page.text
    assert "$30.00 per month" in page.text
    assert 'data-proration>$10.32</td>' in page.text
    assert 'value="confirm_update"' in page.text
    # Opening the step changes nothing.
    unchanged = sim.client.v1.subscriptions.retrieve(sub.id)
    assert unchanged["items"].data[0].price.id == before["items"].data[0].price.id != plus.id
    assert event_types(sim).count("customer.subscription.updated") == updates_before

    done = sim.http.post(url, data={"action": "confirm_update", "subscription": sub.id})
    assert done.status_code == 303
    assert done.headers["location"] == "https://app.example/done"
    changed = sim.client.v1.subscriptions.retrieve(sub.id)
    assert changed["items"].data[0].price.id == plus.id
    assert event_types(sim).count("customer.subscription.updated") == updates_before + 1
    [latest] = sim.client.v1.events.list(params={"type": "customer.subscription.updated",
                                                 "limit": 1}).data
    assert latest.data.object["items"]["data"][0]["price"]["id"] == plus.id
    assert latest.data.previous_attributes is not None
    # The proration items the page announced are what the update created (pending until renewal).
    pending = sim.client.v1.invoice_items.list(params={"customer": str(changed.customer)}).data
    assert sorted(ii.amount for ii in pending if ii.proration) == [-516, 1548]
    # The step is over: the session's page is the portal homepage now.
    assert "Confirm your new plan" not in sim.http.get(url).text


def test_portal_update_confirm_flow_cancelled_changes_nothing(sim: SimHelper) -> None:
    sub, plus, _, url = _confirm_flow(sim)
    updates_before = event_types(sim).count("customer.subscription.updated")
    cancelled = sim.http.post(url, data={"action": "cancel_update", "subscription": sub.id})
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == "https://app.example/account"
    assert sim.client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id != plus.id
    assert event_types(sim).count("customer.subscription.updated") == updates_before
    assert not [ii for ii in sim.client.v1.invoice_items.list().data if ii.proration]
    # Confirming after cancelling is refused: the proposal was withdrawn.
    late = sim.http.post(url, data={"action": "confirm_update", "subscription": sub.id})
    assert late.status_code == 400
    assert sim.client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id != plus.id


def test_portal_update_confirm_flow_cancelled_without_return_url_shows_the_homepage(
        sim: SimHelper) -> None:
    sub, plus, _, url = _confirm_flow(sim, return_url=None)
    cancelled = sim.http.post(url, data={"action": "cancel_update", "subscription": sub.id})
    assert cancelled.status_code == 303
    homepage = sim.http.get(cancelled.headers["location"])
    assert "nothing was changed" in homepage.text
    assert sim.client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id != plus.id
