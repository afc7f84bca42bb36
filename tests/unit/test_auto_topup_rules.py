"""Auto top-up's rules, pure: the catalog's `[auto_topup]` (errors with file, line and field), when a
use starts a top-up, the monthly cap, the consent text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from coinslot.catalog.parser import CatalogInvalid, load_catalog, parse_catalog
from coinslot.topups import core

CATALOG = """\
[catalog]
name = "Patch-Hive"

[plans.free]
type = "free"

[plans.core]
prices = { monthly = "4.99" }
credits_per_period = 25

[packs.credits]
type = "per_credit"
price_per_credit = "0.20"
minimum_amount = "5.00"

[packs.bundle]
credits = 100
price = "15.00"
"""

TERMS = """
[auto_topup]
packs = ["credits", "bundle"]
credits = 25
threshold_credits = 6
monthly_cap_amount = "20.00"
monthly_cap_count = 2
plans = ["core"]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(text, source="catalog.toml")
    return [str(problem) for problem in caught.value.problems]


def test_the_terms_are_read_with_exact_amounts_and_each_packs_offer() -> None:
    catalog = parse_catalog(CATALOG + TERMS)
    terms = catalog.auto_topup
    assert terms is not None
    assert (terms.packs, terms.threshold_credits) == (("credits", "bundle"), 6)
    assert (terms.monthly_cap_count, terms.monthly_cap_amount_minor) == (2, 2000)
    assert core.offer_for(terms, catalog.packs["credits"]) == core.Offer("credits", 25, 500, "usd")
    assert core.offer_for(terms, catalog.packs["bundle"]) == core.Offer("bundle", 100, 1500, "usd")
    assert [terms.allows_plan(plan) for plan in ("core", "free", None)] == [True, False, False]


def test_without_the_table_nothing_is_offered_and_without_plans_every_plan_may() -> None:
    assert parse_catalog(CATALOG).auto_topup is None
    terms = parse_catalog(CATALOG + TERMS.replace('plans = ["core"]\n', "")).auto_topup
    assert terms is not None
    assert terms.allows_plan("free")


@pytest.mark.parametrize(("change", "problem"), [
    (('packs = ["credits", "bundle"]', 'packs = ["credits", "bundel"]'),
     'catalog.toml:21: auto_topup.packs: unknown pack "bundel"; declare it as [packs.bundel]'),
    (("credits = 25\n", "credits = 24\n"),
     'catalog.toml:22: auto_topup.credits: 24 credits of pack "credits" cost less than its minimum amount'),
    (("credits = 25\n", ""), 'catalog.toml:20: auto_topup.credits: missing; pack "credits" is per credit: '
                             "say how many credits a top-up buys"),
    (('monthly_cap_amount = "20.00"', 'monthly_cap_amount = "4.999"'),
     'catalog.toml:24: auto_topup.monthly_cap_amount: "4.999" has more decimals than USD allows'),
    (('monthly_cap_amount = "20.00"', 'monthly_cap_amount = "10.00"'),
     'catalog.toml:24: auto_topup.monthly_cap_amount: is less than one top-up with pack "bundle"'),
    (("monthly_cap_count = 2", "monthly_cap_count = 0"),
     "catalog.toml:25: auto_topup.monthly_cap_count: must be at least 1, not 0"),
    (("threshold_credits = 6", "threshold = 6"),
     "catalog.toml:23: auto_topup.threshold: unknown field; expected one of: credits, monthly_cap_amount, "
     "monthly_cap_count, packs, plans, threshold_credits"),
    (('plans = ["core"]', 'plans = ["cor"]'),
     'catalog.toml:26: auto_topup.plans: unknown plan "cor"; declare it as [plans.cor]'),
])
def test_a_wrong_term_names_file_line_and_field(change: tuple[str, str], problem: str) -> None:
    assert problem in problems_of(CATALOG + TERMS.replace(*change))


def test_patch_hive_offers_auto_top_up_on_its_paid_plans_with_credits() -> None:
    catalog = load_catalog(Path(__file__).resolve().parents[2] / "examples" / "catalogs" / "patch_hive.toml")
    terms = catalog.auto_topup
    assert terms is not None
    assert sorted(terms.plans or ()) == ["core", "pro"]


TERMS_TWO = parse_catalog(CATALOG + TERMS).auto_topup
OFFER = core.Offer("credits", 25, 500, "usd")


def trigger(**changes: object) -> core.Trigger:
    assert TERMS_TWO is not None
    arguments: dict[str, object] = {"enabled": True, "plan_allowed": True, "balance_after": 4,
                                    "terms": TERMS_TWO, "has_open": False, "usage": core.MonthUsage(0, 0),
                                    "offer": OFFER}
    return core.trigger(**{**arguments, **changes})  # type: ignore[arg-type]


def test_a_use_under_the_threshold_tops_up_once_and_never_past_the_cap() -> None:
    assert trigger() == "top_up"
    assert trigger(balance_after=6) == "above_threshold"  # at the threshold is not under it
    assert trigger(balance_after=5) == "top_up"
    assert trigger(has_open=True) == "open"  # a concurrent use found the one already started
    assert trigger(usage=core.MonthUsage(1, 500)) == "top_up"
    assert trigger(usage=core.MonthUsage(2, 1000)) == "capped"  # the count
    assert trigger(usage=core.MonthUsage(1, 1600)) == "capped"  # the money: 1600 + 500 > 2000
    assert trigger(usage=core.MonthUsage(1, 1500)) == "top_up"  # exactly the cap is allowed
    assert trigger(enabled=False) == "off"
    assert trigger(plan_allowed=False) == "off"


@pytest.mark.parametrize(("at", "month"), [
    (dt.datetime(2027, 1, 31, 23, 59, 59, tzinfo=dt.UTC), "2027-01"),
    (dt.datetime(2027, 2, 1, 0, 0, tzinfo=dt.UTC), "2027-02"),
    (dt.datetime(2028, 2, 29, 6, 0, tzinfo=dt.UTC), "2028-02"),
    (dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2027-01"),
])
def test_the_caps_month_is_the_calendar_month_in_utc(at: dt.datetime, month: str) -> None:
    assert core.month_of(at) == month


def test_the_consent_text_states_the_terms_and_a_failure_says_what_happened() -> None:
    assert TERMS_TWO is not None
    assert core.consent_text("Patch-Hive", TERMS_TWO, OFFER) == (
        "I authorise Patch-Hive to charge my saved card $5.00 for 25 credits whenever my balance falls "
        "below 6 credits, at most 2 times and $20.00 per calendar month, until I turn auto top-up off.")
    assert "confirm" in core.failure_notice("authentication_required").lower()
    assert core.failure_notice("insufficient_funds") == core.failure_notice("card_declined")


def test_the_documented_auto_top_up_table_parses_with_the_documented_catalog() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "catalog.md").read_text()
    example, auto_topup = [block.split("```", 1)[0] for block in doc.split("```toml\n")[1:3]]
    terms = parse_catalog(example + "\n" + auto_topup, source="docs/catalog.md").auto_topup
    assert terms is not None
    assert (terms.packs, terms.credits, terms.threshold_credits, terms.monthly_cap_amount_minor) == (
        ("credits",), 25, 6, 1000)
