"""Entitlement decisions: plan, access policy, per-period limits, balance, and multiplied costs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from coinslot.catalog.core import Feature, Plan
from coinslot.entitlements.core import Decision, cost_of, decide
from coinslot.errors import InvalidInput
from coinslot.subscriptions.core import PlanAccess

ANALYZER = Feature(
    "suite_analyzer",
    "Suite analyzer",
    credits=5,
    multiplier_param="complexity",
    multipliers={"low": Decimal("0.7"), "medium": Decimal(1), "high": Decimal("1.5")},
)
EXPORT = Feature("export", "Export", credits=3)
CORE = Plan("core", "Core", "subscription", rank=1, credits_per_period=25, features=frozenset({"export"}))
STUDIO = Plan("studio", "Studio", "subscription", rank=3, unlimited=True, features=frozenset({"export"}))
FREE = Plan("free", "Free", "free", rank=0, features=frozenset({"demo"}))
ACTIVE = PlanAccess("core", "active", "active")


def test_costs_are_scaled_by_complexity_and_rounded_up() -> None:
    assert cost_of(ANALYZER, quantity=1, params={"complexity": "high"}) == 8  # 7.5 -> 8
    assert cost_of(ANALYZER, quantity=1, params={"complexity": "low"}) == 4  # 3.5 -> 4
    assert cost_of(ANALYZER, quantity=1, params={}) == 5
    assert cost_of(ANALYZER, quantity=3, params={"complexity": "low"}) == 11  # 10.5 -> 11


def test_an_unknown_multiplier_value_is_a_422_naming_the_param() -> None:
    with pytest.raises(InvalidInput) as refused:
        cost_of(ANALYZER, quantity=1, params={"complexity": "extreme"})
    assert refused.value.field == "params.complexity"
    assert "high, low, medium" in refused.value.message


def test_an_export_on_core_costs_three_and_is_refused_when_short() -> None:
    assert decide(plan=CORE, feature=EXPORT, access=ACTIVE, available_credits=4) == Decision(
        True, 3, 1, "ok", "core"
    )
    refused = decide(plan=CORE, feature=EXPORT, access=ACTIVE, available_credits=1)
    assert (refused.allowed, refused.reason, refused.message) == (
        False,
        "insufficient_credits",
        "insufficient credits: need 3, have 1",
    )


def test_studio_is_unlimited() -> None:
    decision = decide(
        plan=STUDIO, feature=EXPORT, access=PlanAccess("studio", "active", "active"), available_credits=0
    )
    assert decision == Decision(True, 3, None, "unlimited", "studio")


def test_a_feature_outside_the_plan_is_refused_and_a_lapsed_subscription_says_so() -> None:
    assert (
        decide(
            plan=FREE,
            feature=EXPORT,
            access=PlanAccess("free", None, "no_subscription"),
            available_credits=100,
        ).reason
        == "feature_not_in_plan"
    )
    lapsed = PlanAccess("free", "past_due", "past_due_grace_over")
    assert (
        decide(plan=FREE, feature=EXPORT, access=lapsed, available_credits=100).reason
        == "past_due_grace_over"
    )
    assert decide(plan=None, feature=EXPORT, access=ACTIVE, available_credits=100).reason == "no_plan"


def test_a_per_period_limit_counts_uses() -> None:
    limited = Feature("report", "Report", credits=0, limit_per_period=2)
    plan = Plan("core", "Core", "subscription", rank=1, features=frozenset({"report"}))
    assert decide(plan=plan, feature=limited, access=ACTIVE, available_credits=0, uses_this_period=1).allowed
    assert (
        decide(plan=plan, feature=limited, access=ACTIVE, available_credits=0, uses_this_period=2).reason
        == "period_limit_reached"
    )
