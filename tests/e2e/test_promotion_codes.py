"""A promotion code typed on Stripe's pay page, end to end: the invoices, the mirror, MRR, the billing page.

Patch-Hive's Pro allows promotion codes. LAUNCH25 takes 25% off for three months: Ada pays $11.24
instead of $14.99 (Stripe rounds 374.75 up to 375), the mirror records the amount and the discount
with its end, MRR counts what she pays, and her billing page shows both; the fourth month is full price.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx

from coinslot.analytics import service as analytics
from coinslot.catalog.parser import load_catalog
from tests.e2e.billing import mirror, push_catalog
from tests.e2e.billing_user import User, assert_ledger_exact, credits
from tests.support.dates import start_dates
from tests.support.stack import Stack


def browser_for(stack: Stack, host_user_id: str) -> httpx.Client:
    """A browser on the user's billing pages, opened by a signed link as a host would."""
    link = stack.api.post("/v1/links", json={"host_user_id": host_user_id})
    assert link.status_code == 200, link.text
    browser = httpx.Client(base_url=stack.url, follow_redirects=True, timeout=30)
    opened = browser.get(link.json()["url"].removeprefix(stack.url))
    assert opened.status_code == 200, opened.text
    return browser


def subscribe_with_code(user: User, plan: str, code: str) -> str:
    """Checkout for `plan`; on Stripe's pay page the user adds `code`, then pays with a Visa."""
    started = user.start_checkout(plan=plan, interval="month")
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]
    with httpx.Client(base_url=user.stack.sim_server.url, timeout=30) as page:
        applied = page.post(f"/c/pay/{session_id}", data={"action": "apply_promotion_code",
                                                           "promotion_code": code})
        assert applied.status_code == 200, applied.text
        paid = page.post(f"/c/pay/{session_id}", data={"payment_method": "pm_card_visa"})
        assert paid.status_code == 303, paid.text
    user.stack.settle()
    return str(user.stack.stripe.v1.checkout.sessions.retrieve(session_id).subscription)


def mrr_usd(stack: Stack) -> int:
    catalog = load_catalog(stack.container.settings.catalog_path)
    with stack.container.db.unit_of_work(read_only=True) as session:
        figures = analytics.figures(session, catalog=catalog, now=stack.clock.now())
    return figures.mrr_minor.get("usd", 0)


def billed_text(stack: Stack, user: str) -> tuple[str, str | None]:
    browser = browser_for(stack, user)
    try:
        page = browser.get("/billing").text
    finally:
        browser.close()
    billed = re.search(r"<p data-billed>([^<]+)</p>", page)
    discount = re.search(r"<p class=\"muted\" data-discount>([^<]+)</p>", page)
    assert billed is not None
    return billed.group(1).strip(), discount.group(1).strip() if discount else None


@start_dates()
def test_a_promotion_code_discounts_three_months_of_invoices_mrr_and_the_billing_page(
    stack: Stack, start_at: dt.datetime
) -> None:
    push_catalog(stack)
    coupon = stack.stripe.v1.coupons.create(params={"percent_off": 25, "duration": "repeating",
                                                    "duration_in_months": 3, "name": "Launch"})
    stack.stripe.v1.promotion_codes.create(params={"promotion": {"type": "coupon", "coupon": coupon.id},
                                                   "code": "LAUNCH25"})
    ada = User.on_test_clock(stack, "ada", start_at)
    sub_id = subscribe_with_code(ada, "pro", "LAUNCH25")

    first = stack.stripe.v1.invoices.retrieve(ada.latest_invoice(sub_id))
    assert (first.subtotal, first.amount_paid) == (1499, 1124)
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.period_amount_minor, row.period_discount_minor) == (1499, 375)
    assert row.discount_ends_at is not None
    assert mrr_usd(stack) == 1124
    assert ada.credits() == credits(100, period=100)  # a discount changes the price, not the plan
    billed, discount = billed_text(stack, "ada")
    assert billed == "$11.24 / month"
    ends = row.discount_ends_at
    assert discount == f"Discount: $3.75 off $14.99 until {ends.day} {ends:%b %Y}."

    paid = [stack.stripe.v1.invoices.retrieve(ada.renew(sub_id)).amount_paid for _ in range(3)]
    assert paid == [1124, 1124, 1499]  # three months discounted, then the full price
    row = mirror(stack, sub_id)
    assert row is not None
    assert mrr_usd(stack) == 1499
    assert billed_text(stack, "ada") == ("$14.99 / month", None)
    assert_ledger_exact(stack)
