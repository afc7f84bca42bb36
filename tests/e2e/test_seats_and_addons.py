"""Seats and add-ons on stripesim with test clocks: a team buys 5 seats, adds 2 and is prorated;
QuantiPackAI's extra-tokens add-on renews with the plan; each paid invoice grants the plan's credits x seats
plus each add-on's, once, whichever way the invoice arrives.

Every story runs from several start dates (tests/support/dates.py): the changes happen mid-period, so the
prorations are real fractions of a month, and the renewals cross month ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from tests.e2e.billing import deliver, ledger, mirror, push_catalog, stripe_events
from tests.e2e.billing_user import User, assert_ledger_exact, credits
from tests.support.dates import START_DATES, start_dates
from tests.support.stack import Stack

TEAMS = Path(__file__).parent / "catalogs" / "teams.toml"
SEAT_CENTS = 1000  # Team: $10.00 a seat a month, 20 credits a seat
SEAT_CREDITS = 20


@pytest.fixture
def teams(database_url: str) -> Iterator[Stack]:
    """The stack, selling Teamboard's catalog (a per-seat plan, a pooled one, an add-on)."""
    running = Stack.start(database_url, catalog=TEAMS)
    yield running
    running.stop()


@pytest.fixture
def quantipack(database_url: str) -> Iterator[Stack]:
    """The stack, selling QuantiPackAI's catalog (its extra-tokens and PDP analyzer add-ons)."""
    running = Stack.start(database_url, catalog="quantipackai")
    yield running
    running.stop()


def push(stack: Stack, path: Path) -> None:
    """`coinslot catalog push` of a catalog file."""
    gateway = stack.container.gateway
    catalog_flows.apply_push(gateway, catalog_flows.plan_push(gateway, load_catalog(path)))
    stack.sim.dispatcher.flush()


def prorated(amount_minor: int, *, at: int, start: int, end: int) -> int:
    """`amount_minor` for the part of the period [start, end) left at `at`, to the nearest cent (half up)."""
    return (amount_minor * (end - at) * 2 + (end - start)) // (2 * (end - start))


def post(stack: Stack, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    answer = stack.api.post(path, json=body)
    assert answer.status_code == status, answer.text
    found: dict[str, Any] = answer.json()
    return found


def stripe_items(stack: Stack, subscription_id: str) -> list[tuple[str | None, int]]:
    """(lookup key, quantity) of each licensed item of the subscription at Stripe (a metered item, the plan's
    overage, has no quantity: its usage bills it)."""
    items = stack.stripe.v1.subscriptions.retrieve(subscription_id)["items"].data
    return [(item.price.lookup_key, item.quantity) for item in items
            if item.price.recurring.usage_type != "metered"]


def invoices(stack: Stack, subscription_id: str) -> list[tuple[str, int]]:
    """(billing reason, amount paid) of the subscription's invoices, oldest first."""
    found = stack.stripe.v1.invoices.list(params={"subscription": subscription_id, "limit": 100}).data
    return [(invoice.billing_reason or "", invoice.amount_paid) for invoice in reversed(found)]


def period(stack: Stack, subscription_id: str) -> tuple[int, int]:
    item = stack.stripe.v1.subscriptions.retrieve(subscription_id)["items"].data[0]
    return item.current_period_start, item.current_period_end


def grants(stack: Stack, user: str) -> list[tuple[str, int]]:
    return [(entry_id, delta) for entry_id, kind, delta in ledger(stack, user) if kind == "grant"]


def redeliver_invoice_paid(stack: Stack, invoice_id: str) -> None:
    """Stripe delivers the invoice's invoice.paid once more (a duplicate): it must change nothing."""
    [event] = [event for event in stripe_events(stack, "invoice.paid")
               if event["data"]["object"]["id"] == invoice_id]
    event = {**event, "id": event["id"] + "_again"}  # a new delivery id: only the invoice is the same
    assert deliver(stack, event).status_code == 200
    stack.settle()


def team_of_five(stack: Stack, start_at: dt.datetime) -> tuple[User, str]:
    push(stack, TEAMS)
    user = User.on_test_clock(stack, "acme", start_at)
    started = user.start_checkout(plan="team", quantity=5)
    assert started.status_code == 201, started.text
    assert started.json()["amount_total_minor"] == 5 * SEAT_CENTS
    user.pay(started.json()["session_id"])
    session = stack.stripe.v1.checkout.sessions.retrieve(started.json()["session_id"])
    return user, str(session.subscription)


@start_dates()
def test_a_team_buys_5_seats_adds_2_and_is_prorated(database_url: str, start_at: dt.datetime) -> None:
    stack = Stack.start(database_url, catalog=TEAMS)
    try:
        acme, sub_id = team_of_five(stack, start_at)
        assert stripe_items(stack, sub_id) == [("coinslot:plan:team:month", 5)]
        assert invoices(stack, sub_id) == [("subscription_create", 5 * SEAT_CENTS)]
        assert acme.credits() == credits(5 * SEAT_CREDITS, period=5 * SEAT_CREDITS)
        assert acme.check("report")["seats"] == 5
        assert acme.consume("report", "r-1").status_code == 200

        acme.advance(days=11)  # mid-period: the two seats are charged for what is left of it
        at = int(stack.clock.now().timestamp())
        start, end = period(stack, sub_id)
        preview = post(stack, "/v1/customers/acme/subscription/seats/preview", {"seats": 7})
        expected = prorated(7 * SEAT_CENTS, at=at, start=start, end=end) - prorated(
            5 * SEAT_CENTS, at=at, start=start, end=end)
        assert 0 < preview["amount_due_minor"] == expected < 2 * SEAT_CENTS
        changed = post(stack, "/v1/customers/acme/subscription/seats",
                       {"seats": 7, "proration_date": preview["proration_date"]})
        stack.settle()

        assert (changed["seats"], changed["plan_key"]) == (7, "team")
        assert stripe_items(stack, sub_id) == [("coinslot:plan:team:month", 7)]
        assert invoices(stack, sub_id) == [("subscription_create", 5 * SEAT_CENTS),
                                           ("subscription_update", expected)]
        # The period is topped up to 7 seats' credits: +40, once, on the proration invoice.
        update_invoice = acme.latest_invoice(sub_id)
        assert grants(stack, "acme")[-1] == (f"invoice:{update_invoice}", 2 * SEAT_CREDITS)
        assert acme.credits() == credits(7 * SEAT_CREDITS - 1, period=7 * SEAT_CREDITS)
        redeliver_invoice_paid(stack, update_invoice)
        assert acme.credits() == credits(7 * SEAT_CREDITS - 1, period=7 * SEAT_CREDITS)

        renewal = acme.renew(sub_id)
        assert invoices(stack, sub_id)[-1] == ("subscription_cycle", 7 * SEAT_CENTS)
        assert grants(stack, "acme")[-1] == (f"invoice:{renewal}", 7 * SEAT_CREDITS)
        assert acme.credits() == credits(7 * SEAT_CREDITS, period=7 * SEAT_CREDITS)
        row = mirror(stack, sub_id)
        assert row is not None
        assert (row.quantity, row.period_amount_minor) == (7, 7 * SEAT_CENTS)
        assert_ledger_exact(stack)
    finally:
        stack.stop()


def test_fewer_seats_are_credited_and_cap_the_period(teams: Stack) -> None:
    stack = teams
    acme, sub_id = team_of_five(stack, START_DATES["mid-month"])
    acme.advance(days=10)

    changed = post(stack, "/v1/customers/acme/subscription/seats", {"seats": 3})
    stack.settle()

    assert changed["seats"] == 3
    assert stripe_items(stack, sub_id) == [("coinslot:plan:team:month", 3)]
    assert invoices(stack, sub_id)[-1][0] == "subscription_update"
    balance = stack.stripe.v1.customers.retrieve(acme.stripe_customer_id).balance
    assert balance < 0  # the two seats' unused time, credited to the customer at Stripe
    assert acme.credits() == credits(3 * SEAT_CREDITS, period=3 * SEAT_CREDITS)
    assert_ledger_exact(stack)


def test_seat_changes_refused_change_nothing(teams: Stack) -> None:
    stack = teams
    acme, sub_id = team_of_five(stack, START_DATES["mid-month"])

    too_few = stack.api.post("/v1/customers/acme/subscription/seats", json={"seats": 1})
    too_many = stack.api.post("/v1/customers/acme/subscription/seats/preview", json={"seats": 51})
    same = stack.api.post("/v1/customers/acme/subscription/seats", json={"seats": 5})
    not_a_number = stack.api.post("/v1/customers/acme/subscription/seats", json={"seats": "7"})
    nobody = stack.api.post("/v1/customers/nobody/subscription/seats", json={"seats": 7})

    assert (too_few.status_code, too_few.json()["error"]["field"]) == (422, "seats")
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (422, "seats_out_of_bounds")
    assert (same.status_code, same.json()["error"]["code"]) == (409, "same_seats")
    assert not_a_number.status_code == 422
    assert (nobody.status_code, nobody.json()["error"]["code"]) == (404, "no_subscription")
    assert stripe_items(stack, sub_id) == [("coinslot:plan:team:month", 5)]
    assert invoices(stack, sub_id) == [("subscription_create", 5 * SEAT_CENTS)]
    assert acme.credits() == credits(5 * SEAT_CREDITS, period=5 * SEAT_CREDITS)


def test_a_pooled_plan_grants_its_credits_whatever_the_seats(teams: Stack) -> None:
    stack = teams
    push(stack, TEAMS)
    agency = User.on_test_clock(stack, "agency", START_DATES["mid-month"])
    started = agency.start_checkout(plan="agency", quantity=4)
    assert started.status_code == 201, started.text
    agency.pay(started.json()["session_id"])
    assert agency.credits() == credits(500, period=500)

    post(stack, "/v1/customers/agency/subscription/seats", {"seats": 6})
    stack.settle()

    assert agency.credits() == credits(500, period=500)
    assert agency.check("audit")["seats"] == 6


@start_dates()
def test_quantipackais_extra_tokens_addon_renews_with_the_plan(database_url: str,
                                                               start_at: dt.datetime) -> None:
    stack = Stack.start(database_url, catalog="quantipackai")
    try:
        push_catalog(stack, "quantipackai")
        ada = User.on_test_clock(stack, "ada", start_at)
        sub_id = ada.subscribe("starter")
        assert ada.credits() == credits(50, period=50)

        ada.advance(days=9)
        at = int(stack.clock.now().timestamp())
        start, end = period(stack, sub_id)
        preview = post(stack, "/v1/customers/ada/subscription/addons/preview", {"addon": "extra_tokens"})
        assert preview["amount_due_minor"] == prorated(2900, at=at, start=start, end=end)
        added = post(stack, "/v1/customers/ada/subscription/addons",
                     {"addon": "extra_tokens", "proration_date": preview["proration_date"]})
        stack.settle()

        assert added["addons"] == ["extra_tokens"]
        assert stripe_items(stack, sub_id) == [("coinslot:plan:starter:month", 1),
                                               ("coinslot:addon:extra_tokens:month", 1)]
        assert invoices(stack, sub_id) == [("subscription_create", 3900),
                                           ("subscription_update", preview["amount_due_minor"])]
        assert ada.credits() == credits(150, period=150)  # the add-on's 100 tokens, granted at once

        renewal = ada.renew(sub_id)

        # One invoice renews both, and grants both, once: 50 + 100.
        assert invoices(stack, sub_id)[-1] == ("subscription_cycle", 3900 + 2900)
        assert grants(stack, "ada")[-1] == (f"invoice:{renewal}", 150)
        assert ada.credits() == credits(150, period=150)
        redeliver_invoice_paid(stack, renewal)
        assert grants(stack, "ada")[-1] == (f"invoice:{renewal}", 150)
        assert ada.credits() == credits(150, period=150)
        assert_ledger_exact(stack)
    finally:
        stack.stop()


def test_an_addon_feature_unlocks_with_the_addon_and_locks_when_it_is_removed(quantipack: Stack) -> None:
    stack = quantipack
    push_catalog(stack, "quantipackai")
    bob = User.on_test_clock(stack, "bob")
    sub_id = bob.subscribe("starter")
    assert bob.check("pdp_analyzer")["reason"] == "feature_not_in_plan"

    post(stack, "/v1/customers/bob/subscription/addons", {"addon": "pdp_analyzer"})
    stack.settle()
    assert bob.check("pdp_analyzer")["allowed"] is True
    assert bob.consume("pdp_analyzer", "pdp-1").status_code == 200

    bob.advance(days=5)
    removed = stack.api.delete("/v1/customers/bob/subscription/addons/pdp_analyzer")
    stack.settle()

    assert removed.status_code == 200, removed.text
    assert removed.json()["addons"] == []
    assert stripe_items(stack, sub_id) == [("coinslot:plan:starter:month", 1)]
    assert bob.check("pdp_analyzer")["reason"] == "feature_not_in_plan"
    assert bob.consume("pdp_analyzer", "pdp-2").status_code == 402
    assert_ledger_exact(stack)


def test_removing_the_extra_tokens_caps_the_period_to_the_plan(quantipack: Stack) -> None:
    stack = quantipack
    push_catalog(stack, "quantipackai")
    cy = User.on_test_clock(stack, "cy")
    cy.subscribe("starter")
    post(stack, "/v1/customers/cy/subscription/addons", {"addon": "extra_tokens"})
    stack.settle()
    assert cy.credits() == credits(150, period=150)

    removed = stack.api.delete("/v1/customers/cy/subscription/addons/extra_tokens")
    stack.settle()

    assert removed.status_code == 200, removed.text
    assert cy.credits() == credits(50, period=50)
    assert_ledger_exact(stack)


def test_addon_requests_refused_change_nothing(quantipack: Stack) -> None:
    stack = quantipack
    push_catalog(stack, "quantipackai")
    dee = User.on_test_clock(stack, "dee")
    sub_id = dee.subscribe("professional")  # a trial: Professional has 7 days free

    unknown = stack.api.post("/v1/customers/dee/subscription/addons", json={"addon": "exprot"})
    not_for_plan = stack.api.post("/v1/customers/dee/subscription/addons", json={"addon": "pdp_analyzer"})
    not_added = stack.api.delete("/v1/customers/dee/subscription/addons/extra_tokens")
    seats = stack.api.post("/v1/customers/dee/subscription/seats", json={"seats": 3})
    at_checkout = dee.start_checkout(lookup_key="coinslot:addon:extra_tokens:month")

    assert (unknown.status_code, unknown.json()["error"]["field"]) == (404, "addon")
    assert (not_for_plan.status_code, not_for_plan.json()["error"]["code"]) == (409, "addon_not_for_plan")
    assert (not_added.status_code, not_added.json()["error"]["code"]) == (409, "addon_not_added")
    assert (seats.status_code, seats.json()["error"]["code"]) == (409, "not_per_seat")
    assert (at_checkout.status_code, at_checkout.json()["error"]["field"]) == (422, "lookup_key")
    assert stripe_items(stack, sub_id) == [("coinslot:plan:professional:month", 1)]


def test_a_yearly_team_gets_its_seats_and_addon_credits_every_month(teams: Stack) -> None:
    stack = teams
    push(stack, TEAMS)
    yearly = User.on_test_clock(stack, "yearly", START_DATES["31-january"])
    started = yearly.start_checkout(plan="team", interval="year", quantity=3)
    assert started.status_code == 201, started.text
    assert started.json()["amount_total_minor"] == 3 * 10_000
    yearly.pay(started.json()["session_id"])
    post(stack, "/v1/customers/yearly/subscription/addons", {"addon": "audit_log"})
    stack.settle()
    month = 3 * SEAT_CREDITS + 10  # three seats' credits and the add-on's, each month
    assert yearly.credits() == credits(month, period=month)

    yearly.advance(days=31)  # 3 March: the year's second month (from 28 February)

    assert yearly.check("report")["remaining"] == month - 1  # counted before any write
    assert yearly.consume("report", "march-1").status_code == 200
    assert yearly.credits() == credits(month - 1, period=month)
    assert [entry for entry, _ in grants(stack, "yearly")][-1].endswith(":m2")
    assert yearly.check("audit")["allowed"] is True
    assert_ledger_exact(stack)
