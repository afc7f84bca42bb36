"""Adopting an existing Stripe account with `coinslot import --from-stripe`: its customers are linked to
host users, their subscriptions mirrored with what they bill, the current periods' credits granted once;
a second run changes nothing, a dry run writes nothing, and MRR is what the subscriptions really bill.

The account is stripesim's seeded `existing_account` (its test clock pinned at T0, three months of
history), or one built by hand; coinslot is driven through its CLI, as an operator would."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import coinslot.models
from coinslot.analytics import service as analytics
from coinslot.catalog.parser import load_catalog
from coinslot.cli import app as cli
from coinslot.ledger import service as ledger
from coinslot.models import Customer, LedgerEntry, Subscription
from tests.e2e.billing import cli_env
from tests.support.stack import Stack

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the account's test clock: never today's date
ADMIN_PASSWORD = "admin-e2e"

# The account's own lookup keys, adopted as they are. Its retired "pro_monthly_2024" price and its
# hand-made "Enterprise (custom)" price (no lookup key) are in no plan: the import must say so.
CATALOG = """
[catalog]
name = "Adopted"
currency = "usd"
default_plan = "free"

[features.tokens]
name = "Tokens"
credits = 1

[plans.free]
type = "free"
name = "Free"
credits_per_period = 0
features = ["tokens"]

[plans.starter]
name = "Starter"
credits_per_period = 100
features = ["tokens"]
prices.monthly = { amount = "9.00", lookup_key = "starter_monthly" }
prices.yearly = { amount = "90.00", lookup_key = "starter_yearly" }

[plans.pro]
name = "Pro"
credits_per_period = 500
features = ["tokens"]
prices.monthly = { amount = "29.00", lookup_key = "pro_monthly" }
prices.yearly = { amount = "290.00", lookup_key = "pro_yearly" }

[plans.team]
name = "Team"
credits_per_period = 1000
features = ["tokens"]
prices.monthly = { amount = "15.00", lookup_key = "team_seat_monthly" }
prices.yearly = { amount = "150.00", lookup_key = "team_seat_yearly" }
"""
PLAN_OF_LOOKUP_KEY = {"starter_monthly": "starter", "starter_yearly": "starter", "pro_monthly": "pro",
                      "pro_yearly": "pro", "team_seat_monthly": "team", "team_seat_yearly": "team"}
CREDITS_OF_PLAN = {"starter": 100, "pro": 500, "team": 1000}
SERVING = ("active", "trialing", "past_due")


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    path = tmp_path / "adopted.toml"
    path.write_text(CATALOG)
    return path


@pytest.fixture
def adopting(database_url: str, catalog_path: Path) -> Iterator[Stack]:
    stack = Stack.start(database_url, catalog=catalog_path)
    yield stack
    stack.stop()


def existing_account(stack: Stack, *, count: int, seed: int = 7) -> dict[str, Any]:
    answer = httpx.post(f"{stack.sim_server.url}/_sim/fixtures/existing_account", timeout=120, json={
        "seed": seed, "count": count, "frozen_time": int(T0.timestamp()), "history_months": 3})
    assert answer.status_code == 200, answer.text
    manifest: dict[str, Any] = answer.json()
    return manifest


class Run:
    def __init__(self, result: Any) -> None:
        self.exit_code: int = result.exit_code
        self.json: dict[str, Any] = json.loads(result.stdout)
        self.stderr: str = result.stderr


def run_import(stack: Stack, test_clock: str, *args: str, exit_code: int = 0) -> Run:
    """`coinslot import --from-stripe ... --json`, on the account's test clock (the CLI follows it)."""
    # The clock is read once at start: a command of a few seconds needs no polling (which would go on,
    # in a daemon thread, after the test has stopped stripesim).
    env = {**cli_env(stack), "COINSLOT_STRIPE_TEST_CLOCK": test_clock,
           "COINSLOT_STRIPE_TEST_CLOCK_POLL_S": "86400"}
    result = CliRunner().invoke(cli, ["import", "--from-stripe", *args, "--json"], env=env)
    assert result.exit_code == exit_code, result.output
    return Run(result)


def every_row(stack: Stack) -> dict[str, list[tuple[Any, ...]]]:
    """Every table, every row: what "changes nothing" and "writes nothing" are checked against. A
    mirror row's `snapshot_at_ms` is left out: it is when the row was last read from Stripe, which a
    re-run does (that is how it would notice a change)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with stack.container.db.unit_of_work(read_only=True) as session:
        for table in coinslot.models.Base.metadata.sorted_tables:
            columns = [column for column in table.columns
                       if (table.name, column.name) != ("subscriptions", "snapshot_at_ms")]
            rows[table.name] = sorted((tuple(row) for row in session.execute(select(*columns))), key=repr)
    return rows


def stripe_subscriptions(stack: Stack) -> list[Any]:
    listed = stack.stripe.v1.subscriptions.list(params={"status": "all", "limit": 100,
                                                        "expand": ["data.discounts.source.coupon"]})
    return list(listed.auto_paging_iter())


def plan_of(subscription: Any) -> str | None:
    return PLAN_OF_LOOKUP_KEY.get(subscription["items"].data[0].price.lookup_key or "")


def mirror_rows(stack: Stack) -> dict[str, tuple[Any, ...]]:
    with stack.container.db.unit_of_work(read_only=True) as session:
        query = select(Subscription.stripe_subscription_id, Customer.host_user_id, Subscription.status,
                       Subscription.plan_key, Subscription.quantity, Subscription.period_amount_minor,
                       Subscription.currency).join(Customer, Customer.id == Subscription.customer_id)
        return {row[0]: tuple(row[1:]) for row in session.execute(query)}


def grants(stack: Stack) -> dict[str, int]:
    with stack.container.db.unit_of_work(read_only=True) as session:
        query = select(LedgerEntry.entry_id, LedgerEntry.credits).where(LedgerEntry.kind == "grant")
        return {str(entry_id): int(credits) for entry_id, credits in session.execute(query)}


def test_an_account_of_200_subscriptions_is_imported_and_a_second_import_changes_nothing(
        adopting: Stack, catalog_path: Path) -> None:
    account = existing_account(adopting, count=203)  # seed 7: 203 customers, 200 of them subscribed
    host_of = {customer["id"]: customer["host_user_id"] for customer in account["customers"]}
    subscriptions = stripe_subscriptions(adopting)
    assert len(subscriptions) == 200

    first = run_import(adopting, account["test_clock"], "--metadata-key", "host_user_id")

    # Linked: the customers whose metadata names their host user; the others are listed.
    linked = {cus for cus, host in host_of.items() if host}
    report = first.json
    assert (report["customers_seen"], report["linked_by_metadata"], report["linked_by_mapping"]) == (
        203, len(linked), 0)
    assert sorted(report["unlinked"]) == sorted(set(host_of) - linked)
    assert report["conflicts"] == []
    # Mirrored: every subscription of a linked customer, unless its price stands for no plan while it
    # grants access (a canceled one is kept, with no plan).
    expected = {
        sub.id: (host_of[sub.customer], sub.status, plan_of(sub), sub["items"].data[0].quantity,
                 sum(item.price.unit_amount * item.quantity for item in sub["items"].data), "usd")
        for sub in subscriptions
        if sub.customer in linked and (plan_of(sub) is not None or sub.status not in SERVING)
    }
    assert mirror_rows(adopting) == expected
    assert any(row[3] > 1 for row in expected.values())  # seats
    assert (report["subscriptions_seen"], report["subscriptions_mirrored"],
            report["subscriptions_skipped"]) == (200, len(expected), 200 - len(expected))
    # Reported: the retired price and the hand-made one, each with how many it bills and left out.
    unmapped = Counter(sub["items"].data[0].price.id for sub in subscriptions if plan_of(sub) is None)
    left_out = Counter(sub["items"].data[0].price.id for sub in subscriptions
                       if plan_of(sub) is None and sub.customer in linked and sub.status in SERVING)
    prices = account["prices"]
    assert {(p["price_id"], p["lookup_key"], p["subscriptions"], p["not_mirrored"])
            for p in report["unmapped_prices"]} == {
        (prices["legacy"], "pro_monthly_2024", unmapped[prices["legacy"]], left_out[prices["legacy"]]),
        (prices["custom"], None, unmapped[prices["custom"]], left_out[prices["custom"]]),
    }
    # Granted: the current period of every mirrored serving subscription, once, by the invoice that
    # paid for it (the entry its invoice.paid webhook would write), with its plan's monthly credits.
    # A renewal Stripe has not finalized yet (a draft for its first hour) grants nothing now: its
    # invoice.paid will, through the webhook.
    serving = [sub for sub in subscriptions if sub.id in expected and sub.status in SERVING]
    paid = {sub.id for sub in serving
            if adopting.stripe.v1.invoices.retrieve(sub.latest_invoice).status == "paid"}
    expected_grants = {f"invoice:{sub.latest_invoice}": CREDITS_OF_PLAN[str(plan_of(sub))]
                       for sub in serving if sub.id in paid}
    assert grants(adopting) == expected_grants
    assert (report["grants_written"], report["credits_granted"], report["without_paid_period"]) == (
        len(expected_grants), sum(expected_grants.values()), len(serving) - len(paid))
    with adopting.container.db.unit_of_work(read_only=True) as session:
        assert ledger.verify(session) == []
    # Progress, every 50 customers, on stderr (stdout is the one JSON document).
    assert re.findall(r"(\d+)/203 customers imported", first.stderr) == ["50", "100", "150", "200", "203"]

    before = every_row(adopting)
    again = run_import(adopting, account["test_clock"], "--metadata-key", "host_user_id").json
    assert every_row(adopting) == before
    assert (again["grants_written"], again["grants_already_made"], again["credits_granted"]) == (
        0, len(expected_grants), 0)
    assert again["subscriptions_mirrored"] == report["subscriptions_mirrored"]

    # MRR: each paying subscription's items (unit amount x quantity) less its coupon, a yearly one a
    # twelfth, summed exactly and rounded once. Only what was mirrored counts: trials are not revenue.
    def monthly(sub: Any) -> Fraction:
        amount = sum(item.price.unit_amount * item.quantity for item in sub["items"].data)
        for discount in sub.discounts:
            coupon = discount.source.coupon
            if coupon.percent_off:
                amount -= (amount * int(coupon.percent_off) + 50) // 100  # half up
            else:
                amount -= min(amount, coupon.amount_off)
        return Fraction(amount, 12 if sub["items"].data[0].price.recurring.interval == "year" else 1)

    paying = [sub for sub in subscriptions if sub.id in expected and sub.status in ("active", "past_due")]
    assert any(sub.discounts for sub in paying)
    hand_computed = sum((monthly(sub) for sub in paying), Fraction(0))
    with adopting.container.db.unit_of_work(read_only=True) as session:
        figures = analytics.figures(session, catalog=load_catalog(catalog_path), now=T0)
    assert figures.mrr_minor == {"usd": int(hand_computed + Fraction(1, 2))}
    assert figures.mrr.estimated == 0


def test_a_dry_run_writes_nothing_and_reports_what_the_import_does(adopting: Stack) -> None:
    account = existing_account(adopting, count=25, seed=3)
    untouched = every_row(adopting)

    dry = run_import(adopting, account["test_clock"], "--metadata-key", "host_user_id", "--dry-run")
    assert every_row(adopting) == untouched
    assert "25/25 customers checked" in dry.stderr
    env = {**cli_env(adopting), "COINSLOT_STRIPE_TEST_CLOCK": account["test_clock"],
           "COINSLOT_STRIPE_TEST_CLOCK_POLL_S": "86400"}
    told = CliRunner().invoke(cli, ["import", "--from-stripe", "--metadata-key", "host_user_id", "--dry-run"],
                              env=env)
    assert told.exit_code == 0, told.output
    assert told.stdout.startswith("dry run: nothing was written")
    assert f"customers: 25 read, {dry.json['linked_by_metadata']} linked" in told.stdout
    assert account["prices"]["custom"] in told.stdout  # in the table of prices no plan stands for
    assert every_row(adopting) == untouched

    done = run_import(adopting, account["test_clock"], "--metadata-key", "host_user_id").json
    assert {**dry.json, "dry_run": False} == done
    assert done["subscriptions_mirrored"] > 0
    assert done["grants_written"] > 0
    assert every_row(adopting) != untouched


def test_a_mapping_file_links_the_customers_metadata_does_not_and_a_bad_line_is_named(
        adopting: Stack, tmp_path: Path) -> None:
    account = existing_account(adopting, count=25, seed=3)
    unnamed = [customer["id"] for customer in account["customers"] if not customer["host_user_id"]]
    assert unnamed
    untouched = every_row(adopting)

    bad = tmp_path / "users.csv"
    bad.write_text("host_user_id,stripe_customer_id\n"
                   f"mapped_0,{unnamed[0]}\n"
                   "mapped_1,cus bad id\n")
    refused = run_import(adopting, account["test_clock"], "--mapping", str(bad), exit_code=2).json
    assert refused["error"]["field"] == "stripe_customer_id"
    assert refused["error"]["message"].startswith(f"{bad}, line 3, stripe_customer_id: ")
    assert every_row(adopting) == untouched  # refused before anything was read or written

    good = tmp_path / "users-fixed.csv"
    good.write_text("stripe_customer_id,host_user_id\n"  # columns by name, in any order
                    + "".join(f"{customer_id},mapped_{n}\n" for n, customer_id in enumerate(unnamed))
                    + "cus_NotInThisAccount,someone_else\n")
    report = run_import(adopting, account["test_clock"], "--mapping", str(good),
                        "--metadata-key", "host_user_id").json
    assert (report["linked_by_mapping"], report["unlinked"]) == (len(unnamed), [])
    assert report["mapping_unused"] == ["cus_NotInThisAccount"]
    with adopting.container.db.unit_of_work(read_only=True) as session:
        linked = {str(customer_id): host for customer_id, host
                  in session.execute(select(Customer.stripe_customer_id, Customer.host_user_id))}
    assert {linked[customer_id] for customer_id in unnamed} == {f"mapped_{n}" for n in range(len(unnamed))}

    # A file that would move a link is refused for that customer, which is left as it was.
    named = next(customer for customer in account["customers"] if customer["host_user_id"])
    moving = tmp_path / "users-moving.csv"
    moving.write_text(f"host_user_id,stripe_customer_id\nsomeone_new,{named['id']}\n")
    before = every_row(adopting)
    report = run_import(adopting, account["test_clock"], "--mapping", str(moving),
                        "--metadata-key", "host_user_id").json
    assert report["conflicts"] == [{
        "stripe_customer_id": named["id"], "host_user_id": "someone_new",
        "reason": f"Stripe customer {named['id']} is linked to host user {named['host_user_id']!r}"}]
    assert every_row(adopting) == before


def test_mrr_of_an_adopted_account_is_its_hand_computed_revenue_in_each_currency(adopting: Stack) -> None:
    stripe = adopting.stripe
    # coinslot's clock starts at the account's time: stripesim delivers each webhook as it is made, in the
    # background, and an event stored at today's date would not be due on a clock moved back to T0 later.
    adopting.clock.move_to(T0)
    clock = stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": int(T0.timestamp())})

    def price(product: str, amount_minor: int, interval: str, currency: str = "usd", lookup_key: str = "",
              metadata: dict[str, str] | None = None) -> str:
        params: dict[str, Any] = {"product_data": {"name": product}, "unit_amount": amount_minor,
                                  "currency": currency, "recurring": {"interval": interval},
                                  "metadata": metadata or {}}
        if lookup_key:
            params["lookup_key"] = lookup_key
        return str(stripe.v1.prices.create(params=params).id)

    pro_monthly = price("Pro", 2900, "month", lookup_key="pro_monthly")
    pro_yearly = price("Pro", 29000, "year", lookup_key="pro_yearly")
    team_seat = price("Team", 1500, "month", lookup_key="team_seat_monthly")
    extra_tokens = price("Extra tokens", 500, "month")  # an add-on: no plan, but billed every month
    # A euro price made outside coinslot: it names its plan by the metadata `catalog push` writes.
    pro_monthly_eur = price("Pro (EUR)", 2700, "month", currency="eur", metadata={"coinslot_key": "plan:pro"})
    stripe.v1.coupons.create(params={"id": "LAUNCH20", "percent_off": 20, "duration": "forever"})

    def subscriber(user: str, items: list[dict[str, Any]], **extra: Any) -> None:
        customer = stripe.v1.customers.create(params={
            "email": f"{user}@example.com", "metadata": {"coinslot_user_id": user},  # coinslot's own key
            "payment_method": "pm_card_visa", "invoice_settings": {"default_payment_method": "pm_card_visa"},
            "test_clock": clock.id})
        stripe.v1.subscriptions.create(params={"customer": customer.id, "items": items, **extra})

    subscriber("ada", [{"price": pro_monthly}], discounts=[{"coupon": "LAUNCH20"}])
    subscriber("bob", [{"price": team_seat, "quantity": 5}, {"price": extra_tokens, "quantity": 2}])
    for user in ("cy", "di", "ed"):
        subscriber(user, [{"price": pro_yearly}])
    subscriber("fe", [{"price": pro_monthly_eur}])
    subscriber("gil", [{"price": pro_monthly}], trial_period_days=14)

    report = run_import(adopting, clock.id).json
    assert (report["linked_by_metadata"], report["subscriptions_mirrored"]) == (7, 7)
    with adopting.container.db.unit_of_work(read_only=True) as session:
        query = (select(Customer.host_user_id, Subscription.quantity, Subscription.period_amount_minor,
                        Subscription.period_discount_minor)
                 .join(Customer, Customer.id == Subscription.customer_id))
        billed = {str(row[0]): tuple(row[1:]) for row in session.execute(query)}
    assert billed["ada"] == (1, 2900, 580)
    assert billed["bob"] == (5, 5 * 1500 + 2 * 500, 0)

    # By hand, in cents a month:
    #   ada  Pro $29.00, 20% off                      2900 - 580           =  2320
    #   bob  5 Team seats at $15.00 + 2 x $5.00 extra 5 x 1500 + 2 x 500   =  8500
    #   cy, di, ed  Pro yearly $290.00                3 x 29000 / 12       =  7250
    #        (2416 2/3 each: rounded once, 7250; rounded per subscription it would be 3 x 2417 = 7251)
    #   fe   Pro EUR 27.00                                                 =  2700 EUR, apart
    #   gil  on a trial: not revenue yet
    usd = 2320 + 8500 + 7250
    with adopting.container.db.unit_of_work(read_only=True) as session:
        figures = analytics.figures(session, catalog=load_catalog(adopting.container.settings.catalog_path),
                                    now=T0)
    assert figures.mrr_minor == {"eur": 2700, "usd": usd} == {"eur": 2700, "usd": 18070}
    assert [(line.plan_key, line.interval, line.currency, line.subscriptions, line.mrr_minor)
            for line in figures.mrr.lines] == [
        ("pro", "month", "eur", 1, 2700),
        ("pro", "month", "usd", 1, 2320), ("pro", "year", "usd", 3, 7250), ("team", "month", "usd", 1, 8500),
    ]

    # The account's webhooks, stored as they came and applied only now: every invoice.paid replays the
    # grant the import made (the same entry), and each re-read subscription bills what the import mirrored.
    granted = grants(adopting)
    assert len(granted) == 7
    assert adopting.settle() > 0
    assert grants(adopting) == granted
    with adopting.container.db.unit_of_work(read_only=True) as session:
        assert analytics.figures(session, catalog=load_catalog(adopting.container.settings.catalog_path),
                                 now=T0).mrr == figures.mrr

    # The same figures from the admin console, as CSV, at the account's time.
    with httpx.Client(base_url=adopting.url, timeout=30) as browser:
        form = browser.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        browser.post("/admin/login", data={"csrf_token": token.group(1), "password": ADMIN_PASSWORD})
        exported = browser.get("/admin/figures.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0] == "figure,plan,interval,currency,subscriptions,value"
    assert "mrr_minor,,,eur,1,2700" in lines
    assert "mrr_minor,,,usd,5,18070" in lines
    assert "mrr_minor,pro,year,usd,3,7250" in lines
