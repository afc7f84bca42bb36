"""An admin of a customer changes seats and add-ons on the billing page, in Chromium: each change shows
Stripe's proration first, and the page's figures afterwards are the ledger's and Stripe's.

The customers live on Stripe test clocks frozen at a pinned date (tests/support/dates.py), subscribed through
the API; every change happens at the start of the period, so the prorations are whole prices.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from coinslot.customers import service as customers
from coinslot.ledger import service as ledger
from tests.browser.conftest import Web
from tests.browser.test_checkout_stories import pay_on_stripesim
from tests.e2e.billing_user import User
from tests.e2e.test_seats_and_addons import TEAMS, stripe_items

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def available_credits(web: Web, host_user_id: str) -> int:
    """The ledger's balance: what the page must show."""
    customer_id = web.customer_id(host_user_id)
    with web.stack.container.db.unit_of_work(read_only=True) as session:
        return ledger.balance(session, customer_id=customer_id, now=web.now()).available_credits


def subscribed(web: Web, host_user_id: str, plan: str, quantity: int = 1) -> tuple[User, str]:
    user = User.on_test_clock(web.stack, host_user_id)
    started = user.start_checkout(plan=plan, quantity=quantity)
    assert started.status_code == 201, started.text
    user.pay(started.json()["session_id"])
    session = web.stack.stripe.v1.checkout.sessions.retrieve(started.json()["session_id"])
    return user, str(session.subscription)


def test_an_admin_adds_two_seats_after_seeing_the_prorated_price(make_web: Callable[..., Web]) -> None:
    web = make_web(catalog=TEAMS)
    acme, sub_id = subscribed(web, "acme", "team", quantity=5)
    page = web.open_as("acme")
    expect(page.locator("[data-seats]")).to_have_attribute("data-seats", "5")
    expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "100")

    page.get_by_label("Seats").fill("7")
    page.get_by_role("button", name="Change seats").click()

    expect(page.get_by_role("heading", name="Change to 7 seats?")).to_be_visible()
    due = int(page.locator("[data-amount-due]").get_attribute("data-amount-due") or "-1")
    assert due == 2 * 1000  # the start of the period: two whole seats
    web.shot(page, "seats-preview")
    page.get_by_role("button", name="Confirm 7 seats").click()

    expect(page.get_by_role("status")).to_contain_text("Your seats were changed")
    expect(page.locator("[data-seats]")).to_have_attribute("data-seats", "7")
    assert stripe_items(web.stack, sub_id) == [("coinslot:plan:team:month", 7)]
    latest = web.stack.stripe.v1.invoices.retrieve(acme.latest_invoice(sub_id))
    assert (latest.billing_reason, latest.amount_paid) == ("subscription_update", due)
    assert available_credits(web, "acme") == 7 * 20
    expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "140")
    web.shot(page, "billing-after-seats")


def test_an_admin_adds_the_extra_tokens_then_removes_them(make_web: Callable[..., Web]) -> None:
    web = make_web(catalog="quantipackai")
    _ada, sub_id = subscribed(web, "ada", "starter")
    page = web.open_as("ada")
    extra = page.locator("[data-addon=extra_tokens]")
    expect(extra).to_have_attribute("data-addon-on", "no")

    extra.get_by_role("link", name="Add").click()
    expect(page.get_by_role("heading", name="Add Extra tokens?")).to_be_visible()
    web.shot(page, "addon-preview")
    page.get_by_role("button", name="Pay $29.00 and add it").click()

    expect(page.get_by_role("status")).to_contain_text("The add-on was added")
    expect(extra).to_have_attribute("data-addon-on", "yes")
    assert stripe_items(web.stack, sub_id) == [("coinslot:plan:starter:month", 1),
                                               ("coinslot:addon:extra_tokens:month", 1)]
    assert available_credits(web, "ada") == 150
    expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "150")

    extra.get_by_role("link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove Extra tokens?")).to_be_visible()
    assert page.locator("[data-total]").get_attribute("data-total") == "-2900"  # the whole month, unused
    expect(page.get_by_text("credited to your balance")).to_be_visible()
    page.get_by_role("button", name="Remove it").click()

    expect(page.get_by_role("status")).to_contain_text("The add-on was removed")
    expect(extra).to_have_attribute("data-addon-on", "no")
    assert stripe_items(web.stack, sub_id) == [("coinslot:plan:starter:month", 1)]
    assert available_credits(web, "ada") == 50
    expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "50")


def test_a_team_buys_three_seats_from_the_pricing_page(make_web: Callable[..., Web]) -> None:
    web = make_web(catalog=TEAMS)
    page = web.open_as("globex", page="pricing")
    team = page.get_by_role("article", name="Team")
    seats = team.get_by_label("Seats").first
    expect(seats).to_have_value("2")  # the plan's minimum
    seats.fill("3")
    team.get_by_role("button", name="Subscribe to Team").first.click()
    pay_on_stripesim(page, web)

    expect(page.get_by_role("status")).to_contain_text("Your subscription is active")
    expect(page.locator("[data-seats]")).to_have_attribute("data-seats", "3")
    with web.stack.container.db.unit_of_work(read_only=True) as session:
        stripe_customer_id = customers.get_by_host_user_id(session, "globex").stripe_customer_id
    [subscription] = web.stack.stripe.v1.subscriptions.list(params={"customer": stripe_customer_id}).data
    assert stripe_items(web.stack, subscription.id) == [("coinslot:plan:team:month", 3)]
    assert available_credits(web, "globex") == 3 * 20  # credits per seat
    expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "60")
