"""The operator's console: login, figures, a dead letter replayed, a credits adjustment with its reason."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Web
from tests.browser.test_checkout_stories import subscribe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ADMIN_PASSWORD = "admin-e2e"  # tests/support/stack.py


def admin_login(web: Web, *, width: int = 1200) -> Page:
    page = web.new_page(width=width)
    page.goto(web.url + "/admin")
    expect(page).to_have_url(web.url + "/admin/login")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That password is not right")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    return page


def test_an_operator_replays_a_dead_letter_once_the_cause_is_fixed(make_web: Callable[..., Web]) -> None:
    web = make_web(webhook_max_attempts=1)
    customer = web.open_as("maya")
    subscribe(web, customer, "Pro")

    # Stripe answers 500 to every read while the worker handles the events: with one attempt
    # allowed, those that must re-read Stripe are dead-lettered (and raise an alert).
    sim = httpx.Client(base_url=web.stack.sim_server.url)
    sim.post("/_sim/faults", json={"api": [{"status": 500, "method": "GET", "path_prefix": "/v1/"}]})
    web.stack.settle()
    sim.delete("/_sim/faults")

    admin = admin_login(web)
    expect(admin.get_by_role("alert")).to_contain_text("dead letter")
    expect(admin.locator("[data-mrr=usd]")).to_have_text("$14.99")
    web.shot(admin, "admin-overview")

    admin.get_by_role("link", name="Dead letters").click()
    dead = admin.get_by_role("row", name=re.compile("customer.subscription.created"))
    expect(dead.get_by_text("dead", exact=True)).to_be_visible()
    web.shot(admin, "admin-dead-letters")
    dead.get_by_role("link").first.click()
    expect(admin.get_by_role("heading", name="Last error")).to_be_visible()
    expect(admin.get_by_text("Traceback", exact=True)).to_be_visible()
    web.shot(admin, "admin-event")

    admin.get_by_role("button", name="Replay this event").click()
    expect(admin.get_by_role("status")).to_contain_text("Replay queued")
    expect(admin.locator("[data-event-status]")).to_have_attribute("data-event-status", "received")
    web.stack.settle()
    admin.reload()
    expect(admin.locator("[data-event-status]")).to_have_attribute("data-event-status", "processed")

    admin.get_by_role("link", name="Audit", exact=True).click()
    expect(admin.get_by_role("row", name=re.compile("replay_event"))).to_be_visible()
    expect(admin.get_by_role("row", name=re.compile("login_failed"))).to_be_visible()


def test_an_operator_adjusts_credits_with_a_reason(web: Web) -> None:
    web.link("maya", email="maya@example.com")
    admin = admin_login(web)
    admin.get_by_role("link", name="Customers").click()
    admin.get_by_label("Search").fill("maya@")
    admin.get_by_role("button", name="Search").click()
    admin.get_by_role("link", name="maya").click()

    admin.get_by_label("Credits (negative to remove)").fill("12")
    admin.get_by_label("Reason (required, kept on the entry)").fill("goodwill after outage #12")
    admin.get_by_role("button", name="Adjust").click()
    expect(admin.get_by_role("status")).to_contain_text("Credits adjusted")
    expect(admin.locator("[data-available]")).to_have_attribute("data-available", "12")
    expect(admin.get_by_role("row", name=re.compile("goodwill after outage #12"))).to_be_visible()
    web.shot(admin, "admin-customer")

    # A missing reason is refused; the same form sent twice (one-time id) adjusts once.
    token = admin.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    action = admin.url.split("?")[0] + "/credits"
    refused = admin.request.post(action, form={"csrf_token": token, "credits": "5", "reason": " ",
                                               "adjustment_id": "x1"})
    assert refused.status == 422
    assert "needs a reason" in refused.text()
    for _ in range(2):
        admin.request.post(action, form={"csrf_token": token, "credits": "5", "reason": "double click",
                                         "adjustment_id": "x2"})
    admin.reload()
    expect(admin.locator("[data-available]")).to_have_attribute("data-available", "17")


def test_an_operator_acknowledges_an_alert_and_replays_a_dead_webhook_to_the_host(web: Web) -> None:
    from coinslot.alerts import service as alerts
    from coinslot.outbound import service as outbound

    with web.stack.container.db.unit_of_work() as session:
        message = outbound.enqueue(session, event_type="credits.low", payload={"host_user_id": "maya"},
                                   now=web.now())
        message.status, message.attempts, message.last_status_code = "dead", 14, 503
        session.flush()
        webhook_id = message.webhook_id
        alerts.record(session, code="outbound.dead", message=f"webhook {webhook_id} is dead",
                      now=web.now(), subject_type="outbox_message", subject_id=webhook_id)

    admin = admin_login(web)
    alerts_link = admin.get_by_role("link", name=re.compile(r"^Alerts"))
    expect(alerts_link).to_contain_text("1")
    alerts_link.click()
    admin.get_by_role("button", name=re.compile("Acknowledge alert")).click()
    expect(admin.get_by_role("status")).to_contain_text("Alert acknowledged")
    expect(admin.locator("[data-nav-count]")).to_have_count(0)
    web.shot(admin, "admin-alerts")

    admin.get_by_role("link", name="Outbound", exact=True).click()
    row = admin.get_by_role("row", name=re.compile(webhook_id))
    expect(row.get_by_text("dead", exact=True)).to_be_visible()
    web.shot(admin, "admin-outbound")
    row.get_by_role("link", name=webhook_id).click()
    expect(admin.get_by_role("heading", name="Payload")).to_be_visible()
    admin.get_by_role("button", name="Replay this webhook").click()
    expect(admin.get_by_role("status")).to_contain_text("Replay queued")
    expect(admin.locator("[data-message-status]")).to_have_attribute("data-message-status", "pending")
    admin.get_by_role("link", name="Audit", exact=True).click()
    expect(admin.get_by_role("row", name=re.compile("acknowledge_alert"))).to_be_visible()
    expect(admin.get_by_role("row", name=re.compile("replay_outbound"))).to_be_visible()


# Words split across lines inside a table cell, and the header wrapping to two lines, are what a person
# sees on a laptop screen: measured in the page, not assumed from the CSS.
BROKEN_WORDS = """() => [...document.querySelectorAll('td')].filter(cell => {
    const words = cell.innerText.trim().split(/\\s+/).filter(word => word.length > 0);
    return words.some(word => {
        const range = document.createRange();
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.textContent.indexOf(word);
            if (at >= 0) {
                range.setStart(node, at);
                range.setEnd(node, at + word.length);
                const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.top)));
                return lines.size > 1;
            }
        }
        return false;
    });
}).map(cell => cell.innerText)"""


def test_at_1280_pixels_the_console_header_is_one_line_and_no_word_breaks_in_a_table(web: Web) -> None:
    customer = web.open_as("maya")
    subscribe(web, customer, "Pro")
    web.stack.settle()
    admin = admin_login(web, width=1280)
    web.shot(admin, "admin-overview-1280")
    header = admin.locator("body > header > div")
    link = admin.get_by_role("link", name="Overview")
    assert header.bounding_box()["height"] < 2.2 * link.bounding_box()["height"]  # one line of links
    # Revenue retention: Maya's month, its chart drawn inline (no script), the table inside the page.
    expect(admin.get_by_role("img", name="MRR gained and lost per month, USD")).to_be_visible()
    expect(admin.locator("table[data-retention=usd] tbody tr")).to_have_count(1)
    expect(admin.locator("table[data-retention=usd] tbody tr td").nth(1)).to_have_text("$14.99")  # new
    assert admin.evaluate(BROKEN_WORDS) == []
    for path in ("/admin/events", "/admin/customers", "/admin/outbound", "/admin/audit"):
        admin.goto(web.url + path)
        assert admin.evaluate(BROKEN_WORDS) == [], path
        assert admin.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    web.shot(admin, "admin-events-1280")
