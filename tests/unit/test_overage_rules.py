"""Overage's rules, pure: the catalog's terms (with file/line/field problems), what overage costs (one
rounding rule, exact fractions of a cent), the cap, the ledger's split and the plan's decision."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coinslot.catalog.core import Catalog, Feature, Overage, Plan, overage_prices
from coinslot.catalog.parser import CatalogInvalid, parse_catalog
from coinslot.entitlements.core import decide
from coinslot.ledger.core import overage_split
from coinslot.overage.core import FINALIZATION_GRACE, cost_minor, meter_identifier, quote, too_late_to_bill
from coinslot.stripe_gateway.subscriptions import StripeSubscriptionItemData
from coinslot.subscriptions.core import overage_item, plan_access

NOW = dt.datetime(2026, 5, 14, 10, 0, tzinfo=dt.UTC)

CATALOG = """\
[catalog]
name = "Example"

[features.export]
credits = 3

[features.scan]
credits = 10

[plans.free]
type = "free"
features = ["export"]

[plans.pro]
prices = {{ monthly = "10.00", yearly = "100.00" }}
credits_per_period = 20
features = ["export", "scan"]

[plans.pro.overage]
{overage}
"""


def parsed(overage: str) -> Catalog:
    return parse_catalog(CATALOG.format(overage=overage), source="catalog.toml")


def problems_of(overage: str) -> list[str]:
    with pytest.raises(CatalogInvalid) as caught:
        parsed(overage)
    return [str(problem) for problem in caught.value.problems]


def test_a_plans_overage_is_read_exactly_with_a_metered_price_per_interval() -> None:
    catalog = parsed('price_per_credit = "0.004"\ncap = "25.00"\nfeatures = ["scan"]')
    terms = catalog.plans["pro"].overage
    assert terms == Overage(Decimal("0.4"), "usd", frozenset({"scan"}), 2500, {
        "month": "coinslot:plan:pro:overage:month", "year": "coinslot:plan:pro:overage:year"})
    assert [(price.interval, price.unit_amount_minor, price.product_key)
            for price in overage_prices(catalog)] == [
        ("month", Decimal("0.4"), "plan:pro"), ("year", Decimal("0.4"), "plan:pro")]
    every_feature = parsed('price_per_credit = 1').plans["pro"].overage
    assert every_feature is not None
    assert every_feature.features == {"export", "scan"}
    assert every_feature.cap_minor is None


@pytest.mark.parametrize(("overage", "problem"), [
    ('price_per_credit = "0"', 'catalog.toml:20: plans.pro.overage.price_per_credit: "0" is not a positive'),
    ('price_per_credit = "abc"',
     'catalog.toml:20: plans.pro.overage.price_per_credit: "abc" is not a positive'),
    ('price_per_credit = "0.000000000000001"', "more than 12 decimals of a USD minor unit"),
    ('price_per_credit = "1e40"', "is more than Stripe accepts"),
    ('cap = "5.00"', "catalog.toml:19: plans.pro.overage.price_per_credit: missing"),
    ('price_per_credit = "0.01"\ncap = "5.001"', 'plans.pro.overage.cap: "5.001" has more decimals than USD'),
    ('price_per_credit = "0.01"\nfeatures = ["print"]', '"print" is not a feature of plan pro'),
    ('price_per_credit = "0.01"\nrate = 2', "catalog.toml:21: plans.pro.overage.rate"),
])
def test_a_wrong_overage_is_a_problem_naming_file_line_and_field(overage: str, problem: str) -> None:
    found = problems_of(overage)
    assert any(problem in each for each in found), found


def test_a_free_plan_has_no_overage() -> None:
    text = (CATALOG.format(overage='price_per_credit = "0.01"')
            + '\n[plans.free.overage]\nprice_per_credit = "0.01"\n')
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(text, source="catalog.toml")
    assert any("only a subscription plan has overage" in str(each) for each in caught.value.problems)


def test_overage_costs_round_half_up_on_the_periods_total_so_uses_add_up_to_the_invoice_line() -> None:
    unit = Decimal("87.5")  # 87.5 cents a credit
    assert [cost_minor(credits, unit) for credits in (0, 1, 2, 5, 13)] == [0, 88, 175, 438, 1138]
    assert cost_minor(7, Decimal("0.4")) == 3  # 2.8 cents
    uses = [5, 8, 1, 3]
    added, before = [], 0
    for credits in uses:
        quoted = quote(credits=credits, period_credits_before=before, unit_amount_minor=unit, cap_minor=None)
        added.append(quoted.cost_minor)
        before = quoted.period_credits
    assert added == [438, 700, 87, 263]
    assert sum(added) == cost_minor(sum(uses), unit)  # never a cent more or less than the invoice


def test_the_cap_allows_up_to_its_amount_and_not_a_cent_past() -> None:
    at_cap = quote(credits=45, period_credits_before=0, unit_amount_minor=Decimal("87.5"), cap_minor=3938)
    past = quote(credits=1, period_credits_before=45, unit_amount_minor=Decimal("87.5"), cap_minor=3938)
    assert (at_cap.within_cap, past.within_cap, past.period_cost_minor) == (True, False, 4025)


def test_a_use_beyond_the_balance_draws_it_to_zero_and_bills_the_rest() -> None:
    assert overage_split(cost_credits=10, available_credits=6) == (6, 4)
    assert overage_split(cost_credits=10, available_credits=0) == (0, 10)
    assert overage_split(cost_credits=3, available_credits=6) == (3, 0)


def test_the_meter_identifier_is_stable_per_entry_and_customer_and_fits_stripes_limit() -> None:
    first = meter_identifier(stripe_customer_id="cus_1", entry_id="caller:1:a")
    assert first == meter_identifier(stripe_customer_id="cus_1", entry_id="caller:1:a")
    assert first != meter_identifier(stripe_customer_id="cus_2", entry_id="caller:1:a")
    assert first != meter_identifier(stripe_customer_id="cus_1", entry_id="caller:1:b")
    assert len(first) <= 100


def test_the_plan_decides_overage_only_for_its_features_and_within_the_cap() -> None:
    terms = Overage(Decimal("50"), "usd", frozenset({"scan"}), 1000)
    plan = Plan("pro", "Pro", "subscription", 1, credits_per_period=20,
                features=frozenset({"export", "scan"}), overage=terms)
    access = plan_access(default_plan="free", now=NOW, grace=dt.timedelta(days=3), status="active",
                         plan_key="pro")
    scan, export = Feature("scan", "Scan", credits=10), Feature("export", "Export", credits=3)
    unread = decide(plan=plan, feature=scan, access=access, available_credits=4)
    assert unread.reason == "insufficient_credits"  # the period's overage not read: no decision on it
    over = decide(plan=plan, feature=scan, access=access, available_credits=4, overage_period_credits=10)
    assert (over.allowed, over.reason, over.remaining, over.overage and over.overage.cost_minor) == (
        True, "overage", 0, 300)
    capped = decide(plan=plan, feature=scan, access=access, available_credits=4, overage_period_credits=15)
    assert (capped.allowed, capped.reason, capped.remaining) == (False, "overage_cap_reached", 4)
    not_billed = decide(plan=plan, feature=export, access=access, available_credits=1,
                        overage_period_credits=0)
    assert not_billed.reason == "insufficient_credits"


def _item(price_id: str, *, metered: bool, lookup_key: str | None = None, key: str | None = None
          ) -> StripeSubscriptionItemData:
    return StripeSubscriptionItemData(f"si_{price_id}", price_id, lookup_key, "month", 1, 0, 1,
                                      price_metadata={"coinslot_key": key} if key else {}, metered=metered)


def test_only_the_plans_own_metered_item_bills_its_overage() -> None:
    catalog = parsed('price_per_credit = "0.5"')
    plan_item = _item("price_pro", metered=False, lookup_key="coinslot:plan:pro:month", key="plan:pro")
    own = _item("price_meter", metered=True, key="overage:pro")  # a replaced price keeps its metadata
    by_lookup_key = _item("price_meter_2", metered=True, lookup_key="coinslot:plan:pro:overage:month")
    other_plans = _item("price_other", metered=True, key="overage:starter")
    assert overage_item(catalog, "pro", [plan_item, own]) is own
    assert overage_item(catalog, "pro", [plan_item, by_lookup_key]) is by_lookup_key
    assert overage_item(catalog, "pro", [plan_item]) is None  # subscribed before the plan had overage
    assert overage_item(catalog, "pro", [plan_item, other_plans]) is None
    assert overage_item(catalog, None, [own]) is None


def test_a_subscription_without_its_plans_metered_item_has_the_plan_without_overage() -> None:
    catalog = parsed('price_per_credit = "0.5"')

    def terms(metered_price_id: str | None) -> Overage | None:
        access = plan_access(default_plan="free", now=NOW, grace=dt.timedelta(days=3), status="active",
                             plan_key="pro", metered_price_id=metered_price_id)
        plan = access.plan(catalog)
        assert plan is not None
        assert plan.credits_per_period == 20
        return plan.overage

    assert terms("price_meter") == catalog.plans["pro"].overage
    assert terms(None) is None
    lapsed = plan_access(default_plan="free", now=NOW, grace=dt.timedelta(days=3), status="canceled",
                         plan_key="pro", metered_price_id="price_meter")
    assert lapsed.bills_overage is False  # the free plan it falls back to has no metered item


def test_a_meter_report_is_too_late_once_its_periods_invoice_is_finalized() -> None:
    end = NOW + dt.timedelta(days=30)
    assert too_late_to_bill(period_end=end, sent_at=end - dt.timedelta(seconds=1)) is False
    just_in_time = end + FINALIZATION_GRACE - dt.timedelta(seconds=1)  # the invoice is still a draft
    assert too_late_to_bill(period_end=end, sent_at=just_in_time) is False
    assert too_late_to_bill(period_end=end, sent_at=end + FINALIZATION_GRACE) is True
    assert too_late_to_bill(period_end=None, sent_at=end + dt.timedelta(days=40)) is False
