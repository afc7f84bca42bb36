"""Patch-Hive's auto top-up, end to end: coinslot's REST API, stripesim with test clocks, real webhooks.

The catalog's terms: below 6 credits (fewer than two exports) a saved card buys 25 credits for $5.00,
at most twice and $10.00 per calendar month. A Core subscriber (25 credits a month) turns it on (consent,
then a card saved through a setup-mode Checkout), is topped up once however many exports race, hits the
cap and is refused after it, and is topped up again in the next month; a declined card, or one that needs
authentication, turns auto top-up off with a notice and an event for the host. `credits verify` is clean
after each story.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from coinslot.outbound import service as outbound
from coinslot.topups import flows as topup_flows
from tests.e2e.billing_user import URLS, User, assert_ledger_exact, push_catalog
from tests.support.dates import start_dates
from tests.support.stack import Stack

PACK_CREDITS, PACK_MINOR = 25, 500


@pytest.fixture
def patch_hive(stack: Stack) -> Stack:
    push_catalog(stack, "patch_hive")
    return stack


def auto_topup(user: User) -> dict[str, Any]:
    answer = user.stack.api.get(f"/v1/customers/{user.host_user_id}/auto_topup")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def turn_on(user: User, card: str = "pm_card_visa") -> dict[str, Any]:
    """The customer agrees to the terms, saves `card` on Stripe's setup page; the webhook turns it on."""
    started = user.stack.api.post(f"/v1/customers/{user.host_user_id}/auto_topup",
                                  json={"consent": True, **URLS})
    assert started.status_code == 201, started.text
    saved = httpx.post(f"{user.stack.sim_server.url}/_sim/checkout/sessions/{started.json()['session_id']}"
                       "/complete", json={"payment_method": card}, timeout=30)
    assert saved.status_code == 200, saved.text
    if saved.json()["status"] != "complete":  # the card asks for 3D Secure when it is set up: passed
        setup_intent = saved.json()["setup_intent"]
        sim_url = user.stack.sim_server.url
        authenticated = httpx.post(f"{sim_url}/_sim/setup_intents/{setup_intent}/authenticate",
                                   json={"outcome": "succeed"}, timeout=30)
        assert authenticated.status_code == 200, authenticated.text
    user.stack.settle()
    body: dict[str, Any] = started.json()
    return body


def billing_page(user: User) -> str:
    """The user's billing page, opened by a signed link as the host sends them there."""
    link = user.stack.api.post("/v1/links", json={"host_user_id": user.host_user_id})
    assert link.status_code == 200, link.text
    with httpx.Client(base_url=user.stack.url, follow_redirects=True, timeout=30) as browser:
        assert browser.get(link.json()["url"].removeprefix(user.stack.url)).status_code == 200
        page = browser.get("/billing")
        assert page.status_code == 200, page.text
        return page.text


def admin_page(stack: Stack) -> str:
    with httpx.Client(base_url=stack.url, follow_redirects=True, timeout=30) as browser:
        login = browser.get("/admin/login")
        token = re.search(r'name="csrf_token" value="([^"]*)"', login.text)
        assert token is not None
        signed_in = browser.post("/admin/login", data={"password": "admin-e2e", "csrf_token": token.group(1)})
        assert signed_in.status_code == 200, signed_in.text
        page = browser.get("/admin/auto_topup")
        assert page.status_code == 200, page.text
        return page.text


def charge_due_topups(stack: Stack) -> int:
    """What `coinslot worker` does beside the webhooks: charge pending top-ups, then their events apply."""
    charged = 0
    while (done := topup_flows.charge_due(stack.container)) > 0:
        charged += done
    stack.settle()
    return charged


def exports(user: User, keys: list[str]) -> list[int]:
    return [user.consume("export", key).status_code for key in keys]


def topup_payments(stack: Stack, user: User) -> list[tuple[int, str]]:
    listed = stack.stripe.v1.payment_intents.list(params={"customer": user.stripe_customer_id})
    return sorted((pi.amount, pi.status) for pi in listed.data if "coinslot_auto_topup" in pi.metadata)


def host_events(stack: Stack, event_type: str) -> list[dict[str, Any]]:
    with stack.container.db.unit_of_work(read_only=True) as session:
        return [json.loads(row.payload)
                for row in outbound.list_messages(session, event_type=event_type, limit=100)]


@start_dates()
def test_a_core_user_is_topped_up_once_under_16_concurrent_exports_hits_the_cap_and_is_refused_after_it(
    patch_hive: Stack, start_at: dt.datetime
) -> None:
    maya = User.on_test_clock(patch_hive, "maya", start_at)
    subscription = maya.subscribe("core")
    assert auto_topup(maya)["enabled"] is False  # off by default
    started = turn_on(maya)
    assert started["consent_text"] == (
        "I authorise Patch-Hive to charge my saved card $5.00 for 25 credits whenever my balance falls below "
        "6 credits, at most 2 times and $10.00 per calendar month, until I turn auto top-up off.")
    state = auto_topup(maya)
    assert (state["enabled"], state["month_count"]) == (True, 0)
    assert state["consent_text"] == started["consent_text"]

    # 16 exports at once on 25 credits: 8 pass, 8 are refused; the 7th left 4 (< 6): one top-up, not 16.
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda n: maya.consume("export", f"race-{n}").status_code, range(16)))
    assert sorted(statuses) == [200] * 8 + [402] * 8
    assert maya.credits()["available_credits"] == 1
    assert charge_due_topups(patch_hive) == 1
    assert maya.credits()["available_credits"] == 1 + PACK_CREDITS
    assert topup_payments(patch_hive, maya) == [(PACK_MINOR, "succeeded")]

    # Down under the threshold again: the second top-up of the month, the last the cap allows.
    assert exports(maya, [f"second-{n}" for n in range(7)]) == [200] * 7  # 26 -> 5
    assert charge_due_topups(patch_hive) == 1
    assert maya.credits()["available_credits"] == 5 + PACK_CREDITS
    assert exports(maya, [f"third-{n}" for n in range(10)]) == [200] * 10  # 30 -> 0, under 6 at the 9th
    assert charge_due_topups(patch_hive) == 0  # capped: 2 top-ups, $10.00 this month
    assert maya.consume("export", "refused").status_code == 402
    state = auto_topup(maya)
    assert (state["enabled"], state["month_count"], state["month_amount_minor"]) == (True, 2, 2 * PACK_MINOR)
    assert topup_payments(patch_hive, maya) == [(PACK_MINOR, "succeeded")] * 2
    paid = [entry for entry in maya.entries() if entry[0].startswith("auto_topup:")]
    assert [(kind, credits) for _id, kind, credits, _after in paid] == [("purchase", PACK_CREDITS)] * 2
    page = billing_page(maya)
    assert 'data-auto-topup="on"' in page
    assert 'data-auto-topup-month="2"' in page
    assert "The monthly cap is reached" in page
    succeeded = host_events(patch_hive, "auto_topup.succeeded")
    announced = sorted((event["host_user_id"], event["credits"], event["amount_minor"])
                       for event in succeeded)
    assert announced == [("maya", PACK_CREDITS, PACK_MINOR)] * 2
    assert all(event["email"]["subject"].startswith("Your credits were topped up") for event in succeeded)
    assert_ledger_exact(patch_hive)

    # The next calendar month (the renewal is in it): the cap starts again.
    maya.renew(subscription)
    assert auto_topup(maya)["month_count"] == 0
    assert exports(maya, [f"next-month-{n}" for n in range(7)]) == [200] * 7  # 25 -> 4
    assert charge_due_topups(patch_hive) == 1
    assert maya.credits()["available_credits"] == 4 + PACK_CREDITS
    assert auto_topup(maya)["month_count"] == 1
    assert topup_payments(patch_hive, maya) == [(PACK_MINOR, "succeeded")] * 3
    assert_ledger_exact(patch_hive)


@pytest.mark.parametrize(("card", "code"), [
    ("pm_card_chargeCustomerFail", "card_declined"),
    ("pm_card_authenticationRequired", "authentication_required"),
])
def test_a_declined_top_up_turns_auto_top_up_off_and_tells_the_host(
    patch_hive: Stack, card: str, code: str
) -> None:
    lea = User.on_test_clock(patch_hive, "lea")
    lea.subscribe("core")
    turn_on(lea, card)
    assert auto_topup(lea)["enabled"] is True
    assert exports(lea, [f"export-{n}" for n in range(7)]) == [200] * 7  # 25 -> 4
    assert charge_due_topups(patch_hive) == 1
    state = auto_topup(lea)
    assert (state["enabled"], state["notice_code"]) == (False, code)
    assert "auto top-up is now off" in state["notice"]
    assert lea.credits()["available_credits"] == 4  # nothing granted
    [failed] = host_events(patch_hive, "auto_topup.failed")
    assert (failed["host_user_id"], failed["failure_code"], failed["needs_authentication"]) == (
        "lea", code, code == "authentication_required")
    assert failed["email"]["subject"] == "Your automatic top-up did not go through"
    assert host_events(patch_hive, "auto_topup.succeeded") == []
    page = billing_page(lea)
    assert f'data-auto-topup-notice="{code}"' in page
    assert 'data-auto-topup="off"' in page
    assert ("data-auto-topup-authenticate" in page) == (code == "authentication_required")
    console = admin_page(patch_hive)
    assert 'data-failed-count="1"' in console
    assert 'data-topup-status="declined"' in console
    # Off: spending on under the threshold charges nothing more.
    assert exports(lea, ["after-1"]) == [200]
    assert charge_due_topups(patch_hive) == 0
    assert topup_payments(patch_hive, lea) == [(PACK_MINOR, "requires_payment_method")]
    assert_ledger_exact(patch_hive)


def test_on_the_billing_page_the_box_must_be_ticked_and_the_return_from_stripe_turns_it_on(
    patch_hive: Stack,
) -> None:
    ada = User.on_test_clock(patch_hive, "ada")
    ada.subscribe("core")
    link = patch_hive.api.post("/v1/links", json={"host_user_id": "ada"})
    with httpx.Client(base_url=patch_hive.url, timeout=30) as browser:
        browser.get(link.json()["url"].removeprefix(patch_hive.url), follow_redirects=True)
        page = browser.get("/billing").text
        assert 'data-auto-topup="off"' in page
        assert "I authorise Patch-Hive to charge my saved card $5.00 for 25 credits" in page
        token = re.search(r'name="csrf_token" value="([^"]*)"', page)
        assert token is not None
        unticked = browser.post("/billing/auto_topup", data={"csrf_token": token.group(1)})
        assert unticked.headers["location"].endswith("/billing?toast=auto_topup_consent")
        assert (auto_topup(ada)["setup_pending"], auto_topup(ada)["consented_at"]) == (False, None)

        ticked = browser.post("/billing/auto_topup", data={"csrf_token": token.group(1), "consent": "yes"})
        assert ticked.status_code == 303
        session_id = re.search(r"(cs_[A-Za-z0-9_]+)", ticked.headers["location"])
        assert session_id is not None
        assert auto_topup(ada)["setup_pending"] is True
        sim_url = patch_hive.sim_server.url
        saved = httpx.post(f"{sim_url}/_sim/checkout/sessions/{session_id.group(1)}/complete",
                           json={"payment_method": "pm_card_visa"}, timeout=30)
        assert saved.status_code == 200, saved.text
        back = browser.get(f"/billing/auto_topup/return?session_id={session_id.group(1)}")
        assert back.headers["location"].endswith("/billing?toast=auto_topup_on")
        assert 'data-auto-topup="on"' in browser.get("/billing").text  # before any webhook is applied
        patch_hive.settle()  # the webhook finds it done
        assert auto_topup(ada)["enabled"] is True
        off = browser.post("/billing/auto_topup/off", data={"csrf_token": token.group(1)})
        assert off.headers["location"].endswith("/billing?toast=auto_topup_off")
    assert auto_topup(ada)["enabled"] is False
    assert_ledger_exact(patch_hive)
