"""The demo a newcomer runs (`./dev demo`), clicked through in Chromium: subscribe on stripesim's page,
use credits until coinslot answers 402, buy more, open the portal, advance the test clock to a renewal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from coinslot.cli.demo import Demo
from tests.browser.conftest import SCREENSHOTS
from tests.support.dates import START_DATES
from tests.support.servers import free_port, free_port_pair

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.slow]


# The demo's clocks start at a pinned moment, never today's date (tests/support/dates.py): the story must
# read the same from each.
@pytest.fixture(params=list(START_DATES), ids=list(START_DATES))
def demo(request: pytest.FixtureRequest) -> Iterator[Demo]:
    port = free_port_pair()  # the host app and coinslot
    running = Demo.start(catalog="patch_hive", port=port, stripesim_port=free_port(),
                         start_at=START_DATES[request.param])
    yield running
    running.stop()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def pay(page: Page) -> None:
    page.locator("form").first.locator("button[type=submit]").click()


def test_a_newcomer_clicks_through_the_demo(demo: Demo, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        page.goto(demo.host_url)
        page.get_by_role("button", name="Ada Lovelace").click()
        expect(page.get_by_role("heading", name="Welcome")).to_be_visible()

        page.get_by_role("button", name="See plans").click()
        page.get_by_role("button", name="Subscribe to Core").click()
        expect(page).to_have_url(re.compile("^" + re.escape(demo.stripesim_url)))
        pay(page)
        expect(page.get_by_role("status")).to_contain_text("Your subscription is active")
        page.get_by_role("link", name="Back to the app").click()

        export = page.get_by_role("button", name="PatchBook export (3 credits)")
        for _ in range(8):  # 25 credits: eight exports leave 1
            export.click()
        expect(page.get_by_role("status")).to_contain_text("1 credit left")
        export.click()
        refused = "Refused (402): insufficient credits: need 3, have 1"
        expect(page.get_by_role("status")).to_contain_text(refused)
        shot(page, "demo-host-app-402")

        page.get_by_role("button", name="Buy credits").click()
        page.get_by_role("button", name="Buy credits").click()  # the minimum, 25 credits for $5.00
        pay(page)
        expect(page.get_by_role("status")).to_contain_text("Your credits were added")
        expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "26")
        # What was spent this period, from the ledger: bought credits do not hide it.
        expect(page.locator("[data-credits-used]")).to_have_attribute("data-credits-used", "24")
        shot(page, "billing-after-buying-credits")

        page.get_by_role("button", name="Manage billing").click()
        expect(page).to_have_url(re.compile("^" + re.escape(demo.stripesim_url)))
        page.go_back()

        page.get_by_role("link", name="Back to the app").click()
        page.get_by_role("button", name=re.compile("Advance the test clock")).click()
        expect(page.get_by_role("status")).to_contain_text("past the next renewal")
        # Checked against the ledger: the renewal granted 25, the last period's 1 credit expired.
        expect(page.get_by_role("status")).to_contain_text(
            "Ada Lovelace: Core renewed (+25 credits, 1 expired), 50 credits now.")
        page.get_by_role("button", name="Billing").click()
        expect(page.locator("header .signed-in")).to_have_text("Signed in as Ada Lovelace")
        # The renewal's invoice.paid granted the new period's 25; the last period's 1 expired; the
        # 25 bought credits stay. Nothing is used yet in the new period.
        expect(page.locator("[data-credits-remaining]")).to_have_attribute("data-credits-remaining", "50")
        expect(page.locator("[data-credits-used]")).to_have_attribute("data-credits-used", "0")
        expect(page.locator("[data-credits-parts]")).to_have_text(
            "Left: 25 from your plan · 25 bought. Plan credits are spent first.")
        expect(page.get_by_role("row", name=re.compile(r"Paid"))).to_have_count(2)
        expect(page.get_by_role("row", name=re.compile(r"Draft"))).to_have_count(0)
        shot(page, "demo-billing-after-renewal")
    finally:
        context.close()
