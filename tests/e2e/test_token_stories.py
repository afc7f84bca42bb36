"""QuantiPackAI's tokens, end to end: coinslot's REST API, stripesim with test clocks, real webhooks.

Starter grants 50 tokens a month; an analysis costs 5, 10 or 15 tokens scaled
by complexity (low x0.7, high x1.5, rounded up); the month's tokens reset at
renewal while purchased tokens are kept; usage history per feature and month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from coinslot.ledger.core import add_months
from tests.e2e.billing_user import User, assert_ledger_exact, credits, push_catalog
from tests.support.dates import start_dates
from tests.support.stack import Stack


@pytest.fixture
def quantipack(database_url: str) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog="quantipackai")
    push_catalog(running, "quantipackai")
    yield running
    running.stop()


def test_analyses_cost_tokens_scaled_by_complexity_and_rounded_up(quantipack: Stack) -> None:
    ines = User.on_test_clock(quantipack, "ines")
    ines.subscribe("starter")
    assert ines.credits()["available_credits"] == 50
    assert ines.check("suite_analyzer", complexity="high") == {
        "allowed": True,
        "cost": 8,
        "remaining": 42,
        "reason": "ok",
        "plan": "starter",
        "overage": None,
    }  # 5 x 1.5 = 7.5: checking spends nothing
    costs = []
    for feature, complexity, key in [
        ("spec_generator", "high", "spec-1"),  # 10 x 1.5 = 15
        ("suite_analyzer", "high", "suite-1"),  # 7.5 -> 8
        ("suite_analyzer", "low", "suite-2"),  # 3.5 -> 4
        ("spec_generator", "medium", "spec-2"),  # 10
        ("spec_generator", "low", "spec-3"),  # 7
    ]:
        used = ines.consume(feature, key, complexity=complexity)
        assert used.status_code == 200, used.text
        costs.append((used.json()["entry_id"], used.json()["cost"], used.json()["remaining"]))
    assert costs == [
        (ines.key("spec-1"), 15, 35),
        (ines.key("suite-1"), 8, 27),
        (ines.key("suite-2"), 4, 23),
        (ines.key("spec-2"), 10, 13),
        (ines.key("spec-3"), 7, 6),
    ]
    unknown = ines.consume("suite_analyzer", "suite-3", complexity="extreme")
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "params.complexity")
    not_in_starter = ines.consume("pdp_analyzer", "pdp-1")
    assert (not_in_starter.status_code, not_in_starter.json()["error"]["code"]) == (
        402,
        "feature_not_in_plan",
    )
    # Short of tokens, Starter's overage takes the rest (tests/e2e/test_overage_stories.py): the check
    # says what it would cost, and checking spends nothing.
    short = ines.check("spec_generator")
    assert (short["allowed"], short["reason"], short["overage"]["credits"]) == (True, "overage", 4)
    assert ines.credits()["available_credits"] == 6
    assert_ledger_exact(quantipack)


@start_dates()
def test_tokens_reset_at_renewal_purchased_tokens_are_kept_and_history_shows_each_month(
    quantipack: Stack, start_at: dt.datetime
) -> None:
    ines = User.on_test_clock(quantipack, "ines", start_at)
    subscription = ines.subscribe("starter")
    first_invoice = ines.latest_invoice(subscription)
    november = quantipack.clock.now().strftime("%Y-%m")
    for feature, complexity, key in [
        ("spec_generator", "high", "spec-1"),
        ("suite_analyzer", "high", "suite-1"),
        ("suite_analyzer", "low", "suite-2"),
        ("spec_generator", "medium", "spec-2"),
    ]:
        assert ines.consume(feature, key, complexity=complexity).status_code == 200
    assert ines.credits()["available_credits"] == 13
    pack = ines.buy("tokens_25")  # $20, 25 tokens that last a year
    assert ines.credits()["available_credits"] == 38

    renewal = ines.renew(subscription)
    december = quantipack.clock.now().strftime("%Y-%m")
    # The month's 13 unused tokens expire; 50 new ones; the 25 bought are kept.
    assert ines.credits() == credits(75, period=50)
    assert ines.consume("spec_generator", "spec-3", complexity="low").json()["remaining"] == 68
    assert ines.entries()[-4:] == [
        (f"checkout:{pack}", "purchase", 25, 38),
        (f"lot:{ines.lot_of(f'invoice:{first_invoice}')}:expired", "expire", -13, 25),
        (f"invoice:{renewal}", "grant", 50, 75),
        (ines.key("spec-3"), "spend", -7, 68),
    ]
    # Three calendar months back: a period that starts on 31 March renews on 1 May.
    assert ines.history(months=3) == [
        {"month": december, "feature": "spec_generator", "uses": 1, "credits": 7},
        {"month": november, "feature": "spec_generator", "uses": 2, "credits": 25},
        {"month": november, "feature": "suite_analyzer", "uses": 2, "credits": 12},
    ]
    assert ines.history(months=1) == [
        {"month": december, "feature": "spec_generator", "uses": 1, "credits": 7}
    ]
    assert_ledger_exact(quantipack)


@start_dates()
def test_a_yearly_starter_subscriber_gets_50_tokens_in_month_1_and_again_in_months_2_and_3(
    quantipack: Stack, start_at: dt.datetime
) -> None:
    ines = User.on_test_clock(quantipack, "ines", start_at)
    subscription = ines.subscribe("starter", interval="year")
    year_invoice = ines.latest_invoice(subscription)
    item = quantipack.stripe.v1.subscriptions.retrieve(subscription)["items"].data[0]
    assert item.price.recurring.interval == "year"
    year_start = dt.datetime.fromtimestamp(item.current_period_start, dt.UTC)
    # Month 1: the paid year's invoice grants 50 (credits_per_period is a monthly allowance).
    assert ines.credits() == credits(50, period=50)
    assert ines.consume("spec_generator", "y-1", complexity="high").json()["remaining"] == 35  # 15
    assert ines.consume("suite_analyzer", "y-2").json()["remaining"] == 30  # 5

    # Month 2: nothing is written until the first use; check already counts the month's 50.
    quantipack.advance_clock(ines.test_clock_id, to=add_months(year_start, 1) + dt.timedelta(days=2))
    quantipack.settle()
    assert ines.latest_invoice(subscription) == year_invoice  # a year: no monthly invoice
    written = len(ines.entries())
    assert ines.check("spec_generator") == {
        "allowed": True,
        "cost": 10,
        "remaining": 40,  # month 1's 30 expired (no rollover on Starter); month 2's 50 - 10
        "reason": "ok",
        "plan": "starter",
        "overage": None,
    }
    assert len(ines.entries()) == written  # checking wrote nothing
    used = ines.consume("spec_generator", "y-3")
    assert (used.status_code, used.json()["remaining"]) == (200, 40)
    assert ines.consume("suite_analyzer", "y-4", complexity="low").json()["remaining"] == 36  # 4

    # Month 3 likewise: the month's 50, month 2's 36 expire.
    quantipack.advance_clock(ines.test_clock_id, to=add_months(year_start, 2) + dt.timedelta(days=2))
    quantipack.settle()
    assert ines.check("suite_analyzer", complexity="high")["remaining"] == 42  # 50 - 8
    assert ines.consume("suite_analyzer", "y-5", complexity="high").json()["remaining"] == 42
    assert ines.credits() == credits(42, period=50)

    lot_of_month_1 = ines.lot_of(f"invoice:{year_invoice}")
    lot_of_month_2 = ines.lot_of(f"invoice:{year_invoice}:m2")
    assert ines.entries() == [
        (f"invoice:{year_invoice}", "grant", 50, 50),
        (ines.key("y-1"), "spend", -15, 35),
        (ines.key("y-2"), "spend", -5, 30),
        (f"lot:{lot_of_month_1}:expired", "expire", -30, 0),
        (f"invoice:{year_invoice}:m2", "grant", 50, 50),
        (ines.key("y-3"), "spend", -10, 40),
        (ines.key("y-4"), "spend", -4, 36),
        (f"lot:{lot_of_month_2}:expired", "expire", -36, 0),
        (f"invoice:{year_invoice}:m3", "grant", 50, 50),
        (ines.key("y-5"), "spend", -8, 42),
    ]
    assert_ledger_exact(quantipack)
