"""The billing page of a QuantiPackAI Starter subscriber past the month's tokens: this period's overage and
its cost, the same figures as the ledger's and as the invoice Stripe (stripesim) draws up for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from coinslot.ledger import service as ledger
from coinslot.overage.core import cost_minor
from coinslot.overage.reporter import report_due
from tests.browser.conftest import Web
from tests.e2e.billing_user import User
from tests.support.stack import Stack

STARTER_PER_CREDIT_MINOR = Decimal("87.5")  # examples/catalogs/quantipackai.toml: "0.875" a token


def overage_line_amount(stack: Stack, lines: list[Any]) -> int:
    lookup_keys = ["coinslot:plan:starter:overage:month"]
    price = stack.stripe.v1.prices.list(params={"lookup_keys": lookup_keys}).data[0]
    found = [line for line in lines if line.pricing.price_details.price == price.id]
    assert len(found) == 1
    return int(found[0].amount)


def test_the_billing_page_shows_the_periods_overage_as_the_ledger_and_the_invoice_count_it(
    make_web: Callable[..., Web],
) -> None:
    web = make_web(catalog="quantipackai")
    stack = web.stack
    ines = User.on_test_clock(stack, "ines")
    subscription = ines.subscribe("starter")
    for key, feature, complexity in [("a", "spec_generator", "high"), ("b", "spec_generator", "high"),
                                     ("c", "spec_generator", "high"), ("d", "spec_generator", "medium"),
                                     ("e", "suite_analyzer", "high")]:  # 45 of 50, then 5 + 8 beyond
        assert ines.consume(feature, key, complexity=complexity).status_code == 200

    page = web.open_as("ines")
    shown = page.locator("[data-overage-credits]")
    credits_shown = int(shown.get_attribute("data-overage-credits"))
    cost_shown = int(shown.get_attribute("data-overage-cost-minor"))
    assert "Overage this period: 13 credits" in shown.inner_text()
    assert "$11.38" in shown.inner_text()
    assert page.locator("[data-credits-prompt]").count() == 0  # nothing is paused
    web.shot(page, "billing-overage")

    with stack.container.db.unit_of_work(read_only=True) as session:
        since = stack.stripe.v1.subscriptions.retrieve(subscription)["items"].data[0].current_period_start
        period_credits = ledger.overage_credits(session, customer_id=ines.customer_id,
                                                since=dt.datetime.fromtimestamp(since, dt.UTC))
    assert (credits_shown, cost_shown) == (period_credits,
                                           cost_minor(period_credits, STARTER_PER_CREDIT_MINOR))

    while report_due(stack.container):
        pass
    preview = stack.stripe.v1.invoices.create_preview(params={"subscription": subscription})
    assert overage_line_amount(stack, preview.lines.data) == cost_shown  # what Stripe will bill
    renewal = ines.renew(subscription)
    assert overage_line_amount(stack, stack.stripe.v1.invoices.retrieve(renewal).lines.data) == cost_shown

    page.reload()
    assert page.locator("[data-overage-credits]").get_attribute("data-overage-credits") == "0"  # a new period
