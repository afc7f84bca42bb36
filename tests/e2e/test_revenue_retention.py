"""An operator reads a month of revenue retention: one customer upgrades, one downgrades, one cancels, one
is new; the admin console and its CSV show the expansion, contraction, churn and NRR computed by hand.

The customers share one Stripe test clock, started on pinned dates (tests/support/dates.py): the first
month is the start date's, the second the next calendar month, which the first renewal falls in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import httpx
import pytest

from coinslot.customers.flows import METADATA_USER_KEY
from tests.e2e.billing_user import PAST_RENEWAL, User, push_catalog
from tests.support.dates import START_DATES
from tests.support.stack import Stack

CORE_MINOR, PRO_MINOR, STUDIO_MINOR = 499, 1499, 2999

# The year turns between the two months of one; the other is an ordinary month.
STARTS = {name: START_DATES[name] for name in ("mid-month", "late-december")}


def customer_on(stack: Stack, clock_id: str, host_user_id: str) -> User:
    customer = stack.stripe.v1.customers.create(params={
        "email": f"{host_user_id}@example.com", "test_clock": clock_id,
        "metadata": {METADATA_USER_KEY: host_user_id},
    })
    return User(stack, host_user_id, clock_id, customer.id)


def next_month(at: dt.datetime) -> dt.datetime:
    first = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if first.month == 12:
        return first.replace(year=first.year + 1, month=1)
    return first.replace(month=first.month + 1)


def admin_reads(stack: Stack) -> tuple[httpx.Response, httpx.Response]:
    """The operator signs in, downloads /admin/retention.csv and opens the overview."""
    with httpx.Client(base_url=stack.url, timeout=30) as browser:
        form = browser.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        browser.post("/admin/login", data={"csrf_token": token.group(1), "password": "admin-e2e"})
        return browser.get("/admin/retention.csv"), browser.get("/admin")


@pytest.mark.parametrize("start_at", list(STARTS.values()), ids=list(STARTS))
def test_an_upgrade_a_downgrade_a_cancellation_and_a_new_customer_over_two_months(
    stack: Stack, start_at: dt.datetime,
) -> None:
    push_catalog(stack, "patch_hive")
    clock_id = stack.new_test_clock(start_at)
    ada, bob, cy = (customer_on(stack, clock_id, name) for name in ("ada", "bob", "cy"))
    ada.subscribe("core")
    bob.subscribe("pro")
    cy_sub = cy.subscribe("pro")

    # The next month, before the renewals: Ada upgrades, Bob downgrades (Stripe bills Core from his
    # renewal: the mirror's amount, and MRR, follow at once), Cy cancels at the period end, Dan arrives.
    second = next_month(start_at)
    stack.advance_clock(clock_id, to=second + dt.timedelta(days=1))
    stack.settle()
    ada.change_plan("pro")
    bob.change_plan("core")
    canceled = stack.api.post("/v1/customers/cy/subscription/cancel")
    assert canceled.status_code == 200, canceled.text
    stack.settle()
    dan = customer_on(stack, clock_id, "dan")
    dan.subscribe("studio")
    # Past the renewals: Ada's and Bob's change nothing more, Cy's subscription ends (in the second month).
    stack.advance_clock(clock_id, to=cy.period_end(cy_sub) + PAST_RENEWAL)
    stack.settle()
    assert stack.stripe.v1.subscriptions.retrieve(cy_sub).status == "canceled"

    first_start = CORE_MINOR + 2 * PRO_MINOR  # 3497: all new in the first month
    second_end = PRO_MINOR + CORE_MINOR + STUDIO_MINOR  # Ada, Bob, Dan: 4997
    # NRR: the first month's customers keep (3497 + 1000 - 1000 - 1499) / 3497 = 1998/3497 = 57.134...%
    expected = [
        [f"{start_at:%Y-%m}-01", "usd", "0", str(first_start), "0", "0", "0", str(first_start),
         "0", "3", "0", "", ""],
        [f"{second:%Y-%m-%d}", "usd", str(first_start), str(STUDIO_MINOR), "1000", "1000", str(PRO_MINOR),
         str(second_end), "3", "1", "1", "57.1", "1998/3497"],
    ]
    exported, page = admin_reads(stack)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[1:] == expected
    assert page.status_code == 200
    month_row = re.search(rf'<tr data-month="{second:%Y-%m-%d}">(.*?)</tr>', page.text)
    assert month_row is not None
    cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', month_row.group(1))
    assert cells == ["$34.97", "$29.99", "$10.00", "−$10.00", "−$14.99", "$49.97", "57.1%"]
    assert "MRR gained and lost per month, USD" in page.text  # the chart
