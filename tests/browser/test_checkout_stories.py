"""A customer's stories through Checkout: subscribe, buy credits with the minimum, cancel and resume.

Each one goes from coinslot's page to stripesim's hosted pay page and back, in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Web

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def pay_on_stripesim(page: Page, web: Web, *, shot: str | None = None) -> None:
    """Pay on stripesim's hosted page with the default test card (Visa 4242, succeeds)."""
    expect(page).to_have_url(re.compile("^" + re.escape(web.stack.sim_server.url) + "/"))
    if shot:
        web.shot(page, shot)
    page.locator("form").first.locator("button[type=submit]").click()


def subscribe(web: Web, page: Page, plan_name: str) -> None:
    page.goto(web.url + "/billing/pricing")
    page.get_by_role("button", name=f"Subscribe to {plan_name}").click()
    pay_on_stripesim(page, web)
    expect(page.get_by_role("status")).to_contain_text("Your subscription is active")


def test_subscribing_from_the_pricing_page_ends_on_a_thank_you_and_a_clean_url(web: Web) -> None:
    page = web.open_as("maya", page="pricing")
    pro = page.get_by_role("article", name="Pro")
    expect(pro.get_by_text("Most popular")).to_be_visible()
    expect(page.get_by_role("article", name="Free").get_by_text("Current plan", exact=True)).to_be_visible()
    web.shot(page, "pricing")

    button = pro.get_by_role("button", name="Subscribe to Pro")
    button.click()
    pay_on_stripesim(page, web, shot="stripesim-pay-page")

    toast = page.get_by_role("status")
    expect(toast).to_contain_text("Thank you! Your subscription is active.")
    expect(page).to_have_url(web.url + "/billing")  # ?toast=… removed by history.replaceState
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "active")
    expect(page.get_by_text("Renews on")).to_be_visible()
    expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "100")
    expect(page.get_by_role("row", name=re.compile(r"Paid.*\$14\.99"))).to_be_visible()
    web.shot(page, "billing-after-subscribe")

    page.goto(web.url + "/billing/pricing")
    expect(page.get_by_role("article", name="Pro").get_by_text("Current plan", exact=True)).to_be_visible()
    page.get_by_role("button", name="Switch to Studio").click()  # an upgrade: now, prorated
    # The confirmation step: Stripe's proration preview, before anything changes.
    expect(page.get_by_role("heading", name="Switch to Studio?")).to_be_visible()
    due = int(page.locator("[data-amount-due]").get_attribute("data-amount-due") or "-1")
    assert due == 2999 - 1499  # the same day: the whole difference
    web.shot(page, "change-plan-preview")
    page.get_by_role("button", name="Pay $15.00 and switch").click()
    expect(page.get_by_role("status")).to_contain_text("Your plan was changed")
    expect(page.get_by_role("heading", name="Credits").locator("..")).to_contain_text("Unlimited")
    expect(page.locator("#subscription")).to_contain_text("Studio")


def test_buying_credits_enforces_the_minimum_and_adds_them_at_once(web: Web) -> None:
    page = web.open_as("maya", page="credits")
    quantity = page.get_by_label("Number of credits")
    expect(quantity).to_have_value("25")  # $5.00 minimum at $0.20 a credit
    expect(page.locator("[data-total]")).to_have_text("$5.00")

    quantity.fill("10")
    expect(page.locator("[data-total]")).to_have_text("$2.00")
    expect(page.get_by_text("Minimum: 25 credits ($5.00).")).to_be_visible()
    expect(page.get_by_role("button", name="Buy credits")).to_be_disabled()

    # The server refuses it too, whatever the browser sends.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post(web.url + "/billing/credits",
                                form={"csrf_token": token, "pack": "credits", "quantity": "10"})
    assert refused.status == 422
    assert "buy at least 25 credits" in refused.text()

    quantity.fill("30")
    expect(page.locator("[data-total]")).to_have_text("$6.00")
    web.shot(page, "buy-credits")
    page.get_by_role("button", name="Buy credits").click()
    pay_on_stripesim(page, web)

    expect(page.get_by_role("status")).to_contain_text("Your credits were added")
    expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "30")
    expect(page).to_have_url(web.url + "/billing")


def test_cancel_asks_first_then_resume_takes_it_back(web: Web) -> None:
    page = web.open_as("maya")
    subscribe(web, page, "Core")

    page.get_by_role("link", name="Cancel subscription").click()
    expect(page.get_by_role("heading", name="Cancel your Core subscription?")).to_be_visible()
    web.shot(page, "cancel-confirmation")
    page.get_by_role("link", name="Keep my subscription").click()
    expect(page.locator("[data-cancel-warning]")).to_have_count(0)

    page.get_by_role("link", name="Cancel subscription").click()
    page.get_by_role("button", name="Yes, cancel at period end").click()
    expect(page.get_by_role("status")).to_contain_text("will end at the period end")
    warning = page.locator("[data-cancel-warning]")
    expect(warning).to_contain_text("Your subscription ends on")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "active")
    web.shot(page, "billing-cancel-scheduled")

    page.get_by_role("button", name="Resume subscription").click()
    expect(page.get_by_role("status")).to_contain_text("Your subscription continues")
    expect(warning).to_have_count(0)
    expect(page.get_by_text("Renews on")).to_be_visible()


def test_the_yearly_toggle_shows_the_saving_without_a_reload(make_web: Callable[..., Web]) -> None:
    web = make_web(catalog="quantipackai")
    page = web.open_as("noor", page="pricing")
    professional = page.get_by_role("article", name="Professional")
    expect(professional.get_by_text("$99.00")).to_be_visible()
    expect(professional.get_by_role("button", name="Start free trial of Professional")).to_be_visible()

    page.get_by_role("link", name=re.compile("^Yearly")).click()
    expect(page).to_have_url(re.compile(r"\?interval=year$"))
    expect(professional.get_by_text("$990.00")).to_be_visible()
    expect(professional.get_by_text("Save $198.00 a year (16%)")).to_be_visible()
    expect(professional.get_by_text("$99.00")).to_be_hidden()
    web.shot(page, "pricing-yearly")
    yearly_form = professional.locator("form:visible")
    expect(yearly_form.locator("input[name=interval]")).to_have_value("year")
