"""Stories of the pages that need no payment: who may see what, and what a short balance shows."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from coinslot.checkout import flows as checkout_flows
from coinslot.ledger import service as ledger
from tests.browser.conftest import Web

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _grant_period(web: Web, host_user_id: str, credits: int) -> int:
    customer_id = web.customer_id(host_user_id)
    now = web.now()
    with web.stack.container.db.unit_of_work() as session:
        ledger.grant_period(session, customer_id=customer_id, entry_id=f"test:{host_user_id}:period",
                            credits=credits, period_start=now - dt.timedelta(days=1),
                            period_end=now + dt.timedelta(days=29), rollover_cap=0, unlimited=False, now=now,
                            source="test")
    return customer_id


def _spend(web: Web, customer_id: int, credits: int, key: str) -> None:
    with web.stack.container.db.unit_of_work() as session:
        ledger.spend(session, customer_id=customer_id, entry_id=f"key:{key}", credits=credits,
                     feature="export", now=web.now())


def test_a_low_balance_shows_the_upgrade_and_running_out_says_so(web: Web) -> None:
    web.link("maya")  # the host creates the customer when it asks for a link
    customer_id = _grant_period(web, "maya", 25)
    for index in range(7):  # seven exports at 3 credits: 4 of 25 left, under the 20% mark
        _spend(web, customer_id, 3, f"export-{index}")

    page = web.open_as("maya")
    prompt = page.locator("[data-credits-prompt]")
    expect(prompt).to_have_attribute("data-credits-prompt", "low")
    expect(prompt).to_contain_text("Running low: 4 credits left")
    expect(prompt.get_by_role("link", name=re.compile(r"Upgrade to Core"))).to_be_visible()
    expect(page.get_by_role("progressbar", name="Credits remaining")).to_have_attribute("aria-valuenow", "16")
    web.shot(page, "billing-low-balance")

    _spend(web, customer_id, 4, "export-last")
    page.reload()
    expect(prompt).to_have_attribute("data-credits-prompt", "out")
    expect(prompt).to_contain_text("You are out of credits")
    expect(prompt.get_by_role("link", name="Buy credits")).to_be_visible()
    web.shot(page, "billing-out-of-credits")


def test_a_customer_sees_only_their_own_billing(make_web: Callable[..., Web]) -> None:
    web = make_web(catalog="skinova")
    web.link("alice")
    alices_draft = checkout_flows.create_order(web.stack.container, host_user_id="alice",
                                               product="consultation",
                                               payload={"notes": "itchy patch on the left arm"})
    page = web.open_as("bob")
    expect(page.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
    assert page.url.endswith("/billing")  # the token left the address bar

    # A link altered by hand is refused.
    tampered = web.link("bob").replace("token=", "token=x")
    answer = page.goto(tampered)
    assert answer is not None
    assert answer.status == 401
    expect(page.get_by_role("alert")).to_contain_text("This link is not valid")
    web.shot(page, "link-refused")

    # Alice's order, asked for from bob's session, is not found: nothing is shown or paid.
    page.goto(web.url + "/billing")
    expect(page.get_by_text(alices_draft.public_id)).to_have_count(0)
    page.goto(web.url + "/billing/pricing")  # any page with a form carries bob's CSRF token
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post(f"{web.url}/billing/orders/{alices_draft.public_id}/resume",
                                form={"csrf_token": token}, max_redirects=0)
    assert refused.status == 404
    # A form posted without this session's CSRF token changes nothing.
    forged = page.request.post(f"{web.url}/billing/subscription/cancel", form={"csrf_token": "forged"},
                               max_redirects=0)
    assert forged.status == 403
    # Alice herself sees her draft, ready to be paid.
    alice = web.open_as("alice")
    row = alice.get_by_role("row", name=re.compile(alices_draft.public_id))
    row.get_by_role("button", name="Complete payment").click()
    alice.locator("form").first.locator("button[type=submit]").click()  # stripesim's pay page
    expect(alice.get_by_role("status")).to_contain_text("Your payment went through")
    expect(row.get_by_text("Paid", exact=True)).to_be_visible()
    expect(alice.get_by_role("heading", name="Credits")).to_have_count(0)  # Skinova sells no credits


def test_an_expired_link_is_refused(make_web: Callable[..., Web]) -> None:
    web = make_web(signed_link_ttl_s=1)
    link = web.link("carol")
    time.sleep(2.1)
    page = web.new_page()
    answer = page.goto(link)
    assert answer is not None
    assert answer.status == 401
    expect(page.get_by_role("alert")).to_contain_text("This link has expired")
