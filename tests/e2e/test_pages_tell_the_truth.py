"""What a customer reads on the billing pages is Stripe's and the ledger's truth at that moment: one
balance everywhere, the period's use from the ledger, the state Stripe has after the portal, a plan switch
that shows its price first and its credits at once, no draft invoices, and no stale Stripe price billed.
Against stripesim over HTTP, on SQLite and PostgreSQL; time from pinned test clocks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest

from coinslot.catalog import service as catalog_service
from coinslot.catalog.prices import plan_price
from tests.e2e.billing_user import PAST_RENEWAL, User, assert_ledger_exact, push_catalog
from tests.support.dates import MID_MONTH
from tests.support.stack import Stack


@pytest.fixture
def patch_hive(stack: Stack) -> Stack:
    push_catalog(stack, "patch_hive")
    return stack


@pytest.fixture
def quantipack(database_url: str) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog="quantipackai")
    push_catalog(running, "quantipackai")
    yield running
    running.stop()


def browser_for(stack: Stack, host_user_id: str, name: str | None = None) -> httpx.Client:
    """A browser session on the user's billing pages, opened by a signed link as a host would."""
    link = stack.api.post("/v1/links", json={"host_user_id": host_user_id, "name": name})
    assert link.status_code == 200, link.text
    browser = httpx.Client(base_url=stack.url, follow_redirects=True, timeout=30)
    opened = browser.get(link.json()["url"].removeprefix(stack.url))
    assert opened.status_code == 200, opened.text
    return browser


def attribute(page: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def csrf(page: str) -> str:
    return attribute(page, 'name="csrf_token" value')


def balances(stack: Stack, user: str, browser: httpx.Client, feature: str) -> dict[str, int]:
    """The same user's credits as each surface shows them, at the same moment."""
    page = browser.get("/billing").text
    decision = stack.api.post("/v1/check", json={"user_id": user, "feature": feature}).json()
    return {
        "api": stack.api.get(f"/v1/credits/{user}").json()["available_credits"],
        "summary": stack.api.get(f"/v1/customers/{user}").json()["credits"]["available"],
        "page": int(attribute(page, "data-credits-remaining")),
        # `remaining` is what this use would leave; refused, it is what there is.
        "check": decision["remaining"] + (decision["cost"] if decision["allowed"] else 0),
    }


def test_a_free_user_sees_one_balance_everywhere_before_and_after_the_month_is_written(
    quantipack: Stack,
) -> None:
    quantipack.clock.move_to(MID_MONTH)
    browser = browser_for(quantipack, "fern", name="Fern Brightwater")
    # Nothing written yet: the free plan's 5 tokens of the month are granted by the first use.
    assert balances(quantipack, "fern", browser, "suite_analyzer") == dict.fromkeys(
        ("api", "summary", "page", "check"), 5)
    page = browser.get("/billing").text
    assert "Signed in as <strong>Fern Brightwater</strong>" in page  # the host's name, not its id
    assert "5 credits every month, at no cost." in page
    body = {"user_id": "fern", "feature": "suite_analyzer", "idempotency_key": "a-1",
            "params": {"complexity": "low"}}
    used = quantipack.api.post("/v1/consume", json=body)
    assert (used.status_code, used.json()["remaining"]) == (200, 1)  # 5 x 0.7, rounded up: 4
    assert balances(quantipack, "fern", browser, "suite_analyzer") == dict.fromkeys(
        ("api", "summary", "page", "check"), 1)
    # The next month: written again at first use, counted everywhere before that.
    quantipack.clock.move_to(MID_MONTH + dt.timedelta(days=31))
    assert balances(quantipack, "fern", browser, "suite_analyzer") == dict.fromkeys(
        ("api", "summary", "page", "check"), 5)
    assert_ledger_exact(quantipack)


def test_the_meter_counts_what_was_spent_this_period_even_after_buying_credits(patch_hive: Stack) -> None:
    ada = User.on_test_clock(patch_hive, "ada")
    ada.subscribe("core")
    for number in range(8):  # 24 of Core's 25
        assert ada.consume("export", f"export-{number}").status_code == 200
    ada.buy("credits", quantity=25)
    page = browser_for(patch_hive, "ada").get("/billing").text
    assert attribute(page, "data-credits-remaining") == "26"
    assert attribute(page, "data-credits-used") == "24"  # not 25 - 26 clipped to 0
    assert "24 used this period, of 25 from your plan." in page
    assert "Left: 1 from your plan · 25 bought." in page
    assert_ledger_exact(patch_hive)


def test_back_from_the_portal_the_page_shows_what_stripe_has_now(patch_hive: Stack) -> None:
    bo = User.on_test_clock(patch_hive, "bo")
    subscription = bo.subscribe("pro")
    browser = browser_for(patch_hive, "bo")
    token = csrf(browser.get("/billing").text)
    canceled = browser.post("/billing/subscription/cancel", data={"csrf_token": token})
    assert "Your subscription ends on" in canceled.text
    # In the portal the customer renews again: Stripe has it, its webhook has not arrived yet.
    patch_hive.stripe.v1.subscriptions.update(subscription, params={"cancel_at_period_end": False})
    assert "Your subscription ends on" in browser.get("/billing").text  # what the mirror still says
    portal = browser.post("/billing/portal", data={"csrf_token": csrf(browser.get("/billing").text)},
                          follow_redirects=False)
    assert portal.status_code == 303
    returned = browser.get("/billing/refresh")  # the portal's return URL
    assert str(returned.url).endswith("/billing")
    assert "Your subscription ends on" not in returned.text
    assert "Renews on" in returned.text


def test_a_plan_switch_shows_its_price_first_then_the_new_plan_and_credits_at_once(patch_hive: Stack) -> None:
    cy = User.on_test_clock(patch_hive, "cy")
    subscription = cy.subscribe("core")
    period_end = cy.period_end(subscription)
    # Ten days before the period ends: a prorated upgrade.
    patch_hive.advance_clock(cy.test_clock_id, to=period_end - dt.timedelta(days=10))
    patch_hive.settle()
    browser = browser_for(patch_hive, "cy")
    def invoices() -> int:
        return len(patch_hive.stripe.v1.invoices.list(params={"subscription": subscription}).data)

    invoices_before = invoices()
    preview = browser.get("/billing/change", params={"plan": "pro", "interval": "month"})
    assert preview.status_code == 200, preview.text
    due = int(attribute(preview.text, "data-amount-due"))
    assert 0 < due < 1499 - 499  # the difference for the last ten days only
    # Previewing charged nothing.
    assert invoices() == invoices_before
    confirmed = browser.post("/billing/subscription/change", data={
        "csrf_token": csrf(preview.text), "plan": "pro", "interval": "month",
        "proration_date": attribute(preview.text, 'name="proration_date" value'),
    })
    assert "Your plan was changed" in confirmed.text
    invoice = patch_hive.stripe.v1.invoices.retrieve(cy.latest_invoice(subscription))
    assert (invoice.status, invoice.amount_paid) == ("paid", due)  # charged what the preview showed
    # Before any webhook is delivered, the page shows Pro and its credits for this period.
    assert ">Pro</p>" in confirmed.text
    assert attribute(confirmed.text, "data-credits-remaining") == str(25 + 75)
    patch_hive.settle()  # the webhooks find it done
    assert cy.credits()["available_credits"] == 100
    assert_ledger_exact(patch_hive)


def test_a_stale_preview_cannot_choose_its_own_proration_moment(patch_hive: Stack) -> None:
    dee = User.on_test_clock(patch_hive, "dee")
    dee.subscribe("core")
    browser = browser_for(patch_hive, "dee")
    page = browser.get("/billing").text
    a_year_ahead = int((patch_hive.clock.now() + dt.timedelta(days=365)).timestamp())
    refused = browser.post("/billing/subscription/change", data={
        "csrf_token": csrf(page), "plan": "pro", "interval": "month", "proration_date": str(a_year_ahead)})
    assert refused.status_code == 422
    assert "this price preview has expired" in refused.text
    assert dee.summary()["plan"] == "core"


def test_a_price_changed_at_stripe_is_refused_by_checkout_and_by_a_plan_switch_alike(
    patch_hive: Stack,
) -> None:
    eve = User.on_test_clock(patch_hive, "eve")
    eve.subscribe("core")
    catalog = catalog_service.get_catalog(patch_hive.container.settings)
    pro = plan_price(catalog, plan_key="pro", interval="month")
    current = patch_hive.stripe.v1.prices.list(params={"lookup_keys": [pro.lookup_key]}).data[0]
    # Someone edits Pro at Stripe (not in the file): $19.99 now holds Pro's lookup key.
    patch_hive.stripe.v1.prices.create(params={
        "product": current.product, "currency": "usd", "unit_amount": 1999,
        "recurring": {"interval": "month"}, "lookup_key": pro.lookup_key, "transfer_lookup_key": True,
    })
    started = eve.start_checkout(plan="pro", interval="month")
    switched = patch_hive.api.post("/v1/customers/eve/subscription/change", json={"plan": "pro"})
    previewed = browser_for(patch_hive, "eve").get("/billing/change", params={"plan": "pro"})
    for refused in (started, switched):
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "price_out_of_date"
        assert "(1999 usd per month) differs from the catalog's plans.pro.prices.monthly" in (
            refused.json()["error"]["message"])
    assert previewed.status_code == 409
    assert eve.summary()["plan"] == "core"


def test_customers_see_finalized_invoices_with_their_number_and_links_never_a_draft(
    patch_hive: Stack,
) -> None:
    fay = User.on_test_clock(patch_hive, "fay")
    subscription = fay.subscribe("core")
    first = patch_hive.stripe.v1.invoices.retrieve(fay.latest_invoice(subscription))
    # Thirty minutes after the period ends: Stripe holds the renewal as a draft for about an hour.
    patch_hive.advance_clock(fay.test_clock_id, to=fay.period_end(subscription) + dt.timedelta(minutes=30))
    patch_hive.settle()
    draft = patch_hive.stripe.v1.invoices.retrieve(fay.latest_invoice(subscription))
    assert draft.status == "draft"
    browser = browser_for(patch_hive, "fay")
    page = browser.get("/billing").text
    assert draft.id not in page
    assert f'data-invoice="{first.id}"' in page
    assert first.number
    assert f">{first.number}</a>" in page
    assert f'href="{first.hosted_invoice_url}"' in page
    assert f'href="{first.invoice_pdf}"' in page
    assert httpx.get(first.hosted_invoice_url, timeout=30).status_code == 200
    # Once charged, the renewal shows too.
    patch_hive.advance_clock(fay.test_clock_id, to=fay.period_end(subscription) + PAST_RENEWAL)
    patch_hive.settle()
    assert f'data-invoice="{draft.id}"' in browser.get("/billing").text
