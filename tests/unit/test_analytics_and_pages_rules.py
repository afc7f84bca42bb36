"""Pure rules behind the figures and the pages: MRR, churn, savings, meters, minimums, chart axes, links."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import pytest

from coinslot.analytics import core
from coinslot.catalog.core import Catalog
from coinslot.catalog.parser import load_catalog
from coinslot.config import Settings
from coinslot.errors import InvalidInput, Unauthorized
from coinslot.web import auth, charts, present

CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


def catalog(name: str) -> Catalog:
    return load_catalog(CATALOGS / f"{name}.toml", display_name=f"{name}.toml")


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"session_secret": "unit-secret-unit-secret-unit-secret",
                                 "allowed_redirect_origins": "https://app.example", **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


NOW = dt.datetime(2026, 5, 14, 10, 0, tzinfo=dt.UTC)


def billed(status: str, amount_minor: int | None, *, plan: str | None = "starter", interval: str = "month",
           currency: str = "usd", count: int = 1, discount_minor: int = 0,
           discount_ends_at: dt.datetime | None = None, interval_count: int = 1) -> core.RevenueRow:
    return core.RevenueRow(status=status, plan_key=plan, interval=interval, interval_count=interval_count,
                           currency=currency, period_amount_minor=amount_minor,
                           period_discount_minor=discount_minor, discount_ends_at=discount_ends_at,
                           count=count)


def test_mrr_counts_what_each_subscription_really_bills_each_currency_apart() -> None:
    quanti = catalog("quantipackai")
    rows = [
        billed("active", 5 * 1500, plan="team", count=2),  # 2 teams of 5 seats at $15.00: $150.00
        billed("past_due", 99000, plan="professional", interval="year"),  # $990.00 a year: $82.50
        billed("active", 2900, discount_minor=580),  # $29.00 less 20%: $23.20
        # Its $5.00 off ended yesterday; the mirror has not re-read it yet: $29.00 again.
        billed("active", 2900, discount_minor=500, discount_ends_at=NOW - dt.timedelta(days=1)),
        billed("active", 3 * 1000, interval_count=3),  # $30.00 a quarter: $10.00
        billed("active", 4900, currency="eur"),  # EUR 49.00, never added to dollars
        billed("trialing", 3900, count=5),  # trials are not revenue yet
        billed("canceled", 3900, count=9),
        billed("active", 9900, plan=None),  # a price no plan stands for still bills
    ]
    mrr = core.monthly_recurring_revenue(quanti, rows, now=NOW)
    assert mrr.total_minor == {"eur": 4900, "usd": 15000 + 8250 + 2320 + 2900 + 1000 + 9900}
    assert (mrr.estimated, mrr.not_counted) == (0, 0)
    starter_usd = [line for line in mrr.lines if (line.plan_key, line.currency) == ("starter", "usd")]
    assert [(line.subscriptions, line.mrr_minor) for line in starter_usd] == [(3, 2320 + 2900 + 1000)]


def test_mrr_rounds_once_at_the_end_not_per_subscription() -> None:
    quanti = catalog("quantipackai")
    # EUR 290.00 a year is 2416 2/3 cents a month: three of them make 7250, where rounding each
    # subscription (2417) would make 7251.
    rows = [billed("active", 29000, interval="year", currency="eur") for _ in range(3)]
    assert core.monthly_recurring_revenue(quanti, rows, now=NOW).total_minor == {"eur": 7250}


def test_a_subscription_mirrored_before_its_amounts_counts_at_the_catalog_price_as_estimated() -> None:
    quanti = catalog("quantipackai")
    rows = [billed("active", None, plan="starter", count=2),  # 2 x $39.00
            billed("active", None, plan="professional", interval="year"),  # $990.00 / 12 = $82.50
            billed("active", None, plan="gone")]  # neither an amount nor a plan: left out, and said
    mrr = core.monthly_recurring_revenue(quanti, rows, now=NOW)
    assert (mrr.total_minor, mrr.estimated, mrr.not_counted) == ({"usd": 2 * 3900 + 8250}, 3, 1)


def test_subscribers_per_plan_follow_the_catalog_order_and_skip_ended_ones() -> None:
    quanti = catalog("quantipackai")
    rows = [("active", "professional", "month", 2), ("trialing", "starter", "month", 1),
            ("canceled", "starter", "month", 4), ("past_due", "professional", "month", 1)]
    counts = core.subscribers_per_plan(quanti, rows)
    assert [(c.plan_key, c.interval, c.count) for c in counts] == [("starter", "month", 1),
                                                                 ("professional", "month", 3)]


def test_churn_is_a_percentage_with_one_decimal_and_none_without_a_base() -> None:
    assert core.churn(window_days=30, live_at_start=3, ended=1).rate_percent == Decimal("33.3")
    assert core.churn(window_days=30, live_at_start=0, ended=0).rate_percent is None


def test_the_yearly_saving_is_in_minor_units_and_whole_percent() -> None:
    quanti = catalog("quantipackai")
    assert present.yearly_saving(quanti.plans["starter"]) == (7800, 16)
    assert present.yearly_saving(catalog("patch_hive").plans["core"]) is None  # monthly only


def test_the_meter_says_low_at_the_ledger_threshold_and_out_at_zero() -> None:
    assert present.credits_meter(available=6, allowance=25, used=19, low_balance_pct=20).state == "ok"
    low = present.credits_meter(available=5, allowance=25, used=20, low_balance_pct=20)
    assert (low.state, low.used, low.percent_left) == ("low", 20, 20)
    assert present.credits_meter(available=0, allowance=25, used=25, low_balance_pct=20).state == "out"


def test_bought_credits_never_hide_what_was_used_this_period() -> None:
    # 24 of the plan's 25 spent, then 25 bought: 26 left, and the meter still says 24 used.
    bought = present.credits_meter(available=26, allowance=25, used=24, low_balance_pct=20, from_plan=1,
                                   from_purchases=25)
    assert (bought.state, bought.used, bought.remaining, bought.percent_left) == ("ok", 24, 26, 100)
    assert (bought.from_plan, bought.from_purchases) == (1, 25)


def test_the_minimum_quantity_reaches_the_minimum_amount() -> None:
    assert present.minimum_quantity(unit_amount_minor=20, minimum_amount_minor=500) == 25
    assert present.minimum_quantity(unit_amount_minor=30, minimum_amount_minor=500) == 17  # $5.10
    assert present.minimum_quantity(unit_amount_minor=20, minimum_amount_minor=0) == 1


def test_toasts_come_from_a_fixed_table() -> None:
    assert present.toast_for("subscribed") is not None
    assert present.toast_for("<script>") is None


def test_chart_axes_use_round_steps_and_labels_are_escaped() -> None:
    svg = charts.stacked_bars(["Oct", "Nov"], [charts.BarSeries("<b>x</b>", "#000", (3, 21))], label="usage")
    assert ">40</text>" in svg
    assert ">30</text>" in svg
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg


def test_a_link_carries_the_user_and_is_refused_when_altered_or_old() -> None:
    config = settings(signed_link_ttl_s=1)
    token = auth.make_link_token(config, host_user_id="u1", page="credits", return_url=None)
    claims = auth.read_link_token(config, token)
    assert (claims.host_user_id, claims.page) == ("u1", "credits")
    with pytest.raises(Unauthorized, match="not valid"):
        auth.read_link_token(config, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(Unauthorized, match="not valid"):
        auth.read_link_token(settings(session_secret="another-secret-another-secret"), token)
    time.sleep(2.1)
    with pytest.raises(Unauthorized, match="expired"):
        auth.read_link_token(config, token)


def test_return_urls_must_be_on_an_allowed_origin() -> None:
    config = settings()
    assert auth.checked_return_url(config, "https://app.example/settings") == "https://app.example/settings"
    with pytest.raises(InvalidInput):
        auth.checked_return_url(config, "https://evil.example/")
