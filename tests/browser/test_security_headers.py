"""The pages under their Content-Security-Policy, in Chromium: nothing the pages need is refused (the
fixture fails any test on a refusal), the credits meter and the usage chart still draw without inline
styles, and the API reference works under the policy its two routes get (and nothing more)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from coinslot.ledger import service as ledger
from coinslot.web.headers import PAGE_POLICY
from tests.browser.conftest import Web

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _refusals(page: Any) -> list[str]:
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if "Content Security Policy" in message.text else None)
    return found


def test_the_meter_and_the_usage_chart_draw_under_a_self_only_policy(web: Web) -> None:
    web.link("ines")
    customer_id = web.customer_id("ines")
    now = web.now()
    with web.stack.container.db.unit_of_work() as session:
        ledger.grant_period(session, customer_id=customer_id, entry_id="test:ines:period", credits=100,
                            period_start=now - dt.timedelta(days=1), period_end=now + dt.timedelta(days=29),
                            rollover_cap=0, unlimited=False, now=now, source="test")
        ledger.spend(session, customer_id=customer_id, entry_id="key:ines-1", credits=40, feature="export",
                     now=now)

    page = web.new_page()
    answer = page.goto(web.link("ines"))
    assert answer is not None
    assert answer.headers["content-security-policy"] == PAGE_POLICY
    assert answer.headers["cache-control"] == "no-store"
    meter = page.get_by_role("progressbar", name="Credits remaining")
    expect(meter).to_have_attribute("aria-valuenow", "60")
    bar = meter.locator("rect").bounding_box()
    track = meter.bounding_box()
    assert bar is not None
    assert track is not None
    assert bar["width"] == pytest.approx(track["width"] * 0.6, abs=2)  # drawn, at its share
    swatch = page.locator(".legend svg").first.bounding_box()
    assert swatch is not None
    assert swatch["width"] > 0
    web.shot(page, "billing-under-csp")


def test_the_api_reference_works_under_its_own_policy_and_loads_nothing_from_elsewhere(web: Web) -> None:
    page = web.new_page()
    swagger = page.goto(f"{web.url}/docs")
    assert swagger is not None
    policy = swagger.headers["content-security-policy"]
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+'; style-src 'self';", policy), policy
    operation = page.locator("#operations-catalog-listPlans")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    page.get_by_role("button", name="Authorize").first.click()
    expect(page.get_by_text("Available authorizations")).to_be_visible()

    # ReDoc's footer links its maker's logo on a CDN: that one refusal is the policy working.
    redoc_page = web.browser.new_page()
    refused = _refusals(redoc_page)
    redoc = redoc_page.goto(f"{web.url}/redoc")
    assert redoc is not None
    assert "worker-src blob:" in redoc.headers["content-security-policy"]
    expect(redoc_page.get_by_role("heading", name="What is sold").first).to_be_visible()
    redoc_page.wait_for_timeout(500)
    redoc_page.close()
    assert all("https://cdn.redoc.ly/" in text for text in refused), refused
