"""Plan versions in the catalog, and which version a subscription is on: the rules grandfathering rests on."""

from __future__ import annotations

import pytest

from coinslot.catalog.core import VERSION_METADATA
from coinslot.catalog.parser import CatalogInvalid, parse_catalog
from coinslot.subscriptions.core import version_metadata, versions_of

BASE = """\
[catalog]
name = "Patch-Hive"

[features.export]
credits = 3

[features.advanced]

[plans.free]
type = "free"

[plans.core]
prices = { monthly = "4.99" }
credits_per_period = 25
features = ["export"]
"""

PRO_V2 = BASE + """
[plans.pro]
version = "v2"
prices = { monthly = "19.99", yearly = "199.00" }
credits_per_period = 150
features = ["export", "advanced"]

[plans.pro.versions.v1]
prices = { monthly = "14.99" }
credits_per_period = 100
features = ["export"]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(text, source="catalog.toml")
    return [str(problem) for problem in caught.value.problems]


def test_a_plan_sells_its_current_version_and_keeps_the_terms_of_the_earlier_ones() -> None:
    pro = parse_catalog(PRO_V2).plans["pro"]
    assert (pro.version, pro.versions, pro.oldest_version) == ("v2", ("v1", "v2"), "v1")
    assert (pro.credits_per_period, pro.prices["month"].amount_minor) == (150, 1999)
    v1 = pro.terms("v1")
    assert v1 is not None
    assert (v1.version, v1.credits_per_period, v1.features) == ("v1", 100, frozenset({"export"}))
    assert {interval: price.amount_minor for interval, price in v1.prices.items()} == {"month": 1499}
    assert pro.terms("v2") is pro
    assert pro.terms(None) is pro
    assert pro.terms("v0") is None


def test_fields_an_earlier_version_leaves_out_are_the_current_versions() -> None:
    text = PRO_V2.replace('credits_per_period = 100\nfeatures = ["export"]\n', "")
    v1 = parse_catalog(text).plans["pro"].terms("v1")
    assert v1 is not None
    assert (v1.credits_per_period, v1.features) == (150, frozenset({"export", "advanced"}))


def test_a_plan_without_versions_is_v1_and_its_prices_without_metadata_sell_it() -> None:
    core = parse_catalog(BASE).plans["core"]
    assert (core.version, core.earlier_versions) == ("v1", {})
    assert core.version_of_price({}) == "v1"


def test_a_price_names_its_version_by_metadata_and_one_pushed_before_versions_sells_the_oldest() -> None:
    pro = parse_catalog(PRO_V2).plans["pro"]
    assert pro.version_of_price({VERSION_METADATA: "v2"}) == "v2"
    assert pro.version_of_price({VERSION_METADATA: "v1"}) == "v1"
    assert pro.version_of_price({}) == "v1"
    assert pro.version_of_price({VERSION_METADATA: "v0"}) is None  # removed from the file: unknown terms


def test_a_move_at_period_end_keeps_the_paid_for_version_until_a_period_starts_at_the_move() -> None:
    pro = parse_catalog(PRO_V2).plans["pro"]
    moving = version_metadata(plan_key="pro", kept_version="v1", at_s=2_000)
    billed_v2 = {VERSION_METADATA: "v2"}
    assert versions_of(pro, price_metadata=billed_v2, subscription_metadata=moving,
                       period_start_s=1_000) == ("v1", "v2")
    assert versions_of(pro, price_metadata=billed_v2, subscription_metadata=moving,
                       period_start_s=2_000) == ("v2", None)
    assert versions_of(pro, price_metadata=billed_v2, subscription_metadata={},
                       period_start_s=1_000) == ("v2", None)
    # The metadata names the plan: after a switch to another plan it says nothing about that one.
    core = parse_catalog(PRO_V2).plans["core"]
    assert versions_of(core, price_metadata={}, subscription_metadata=moving,
                       period_start_s=1_000) == ("v1", None)
    assert version_metadata(plan_key="pro", kept_version=None, at_s=None) == {
        "coinslot_version_before": "", "coinslot_version_at": ""}


def test_version_mistakes_are_named_by_file_line_and_field() -> None:
    missing_current = PRO_V2.replace('version = "v2"\n', "")
    assert problems_of(missing_current) == [
        'catalog.toml:17: plans.pro.version: missing; name the version sold now, e.g. version = "v2"']
    same = PRO_V2.replace("[plans.pro.versions.v1]", "[plans.pro.versions.v2]")
    assert problems_of(same) == [
        'catalog.toml:23: plans.pro.versions.v2: "v2" is the version sold now (plans.pro.version); list only '
        "earlier versions here"]
    typo = PRO_V2.replace('credits_per_period = 100\nfeatures = ["export"]',
                          'credits = 100\nfeatures = ["exprot"]')
    assert problems_of(typo) == [
        "catalog.toml:25: plans.pro.versions.v1.credits: unknown field; expected one of: credits_per_period, "
        "features, prices, rollover_cap, unlimited",
        'catalog.toml:26: plans.pro.versions.v1.features: unknown feature "exprot"; declare it as '
        "[features.exprot]"]
    long_form = PRO_V2.replace('prices = { monthly = "14.99" }', 'prices.monthly = { amount = "14.99" }')
    assert [problem.split(": ", 2)[1] for problem in problems_of(long_form)] == [
        "plans.pro.versions.v1.prices.monthly"]
    bad_label = PRO_V2.replace('version = "v2"', 'version = "V 2"')
    assert problems_of(bad_label)[0].startswith(
        'catalog.toml:18: plans.pro.version: "V 2" is not a version label')
    free = BASE.replace('type = "free"\n', 'type = "free"\n[plans.free.versions.v0]\n', 1)
    assert problems_of(free) == [
        "catalog.toml:11: plans.free.versions.v0: a free plan has no versions: nobody pays for it"]


def test_a_trial_without_a_card_names_what_its_end_does_and_needs_a_trial() -> None:
    text = BASE.replace('credits_per_period = 25', 'credits_per_period = 25\ntrial_days = 14\n'
                                                   'trial_without_card = "pause"')
    assert parse_catalog(text).plans["core"].trial_without_card == "pause"
    assert parse_catalog(BASE).plans["core"].trial_without_card is None
    wrong = text.replace('"pause"', '"stop"')
    assert problems_of(wrong) == [
        'catalog.toml:16: plans.core.trial_without_card: "stop" is not what a trial\'s end may do; use '
        '"cancel", "pause", "create_invoice"']
    no_trial = text.replace("trial_days = 14\n", "")
    assert problems_of(no_trial) == ["catalog.toml:15: plans.core.trial_without_card: needs a trial: set "
                                     "trial_days"]
