"""The catalog's seats and add-ons: how they are written (and refused, with file, line and field), what a
period grants, which item bills the plan, and what the check unlocks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coinslot.catalog.core import catalog_prices, checked_seats, monthly_allowance
from coinslot.catalog.parser import CatalogInvalid, load_catalog, parse_catalog
from coinslot.entitlements import core as entitlements
from coinslot.errors import InvalidInput
from coinslot.subscriptions.core import PlanAccess, addon_quantities, plan_item

REPO = Path(__file__).resolve().parents[2]
TEAMS = load_catalog(REPO / "tests" / "e2e" / "catalogs" / "teams.toml")
QUANTIPACK = load_catalog(REPO / "examples" / "catalogs" / "quantipackai.toml")

HEAD = """
[catalog]
default_plan = "free"
[features.report]
credits = 1
[plans.free]
type = "free"
"""


def problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(HEAD + text, source="catalog.toml")
    offset = HEAD.count("\n")
    return [(problem.line - offset, problem.field, problem.message) for problem in caught.value.problems]


def test_a_per_seat_plan_and_an_addon_are_read_with_their_prices() -> None:
    team = TEAMS.plans["team"]
    assert (team.per_seat, team.seat_credits, team.min_seats, team.max_seats) == (True, "per_seat", 2, 50)
    assert TEAMS.plans["agency"].seat_credits == "pooled"
    extra = QUANTIPACK.addons["extra_tokens"]
    assert (extra.credits_per_period, extra.plans) == (100, frozenset({"starter", "professional"}))
    assert extra.prices["month"].amount_minor == 2900
    keys = {price.lookup_key: price.product_key
            for price in catalog_prices(QUANTIPACK) if price.ref.kind == "addon"}
    assert keys == {"coinslot:addon:extra_tokens:month": "addon:extra_tokens",
                    "coinslot:addon:extra_tokens:year": "addon:extra_tokens",
                    "coinslot:addon:pdp_analyzer:month": "addon:pdp_analyzer",
                    "coinslot:addon:pdp_analyzer:year": "addon:pdp_analyzer"}
    assert QUANTIPACK.item_for_lookup_key("coinslot:addon:extra_tokens:year") is not None


def test_the_documented_seats_and_addons_examples_parse() -> None:
    doc = (REPO / "docs" / "catalog.md").read_text()
    blocks = [block.split("```", 1)[0] for block in doc.split("```toml\n")[1:]]
    seats = next(block for block in blocks if block.startswith("[plans.team]"))
    addons = next(block for block in blocks if block.startswith("[addons.extra_tokens]"))
    text = HEAD + '[plans.starter]\nprices = { monthly = "39.00" }\n[plans.professional]\n' \
                  'prices = { monthly = "99.00" }\n' + seats + addons
    catalog = parse_catalog(text)
    assert catalog.plans["team"].max_seats == 50
    assert catalog.addons["extra_tokens"].credits_per_period == 100


def test_seat_fields_without_per_seat_and_bad_bounds_are_named_with_their_line() -> None:
    found = problems("""
[plans.solo]
prices = { monthly = "5" }
min_seats = 2
[plans.team]
prices = { monthly = "10" }
per_seat = true
seat_credits = "shared"
min_seats = 5
max_seats = 3
""")
    assert found == [
        (4, "plans.solo.min_seats", "only for a plan with per_seat = true"),
        (8, "plans.team.seat_credits", '"shared" is not "per_seat" or "pooled"'),
        (10, "plans.team.max_seats", "3 is fewer than min_seats (5)"),
    ]


def test_per_seat_credits_are_bounded_by_the_largest_team() -> None:
    [(line, path, message)] = problems("""
[plans.team]
prices = { monthly = "10" }
per_seat = true
credits_per_period = 1000000000
""")
    assert (line, path) == (2, "plans.team.max_seats")  # not written: the plan's table
    assert "lower max_seats" in message


def test_an_addon_naming_unknown_plans_or_features_or_a_free_plan_is_refused() -> None:
    found = problems("""
[plans.pro]
prices = { monthly = "10" }
[addons.extra]
prices = { monthly = "2" }
plans = ["pro", "prro", "free"]
features = ["reprot"]
[addons.euro]
currency = "eur"
prices = { monthly = "2" }
[addons.priceless]
credits_per_period = 5
""")
    assert [(line, path) for line, path, _ in found] == [
        (6, "addons.extra.plans"), (6, "addons.extra.plans"), (7, "addons.extra.features"),
        (9, "addons.euro.currency"), (11, "addons.priceless.prices")]
    assert 'unknown plan "prro"' in found[0][2]
    assert "free plan" in found[1][2]
    assert "another currency" in found[3][2]


def test_a_period_grants_the_plan_times_the_seats_plus_each_addon() -> None:
    team, agency = TEAMS.plans["team"], TEAMS.plans["agency"]
    assert monthly_allowance(TEAMS, team, seats=5, addons={}) == (100, 0)
    assert monthly_allowance(TEAMS, team, seats=7, addons={"audit_log": 1}) == (150, 0)
    assert monthly_allowance(TEAMS, agency, seats=40, addons={}) == (500, 0)  # pooled
    assert monthly_allowance(TEAMS, team, seats=3, addons={"gone": 1}) == (60, 0)  # no longer declared
    starter = QUANTIPACK.plans["starter"]
    # Starter is not per seat: a quantity of 3 changes nothing.
    assert monthly_allowance(QUANTIPACK, starter, seats=3, addons={"extra_tokens": 1}) == (150, 0)


def test_checkout_and_the_seats_endpoint_keep_to_the_plans_bounds() -> None:
    assert checked_seats(TEAMS.plans["team"], 5) == 5
    with pytest.raises(InvalidInput) as too_few:
        checked_seats(TEAMS.plans["team"], 1, field="seats")
    assert (too_few.value.field, too_few.value.code) == ("seats", "seats_out_of_bounds")
    with pytest.raises(InvalidInput) as not_per_seat:
        checked_seats(QUANTIPACK.plans["starter"], 2)
    assert (not_per_seat.value.field, not_per_seat.value.code) == ("quantity", "not_per_seat")


@dataclass(frozen=True)
class Item:
    price_id: str
    price_lookup_key: str | None
    quantity: int = 1
    price_metadata: Mapping[str, str] = field(default_factory=dict)


def test_the_plan_item_is_the_one_whose_price_is_a_plan_wherever_it_sits() -> None:
    addon = Item("price_a", "coinslot:addon:extra_tokens:month")
    plan = Item("price_p", None, 1, {"coinslot_key": "plan:starter"})  # a repriced plan: metadata only
    assert plan_item(QUANTIPACK, [addon, plan]) is plan
    assert plan_item(QUANTIPACK, [addon]) is None
    assert addon_quantities(QUANTIPACK, [addon, plan]) == {"extra_tokens": 1}


def test_an_addon_feature_is_allowed_on_top_of_the_plans_features() -> None:
    starter, pdp = QUANTIPACK.plans["starter"], QUANTIPACK.features["pdp_analyzer"]
    access = PlanAccess("starter", "active", "active", 1)
    refused = entitlements.decide(plan=starter, feature=pdp, access=access, available_credits=50)
    allowed = entitlements.decide(plan=starter, feature=pdp, access=access, available_credits=50,
                                  addon_features=frozenset({"pdp_analyzer"}), seats=3)
    assert (refused.allowed, refused.reason) == (False, "feature_not_in_plan")
    assert (allowed.allowed, allowed.remaining, allowed.seats) == (True, 35, None)  # Starter is not per seat
    team_access = PlanAccess("team", "active", "active", 2)
    decision = entitlements.decide(plan=TEAMS.plans["team"], feature=TEAMS.features["report"],
                                   access=team_access, available_credits=100, seats=5)
    assert decision.seats == 5
