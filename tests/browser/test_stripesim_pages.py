"""stripesim's hosted pages in Chromium: pay, decline then pay with the choice kept, pass and fail
3D Secure, and use the portal (switch plan with the preview, cancel, add a card). What a page shows
is checked against stripesim's state, read through the API.

The pages' screenshots in docs/stripesim.md are taken here (docs/screenshots/stripesim-*.png).
Everything on them is pinned (a test clock at 1 January 2026, fixed names and invoice prefixes), so
a run that changes nothing rewrites the same images.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from playwright.sync_api import Page, expect

import stripesim
from stripesim.sim import Sim
from tests.browser.conftest import SCREENSHOTS
from tests.support.servers import ServerThread

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400


@dataclass
class SimWeb:
    url: str
    client: stripe.StripeClient
    browser: Any
    contexts: list[Any]

    def page(self) -> Page:
        context = self.browser.new_context(viewport={"width": 1200, "height": 860}, locale="en-US")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        tab: Page = context.new_page()
        return tab

    def control(self, path: str, body: dict[str, Any]) -> Any:
        answer = httpx.post(self.url + path, json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def customer_on_clock(self, name: str, prefix: str, **params: Any) -> tuple[str, Any]:
        clock = self.client.v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
        customer = self.client.v1.customers.create(params={
            "name": name, "email": f"{name.split()[0].lower()}@example.com",
            "invoice_prefix": prefix, "test_clock": clock.id, **params})
        return clock.id, customer

    def price(self, amount: int, name: str, *, recurring: bool = True) -> Any:
        params: dict[str, Any] = {"currency": "usd", "unit_amount": amount,
                                  "product_data": {"name": name}}
        if recurring:
            params["recurring"] = {"interval": "month"}
        return self.client.v1.prices.create(params=params)

    def checkout(self, **params: Any) -> Any:
        return self.client.v1.checkout.sessions.create(params={
            "success_url": self.url + "/c/done?session={CHECKOUT_SESSION_ID}",
            "cancel_url": self.url + "/", **params})


@pytest.fixture
def sim_web(browser: Any) -> Iterator[SimWeb]:
    engine = Sim(retry_base_delay_s=0.05)
    server = ServerThread(stripesim.create_app(engine)).start()
    client = stripe.StripeClient("sk_test_pages", base_addresses={"api": server.url},
                                 max_network_retries=0)
    running = SimWeb(server.url, client, browser, [])
    try:
        yield running
    finally:
        for context in running.contexts:
            context.close()
        server.stop()


def shot(page: Page, name: str) -> None:
    """The page as docs/screenshots/<name>.png (and artifacts/screenshots/, with the others)."""
    for folder in (SCREENSHOTS, DOCS_SCREENSHOTS):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def card(page: Page, last4: str) -> Any:
    return page.get_by_role("radio", name=re.compile(f"ending in {last4}"))


def pay_button(page: Page) -> Any:
    return page.locator("#pay-form").get_by_role("button")


def test_a_subscriber_pays_with_the_default_card(sim_web: SimWeb) -> None:
    _, customer = sim_web.customer_on_clock("Ada Lovelace", "ADA")
    pro = sim_web.price(1499, "Pro")
    session = sim_web.checkout(mode="subscription", customer=customer.id,
                               line_items=[{"price": pro.id, "quantity": 2}],
                               allow_promotion_codes=True)
    page = sim_web.page()
    page.goto(session.url)
    expect(page.get_by_role("heading", name="Subscribe to Pro")).to_be_visible()
    expect(page.locator("[data-amount]")).to_have_text("$29.98")
    expect(page.get_by_text("Qty 2 · $14.99 each · Billed monthly")).to_be_visible()
    expect(page.locator("[data-total]")).to_have_text("$29.98")
    expect(page.get_by_role("note")).to_contain_text("TEST MODE")
    expect(page.get_by_label("Email")).to_have_value("ada@example.com")
    expect(card(page, "4242")).to_be_checked()
    assert session.amount_total == 2998
    shot(page, "stripesim-checkout")

    pay_button(page).click()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    assert page.url == f"{sim_web.url}/c/done?session={session.id}"
    done = sim_web.client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "paid")
    sub = sim_web.client.v1.subscriptions.retrieve(str(done.subscription))
    assert (sub.status, sub["items"].data[0].quantity) == ("active", 2)
    invoice = sim_web.client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (invoice.status, invoice.amount_paid) == ("paid", 2998)


def test_a_declined_card_keeps_the_choice_then_another_card_pays(sim_web: SimWeb) -> None:
    pack = sim_web.price(500, "Credit pack", recurring=False)
    session = sim_web.checkout(mode="payment", line_items=[{"price": pack.id, "quantity": 3}])
    page = sim_web.page()
    page.goto(session.url)
    expect(page.locator("[data-total]")).to_have_text("$15.00")
    # The tiles are one radio group: the keyboard moves the choice.
    card(page, "4242").focus()
    page.keyboard.press("ArrowDown")
    expect(card(page, "4444")).to_be_checked()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Name on card (optional)").fill("Grace Hopper")
    card(page, "0002").check()
    pay_button(page).click()

    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Your card was declined.")
    expect(page.get_by_role("group", name="Card information")).to_have_attribute(
        "aria-invalid", "true")
    expect(card(page, "0002")).to_be_checked()
    expect(page.get_by_label("Email")).to_have_value("grace@example.com")
    expect(page.get_by_label("Name on card (optional)")).to_have_value("Grace Hopper")
    assert sim_web.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert sim_web.client.v1.payment_intents.list().data == []
    shot(page, "stripesim-checkout-declined")

    card(page, "4242").check()
    pay_button(page).click()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    done = sim_web.client.v1.checkout.sessions.retrieve(session.id)
    assert done.status == "complete"
    intent = sim_web.client.v1.payment_intents.retrieve(str(done.payment_intent))
    assert (intent.status, intent.amount_received) == ("succeeded", 1500)
    assert done.customer_details.email == "grace@example.com"


def test_3d_secure_failed_then_passed_completes_the_one_subscription(sim_web: SimWeb) -> None:
    _, customer = sim_web.customer_on_clock("Alan Turing", "ALAN")
    basic = sim_web.price(1000, "Basic")
    session = sim_web.checkout(mode="subscription", customer=customer.id,
                               line_items=[{"price": basic.id}])
    page = sim_web.page()
    page.goto(session.url)
    card(page, "3220").check()
    pay_button(page).click()
    expect(page.get_by_role("heading", name="Authenticate your payment")).to_be_visible()
    expect(page.locator("[data-amount]")).to_have_text("$10.00")
    shot(page, "stripesim-3ds")
    [waiting] = sim_web.client.v1.subscriptions.list(params={"status": "all"}).data
    assert waiting.status == "incomplete"
    intent = sim_web.client.v1.payment_intents.list().data[0]
    assert (intent.status, intent.amount) == ("requires_action", 1000)

    page.get_by_role("button", name="Fail authentication").click()
    expect(page.get_by_role("alert")).to_contain_text("unable to authenticate your payment method")
    expect(card(page, "3220")).to_be_checked()
    failed = sim_web.client.v1.payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"
    assert sim_web.client.v1.checkout.sessions.retrieve(session.id).status == "open"

    pay_button(page).click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", name="Payment complete")).to_be_visible()
    [sub] = sim_web.client.v1.subscriptions.list(params={"status": "all"}).data
    assert (sub.id, sub.status) == (waiting.id, "active")
    assert sim_web.client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    assert sim_web.client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def _portal_subscriber(sim_web: SimWeb) -> tuple[Any, Any, Any, Any, str]:
    """Grace on Basic ($10/month) since 1 January 2026, her clock at 16 January; the portal offers
    Plus ($30/month), prorated on the next invoice."""
    clock_id, customer = sim_web.customer_on_clock(
        "Grace Hopper", "GRACE", payment_method="pm_card_visa",
        invoice_settings={"default_payment_method": "pm_card_visa"},
        address={"line1": "1 Navy Way", "city": "Arlington", "state": "VA",
                 "postal_code": "22201", "country": "US"})
    basic, plus = sim_web.price(1000, "Basic"), sim_web.price(3000, "Plus")
    sub = sim_web.client.v1.subscriptions.create(params={"customer": customer.id,
                                                         "items": [{"price": basic.id}]})
    sim_web.control(f"/_sim/test_clocks/{clock_id}/advance", {"frozen_time": T0 + 15 * DAY})
    config = sim_web.client.v1.billing_portal.configurations.create(params={
        "business_profile": {"headline": "Manage your plan"},
        "features": {
            "invoice_history": {"enabled": True}, "payment_method_update": {"enabled": True},
            "customer_update": {"enabled": True, "allowed_updates": ["name", "email", "address"]},
            "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
            "subscription_update": {
                "enabled": True, "default_allowed_updates": ["price"],
                "proration_behavior": "create_prorations",
                "products": [{"product": str(basic.product), "prices": [basic.id]},
                             {"product": str(plus.product), "prices": [plus.id]}]}}})
    portal = sim_web.client.v1.billing_portal.sessions.create(params={
        "customer": customer.id, "configuration": config.id,
        "return_url": sim_web.url + "/"})
    return customer, sub, basic, plus, portal.url


def test_the_portal_switches_plan_after_a_preview_adds_a_card_and_cancels(sim_web: SimWeb) -> None:
    customer, sub, _, plus, portal_url = _portal_subscriber(sim_web)
    page = sim_web.page()
    page.goto(portal_url)
    plan = page.get_by_role("article", name="Basic")
    expect(plan.locator("[data-status]")).to_have_text("Active")
    expect(plan.get_by_text("$10.00 per month")).to_be_visible()
    expect(plan.get_by_text("Renews on February 1, 2026")).to_be_visible()
    expect(page.get_by_role("link", name="Return to stripesim")).to_have_attribute(
        "href", sim_web.url + "/")
    first_invoice = sim_web.client.v1.invoices.retrieve(str(sub.latest_invoice))
    history = page.get_by_role("row", name=re.compile("Jan 1, 2026"))
    expect(history).to_contain_text("$10.00")
    expect(history).to_contain_text("Paid")
    expect(history.get_by_role("link", name=f"View invoice {first_invoice.number}")) \
        .to_have_attribute("href", str(first_invoice.hosted_invoice_url))
    expect(history.get_by_role("link", name=f"PDF of invoice {first_invoice.number}")) \
        .to_have_attribute("href", str(first_invoice.invoice_pdf))
    shot(page, "stripesim-portal")

    # Switch: choose, see the preview, confirm.
    plan.get_by_role("link", name="Update plan").click()
    page.get_by_role("radio", name=re.compile("^Plus")).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Confirm your new plan")).to_be_visible()
    preview = sim_web.client.v1.invoices.create_preview(params={
        "subscription": sub.id, "subscription_details": {
            "items": [{"id": sub["items"].data[0].id, "price": plus.id}],
            "proration_behavior": "create_prorations"}})
    prorations = sum(line.amount for line in preview.lines.data
                     if line.parent.subscription_item_details
                     and line.parent.subscription_item_details.proration)
    assert (prorations, preview.amount_due) == (1032, 4032)
    expect(page.locator("[data-proration]")).to_have_text("$10.32")
    expect(page.locator("[data-total]")).to_have_text("$40.32")
    expect(page.get_by_role("row", name=re.compile("Next invoice"))).to_be_visible()
    shot(page, "stripesim-portal-switch")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text("Your plan was updated.")
    expect(page.get_by_role("article", name="Plus")).to_contain_text("$30.00 per month")
    switched = sim_web.client.v1.subscriptions.retrieve(sub.id)
    assert switched["items"].data[0].price.id == plus.id
    assert sim_web.client.v1.invoices.create_preview(
        params={"subscription": sub.id}).amount_due == 4032

    # A new card becomes the default.
    page.get_by_role("link", name="Add payment method").click()
    card(page, "4444").check()
    page.get_by_role("button", name="Add card").click()
    expect(page.get_by_role("status")).to_contain_text("Your card was added")
    new_default = sim_web.client.v1.customers.retrieve(customer.id).invoice_settings \
        .default_payment_method
    saved = sim_web.client.v1.payment_methods.retrieve(str(new_default))
    assert (saved.card.brand, saved.card.last4) == ("mastercard", "4444")
    assert sim_web.client.v1.subscriptions.retrieve(sub.id).default_payment_method == saved.id
    expect(page.locator(f'[data-card="{saved.id}"]')).to_contain_text("Default")

    # Cancel, after a confirmation step.
    page.get_by_role("article", name="Plus").get_by_role("link", name="Cancel plan").click()
    expect(page.get_by_role("heading", name="Cancel your plan")).to_be_visible()
    expect(page.locator("[data-cancel-date]")).to_have_text("February 1, 2026")
    assert sim_web.client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    shot(page, "stripesim-portal-cancel")
    page.get_by_role("button", name="Cancel plan").click()
    expect(page.get_by_role("status")).to_contain_text("will be canceled at the end")
    canceling = page.get_by_role("article", name="Plus")
    expect(canceling.locator("[data-status]")).to_have_text("Canceling")
    expect(canceling.get_by_text("Cancels on February 1, 2026")).to_be_visible()
    ended = sim_web.client.v1.subscriptions.retrieve(sub.id)
    assert ended.cancel_at_period_end is True
    assert ended.cancel_at == ended["items"].data[0].current_period_end == T0 + 31 * DAY


def test_the_invoice_page_and_the_home_page(sim_web: SimWeb) -> None:
    _, sub, _, _, portal_url = _portal_subscriber(sim_web)
    invoice = sim_web.client.v1.invoices.retrieve(str(sub.latest_invoice))
    page = sim_web.page()
    page.goto(portal_url)
    page.get_by_role("link", name=f"View invoice {invoice.number}").click()
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()
    expect(page.locator("[data-amount]")).to_have_text("$10.00")
    expect(page.locator("[data-status]")).to_have_text("Paid")
    assert (invoice.status, invoice.amount_paid, invoice.number) == ("paid", 1000, "GRACE-0001")
    expect(page.get_by_role("row", name=re.compile("Amount paid"))).to_contain_text("$10.00")
    expect(page.get_by_text("Jan 1, 2026 – Feb 1, 2026")).to_be_visible()
    shot(page, "stripesim-invoice")

    page.goto(sim_web.url + "/")
    expect(page.get_by_role("heading", name="stripesim is running")).to_be_visible()
    expect(page.locator("[data-base-url]")).to_have_text(sim_web.url)
    expect(page.get_by_role("row", name=re.compile("pm_card_threeDSecure2Required"))) \
        .to_contain_text("3220")
    expect(page.get_by_role("cell", name="POST /_sim/flush")).to_be_visible()
