"""The catalog file: what operators write, and the errors they get back (file, line, field)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from coinslot.catalog.core import CatalogItemRef, catalog_prices
from coinslot.catalog.parser import CatalogInvalid, load_catalog, parse_catalog
from coinslot.catalog.service import check_mode

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalogs"

MINIMAL = """\
[catalog]
name = "Example"

[plans.free]
type = "free"
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(text, source="catalog.toml")
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize("name", ["skinova", "quantipackai", "dreamscan", "patch_hive"])
def test_every_example_customer_catalog_parses(name: str) -> None:
    catalog = load_catalog(EXAMPLES / f"{name}.toml")
    assert catalog.default.kind == "free"
    assert catalog_prices(catalog), "each example sells something"


def test_patch_hive_plans_credits_and_per_credit_pack() -> None:
    catalog = load_catalog(EXAMPLES / "patch_hive.toml")
    assert [plan.key for plan in catalog.plans.values()] == ["free", "core", "pro", "studio"]
    assert catalog.plans["core"].prices["month"].amount_minor == 499
    assert catalog.plans["core"].credits_per_period == 25
    assert catalog.plans["pro"].prices["month"].amount_minor == 1499
    assert catalog.plans["studio"].unlimited
    assert catalog.plans["studio"].prices["month"].amount_minor == 2999
    assert catalog.features["export"].credits == 3
    pack = catalog.packs["credits"]
    assert (pack.kind, pack.unit_amount_minor, pack.minimum_amount_minor) == ("per_credit", 20, 500)
    assert catalog.plans["studio"].rank > catalog.plans["pro"].rank > catalog.plans["core"].rank


def test_quantipackai_multipliers_are_exact_decimals_not_floats() -> None:
    catalog = load_catalog(EXAMPLES / "quantipackai.toml")
    feature = catalog.features["pdp_analyzer"]
    assert feature.credits == 15
    assert feature.multiplier_param == "complexity"
    assert feature.multipliers == {"low": Decimal("0.7"), "medium": Decimal("1"), "high": Decimal("1.5")}
    assert all(type(value) is Decimal for value in feature.multipliers.values())
    assert [catalog.plans[key].credits_per_period for key in ("free", "starter", "professional")] == [
        5,
        50,
        150,
    ]


def test_skinova_consultation_accepts_a_payload() -> None:
    catalog = load_catalog(EXAMPLES / "skinova.toml")
    consultation = catalog.products["consultation"]
    assert (consultation.amount_minor, consultation.accepts_payload) == (4900, True)
    assert catalog.item_for_lookup_key(consultation.lookup_key) == CatalogItemRef("product", "consultation")


def test_dreamscan_pins_test_and_live_price_ids() -> None:
    catalog = load_catalog(EXAMPLES / "dreamscan.toml")
    yearly = catalog.plans["premium"].prices["year"]
    assert (yearly.amount_minor, yearly.price_id_test, yearly.price_id_live) == (
        49000,
        "price_TEST_PREMIUM_YEARLY",
        "price_LIVE_PREMIUM_YEARLY",
    )
    check_mode(catalog, "live")
    check_mode(catalog, "test")


def test_lookup_keys_are_derived_and_map_back_to_the_item() -> None:
    catalog = parse_catalog(MINIMAL + '[plans.pro]\nprices = { monthly = "9", yearly = "90" }\n')
    assert catalog.plans["pro"].prices["year"].lookup_key == "coinslot:plan:pro:year"
    assert catalog.item_for_lookup_key("coinslot:plan:pro:month") == CatalogItemRef("plan", "pro", "month")


def test_amounts_read_as_strings_numbers_or_integers_all_become_exact_cents() -> None:
    text = (
        MINIMAL
        + '[plans.a]\nprices = { monthly = "4.99", yearly = 49.90 }\n[plans.b]\nprices = { monthly = 5 }\n'
    )
    catalog = parse_catalog(text)
    assert catalog.plans["a"].prices["month"].amount_minor == 499
    assert catalog.plans["a"].prices["year"].amount_minor == 4990
    assert catalog.plans["b"].prices["month"].amount_minor == 500


def test_too_many_decimals_names_file_line_and_field() -> None:
    text = MINIMAL + '\n[plans.pro]\nprices = { monthly = "4.999" }\n'
    assert problems_of(text) == [
        'catalog.toml:8: plans.pro.prices.monthly: "4.999" has more decimals than USD allows'
    ]


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = """\
[catalog]
default_plan = "pro"

[features.export]
credits = 2.5

[plans.free]
type = "free"

[plans.pro]
type = "subscripton"
prices = { monthly = "9.99", weekly = "3" }
features = ["nope"]
colour = "red"

[packs.credits]
type = "per_credit"
minimum_amount = "5"
"""
    found = problems_of(text)
    assert found[0] == 'catalog.toml:2: catalog.default_plan: "pro" must be a free plan (type = "free")'
    assert "catalog.toml:5: features.export.credits: must be a whole number, not 2.5" in found
    assert any(line.startswith("catalog.toml:11: plans.pro.type:") for line in found)
    assert "catalog.toml:12: plans.pro.prices.weekly: unknown interval; use monthly or yearly" in found
    assert any(
        line.startswith('catalog.toml:13: plans.pro.features: unknown feature "nope"') for line in found
    )
    assert any(line.startswith("catalog.toml:14: plans.pro.colour: unknown field") for line in found)
    assert any(line.startswith("catalog.toml:16: packs.credits.price_per_credit: missing") for line in found)
    assert [int(line.split(":")[1]) for line in found] == sorted(int(line.split(":")[1]) for line in found)


def test_long_form_price_table_reports_the_line_of_the_bad_key() -> None:
    text = MINIMAL + '\n[plans.pro.prices.monthly]\namount = "1.001"\nprice_id_test = "prod_wrong"\n'
    assert problems_of(text) == [
        'catalog.toml:8: plans.pro.prices.monthly.amount: "1.001" has more decimals than USD allows',
        'catalog.toml:9: plans.pro.prices.monthly.price_id_test: "prod_wrong" '
        "is not a Stripe price id (price_...)",
    ]


def test_broken_toml_names_its_line() -> None:
    found = problems_of('[catalog]\nname = "x"\n[plans.free\n')
    assert found[0].startswith("catalog.toml:3: not valid TOML")


def test_a_catalog_needs_a_free_default_plan() -> None:
    found = problems_of('[plans.pro]\nprices = { monthly = "5" }\n')
    assert found == [
        'catalog.toml:1: catalog.default_plan: missing; declare a plan with type = "free" for users '
        "without a subscription and name it here"
    ]


def test_unlimited_plans_have_no_credit_count_and_packs_need_their_fields() -> None:
    text = MINIMAL + (
        "[plans.max]\nprices = { monthly = 30 }\nunlimited = true\ncredits_per_period = 10\n"
        '[packs.bundle]\ntype = "fixed"\nprice = "9.99"\n'
    )
    found = problems_of(text)
    assert (
        "catalog.toml:9: plans.max.credits_per_period: "
        "an unlimited plan has no credits per period; remove one" in found
    )
    assert "catalog.toml:10: packs.bundle.credits: missing; a fixed pack grants a number of credits" in found


def test_duplicate_lookup_keys_are_refused() -> None:
    text = MINIMAL + (
        '[plans.a.prices.monthly]\namount = "5"\nlookup_key = "same"\n'
        '[plans.b.prices.monthly]\namount = "6"\nlookup_key = "same"\n'
    )
    assert problems_of(text) == [
        'catalog.toml:9: plans.b.prices.monthly: lookup key "same" is already used by plans.a.prices.monthly'
    ]


def test_a_live_key_refuses_a_catalog_pinning_only_test_price_ids() -> None:
    catalog = parse_catalog(
        MINIMAL + '\n[plans.pro.prices.monthly]\namount = "5"\nprice_id_test = "price_123"\n'
    )
    check_mode(catalog, "test")
    with pytest.raises(CatalogInvalid) as caught:
        check_mode(catalog, "live")
    assert str(caught.value.problems[0]) == (
        "catalog.toml:7: plans.pro.prices.monthly: pins only a test-mode price id (price_id_test) but the "
        "Stripe key is a live key; add price_id_live or use a test key"
    )


def test_a_missing_file_is_a_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(CatalogInvalid) as caught:
        load_catalog(tmp_path / "nope.toml")
    assert "file not found" in caught.value.message


def test_the_documented_example_catalog_parses() -> None:
    doc = (EXAMPLES.parents[1] / "docs" / "catalog.md").read_text()
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    catalog = parse_catalog(example, source="docs/catalog.md")
    assert catalog.plans["studio"].prices["month"].lookup_key == "studio-monthly"
    assert catalog.features["analysis"].multipliers["low"] == Decimal("0.7")
    assert catalog.packs["bundle_100"].credits == 100


# --- every number is bounded (issue 13) ----------------------------------------------------------

BOUNDED = """\
[catalog]
name = "Bounds"

[features.export]
credits = {credits}
multiplier_param = "complexity"
multipliers = {{ high = {factor} }}
limit_per_period = {limit}

[plans.free]
type = "free"
features = ["export"]

[plans.pro]
prices = {{ monthly = {amount} }}
credits_per_period = {per_period}
rollover_cap = {rollover}
trial_days = {trial}
features = ["export"]

[packs.credits]
type = "per_credit"
price_per_credit = "0.20"
minimum_amount = {minimum}
expires_after_days = {days}
"""
FINE = {"credits": 3, "factor": '"1.5"', "limit": 100, "amount": '"9.99"', "per_period": 25, "rollover": 10,
        "trial": 14, "minimum": '"5.00"', "days": 365}


def test_the_bounded_catalog_parses_with_sane_numbers() -> None:
    catalog = parse_catalog(BOUNDED.format(**FINE), source="catalog.toml")
    assert catalog.features["export"].multipliers["high"] == Decimal("1.5")


@pytest.mark.parametrize(("field", "value", "line", "path", "message"), [
    ("credits", 2**63, 5, "features.export.credits", "must be at most 1,000,000"),
    ("credits", 10**40, 5, "features.export.credits", "must be at most 1,000,000"),
    ("factor", '"1e999999"', 7, "features.export.multipliers.high", 'a positive number such as "1.5"'),
    ("factor", '"1e-999999"', 7, "features.export.multipliers.high", "at most 1000, 4 decimals"),
    ("factor", "1e400", 7, "features.export.multipliers.high", "at most 1000"),
    ("factor", '"1.00001"', 7, "features.export.multipliers.high", "4 decimals"),
    ("factor", '"' + "9" * 5000 + '"', 7, "features.export.multipliers.high", 'not "' + "9" * 36 + '...'),
    ("limit", 2**64, 8, "features.export.limit_per_period", "must be at most 1,000,000,000"),
    ("amount", '"1e999999999999"', 15, "plans.pro.prices.monthly", "larger than any price"),
    ("amount", '"1e999999"', 15, "plans.pro.prices.monthly", "larger than any price"),
    ("amount", '"1000000.00"', 15, "plans.pro.prices.monthly", "more than Stripe accepts"),
    ("amount", "1" + "0" * 400, 15, "plans.pro.prices.monthly", "larger than any price"),
    ("per_period", 10**13, 16, "plans.pro.credits_per_period", "must be at most 1,000,000,000,000"),
    ("rollover", 2**70, 17, "plans.pro.rollover_cap", "must be at most 1,000,000,000,000"),
    ("trial", 10**20, 18, "plans.pro.trial_days", "must be at most"),
    ("minimum", '"1e99999999"', 24, "packs.credits.minimum_amount", "larger than any price"),
    ("days", 10**9, 25, "packs.credits.expires_after_days", "must be at most 3,650"),
])
def test_a_number_out_of_bounds_is_named_by_file_line_and_field(
    field: str, value: object, line: int, path: str, message: str
) -> None:
    found = problems_of(BOUNDED.format(**{**FINE, field: value}))
    assert len(found) == 1, found
    assert found[0].startswith(f"catalog.toml:{line}: {path}: "), found
    assert message in found[0]
    assert len(found[0]) < 300  # quotes the value, never a million digits of it


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000, "{a=" * 3000 + "1" + "}" * 3000])
def test_nesting_no_parser_follows_is_a_problem_on_its_line_not_a_traceback(nested: str) -> None:
    found = problems_of(MINIMAL + f"\n[extra]\nx = {nested}\n")
    assert found == ["catalog.toml:8: arrays or tables nested too deeply to be a catalog"]
