"""Patch-Hive's credits, end to end: coinslot's REST API, stripesim with test clocks, real webhooks.

CORE grants 25 credits a month, an export costs 3 (the 9th is refused with 402),
credits sell at $0.20 with a $5 minimum, STUDIO exports without counting, a
refunded pack is taken back, and plan changes never hand out more than the
best plan's allowance. Every story ends with `credits verify` clean.
(The same rules at the service level: tests/integration/test_entitlement_stories.py.)
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.e2e.billing_user import PAST_RENEWAL, User, assert_ledger_exact, credits, push_catalog
from tests.support.dates import start_dates
from tests.support.stack import Stack


@pytest.fixture
def patch_hive(stack: Stack) -> Stack:
    push_catalog(stack, "patch_hive")
    return stack


@start_dates()
def test_core_exports_eight_times_is_refused_the_ninth_buys_the_minimum_and_renews(
    patch_hive: Stack, start_at: dt.datetime
) -> None:
    maya = User.on_test_clock(patch_hive, "maya", start_at)
    subscription = maya.subscribe("core")
    first_invoice = maya.latest_invoice(subscription)
    summary = maya.summary()
    assert (summary["plan"], summary["subscription"]["status"], summary["stripe_customer_id"]) == (
        "core",
        "active",
        maya.stripe_customer_id,
    )
    assert maya.credits() == credits(25, period=25)

    export_month = patch_hive.clock.now().strftime("%Y-%m")
    for number in range(8):
        used = maya.consume("export", f"export-{number}")
        assert used.status_code == 200, used.text
        assert (used.json()["cost"], used.json()["remaining"], used.json()["entry_id"]) == (
            3,
            22 - 3 * number,
            maya.key(f"export-{number}"),
        )
    refused = maya.consume("export", "export-8")
    assert refused.status_code == 402
    assert refused.json()["error"] == {
        "code": "insufficient_credits",
        "message": "insufficient credits: need 3, have 1",
        "needed": 3,
        "available": 1,
    }

    below = maya.start_checkout(pack="credits", quantity=24)  # $4.80
    assert below.status_code == 422
    assert below.json()["error"]["field"] == "quantity"
    assert "below the minimum of $5.00" in below.json()["error"]["message"]
    started = maya.start_checkout(pack="credits", quantity=25)
    assert (started.json()["mode"], started.json()["amount_total_minor"]) == ("payment", 500)
    pack = started.json()["session_id"]
    maya.pay(pack)
    assert maya.credits()["available_credits"] == 26
    # The refused one never reached Stripe.
    assert len(patch_hive.stripe.v1.checkout.sessions.list().data) == 2

    # Every webhook delivered twice: the renewal's credits are still granted once.
    httpx.post(f"{patch_hive.sim_server.url}/_sim/faults", json={"webhooks": {"duplicate": 1.0}}, timeout=30)
    renewal = maya.renew(subscription)
    paid_deliveries = httpx.get(
        f"{patch_hive.sim_server.url}/_sim/deliveries", params={"type": "invoice.paid"}
    )
    assert len(paid_deliveries.json()["data"]) == 3  # the first invoice once, the renewal twice
    invoice = patch_hive.stripe.v1.invoices.retrieve(renewal)
    assert (invoice.status, invoice.billing_reason, invoice.amount_paid) == (
        "paid",
        "subscription_cycle",
        499,
    )
    # The period's last credit expires; purchased credits are kept.
    assert maya.credits() == credits(50, period=25)
    spends = [(maya.key(f"export-{n}"), "spend", -3, 22 - 3 * n) for n in range(8)]
    assert maya.entries() == [
        (f"invoice:{first_invoice}", "grant", 25, 25),
        *spends,
        (f"checkout:{pack}", "purchase", 25, 26),
        (f"lot:{maya.lot_of(f'invoice:{first_invoice}')}:expired", "expire", -1, 25),
        (f"invoice:{renewal}", "grant", 25, 50),
    ]
    assert maya.history() == [{"month": export_month, "feature": "export", "uses": 8, "credits": 24}]
    assert_ledger_exact(patch_hive)


@start_dates()
def test_an_active_subscriber_keeps_exporting_between_the_period_end_and_the_paid_renewal(
    patch_hive: Stack, start_at: dt.datetime
) -> None:
    lea = User.on_test_clock(patch_hive, "lea", start_at)
    subscription = lea.subscribe("core")
    lea.buy("credits", quantity=25)
    first_invoice = lea.latest_invoice(subscription)
    period_end = lea.period_end(subscription)
    # Stripe finalizes (and charges) the renewal about an hour after the period ends.
    patch_hive.advance_clock(lea.test_clock_id, to=period_end + dt.timedelta(minutes=30))
    patch_hive.settle()
    pending = patch_hive.stripe.v1.invoices.retrieve(lea.latest_invoice(subscription))
    assert pending.id == first_invoice or pending.status != "paid"
    used = lea.consume("export", "export-in-the-gap")
    assert used.status_code == 200, used.text
    assert used.json()["remaining"] == 47  # the ended period's credits, drawn first, then the pack's

    patch_hive.advance_clock(lea.test_clock_id, to=period_end + PAST_RENEWAL)
    patch_hive.settle()
    renewal = lea.latest_invoice(subscription)
    assert lea.credits() == credits(50, period=25)  # the new period's 25 and the pack's 25
    assert lea.entries()[-2:] == [
        (f"lot:{lea.lot_of(f'invoice:{first_invoice}')}:expired", "expire", -22, 25),
        (f"invoice:{renewal}", "grant", 25, 50),
    ]
    assert_ledger_exact(patch_hive)


def test_a_studio_subscriber_exports_without_limit_and_every_use_is_recorded(patch_hive: Stack) -> None:
    sam = User.on_test_clock(patch_hive, "sam")
    subscription = sam.subscribe("studio")
    month = patch_hive.clock.now().strftime("%Y-%m")
    for number in range(30):
        used = sam.consume("export", f"export-{number}")
        assert used.status_code == 200, used.text
        assert (used.json()["allowed"], used.json()["reason"], used.json()["remaining"]) == (
            True,
            "unlimited",
            None,
        )
    assert sam.summary()["credits"] == {"available": 0, "held": 0, "period_allowance": 0, "unlimited": True}
    assert sam.history() == [{"month": month, "feature": "export", "uses": 30, "credits": 90}]
    assert sam.entries() == [
        (f"invoice:{sam.latest_invoice(subscription)}", "grant", 0, 0),
        *[(sam.key(f"export-{n}"), "spend", 0, 0) for n in range(30)],
    ]
    assert_ledger_exact(patch_hive)


def test_a_refunded_pack_is_taken_back_and_what_was_spent_is_repaid_by_the_next_period(
    patch_hive: Stack,
) -> None:
    noor = User.on_test_clock(patch_hive, "noor")
    subscription = noor.subscribe("core")
    pack = noor.buy("credits", quantity=30)  # $6.00
    for number in range(12):  # 36 credits: the period's 25 first (they expire first), then 11 of the pack
        assert noor.consume("export", f"export-{number}").status_code == 200
    assert noor.credits()["available_credits"] == 19

    payment_intent = str(patch_hive.stripe.v1.checkout.sessions.retrieve(pack).payment_intent)
    refund = patch_hive.stripe.v1.refunds.create(params={"payment_intent": payment_intent})
    patch_hive.settle()
    # The 19 left of the pack are taken back; the 11 of it already spent become debt.
    assert noor.credits() == credits(0, debt=11, period=25)
    assert noor.entries()[-1] == (f"refund:{refund.id}", "refund", -19, 0)
    refused = noor.consume("export", "export-12")
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        402,
        "insufficient credits: need 3, have 0",
    )

    renewal = noor.renew(subscription)
    assert noor.credits() == credits(14, period=25)
    assert noor.entries()[-1] == (f"invoice:{renewal}", "grant", 14, 14)
    assert_ledger_exact(patch_hive)


def test_an_upgrade_mid_period_grants_only_the_difference_and_the_renewal_the_new_plan(
    patch_hive: Stack,
) -> None:
    ola = User.on_test_clock(patch_hive, "ola")
    subscription = ola.subscribe("core")
    for number in range(3):
        ola.consume("export", f"export-{number}")
    ola.advance(days=10)
    changed = ola.change_plan("pro")  # now, prorated, invoiced at once
    assert (changed["plan_key"], changed["pending_plan_key"]) == ("pro", None)
    upgrade = patch_hive.stripe.v1.invoices.retrieve(ola.latest_invoice(subscription))
    assert (upgrade.status, upgrade.billing_reason) == ("paid", "subscription_update")
    assert ola.credits() == credits(91, period=100)
    assert ola.entries()[-1] == (f"invoice:{upgrade.id}", "grant", 75, 91)  # 100 - the 25 CORE gave

    renewal = ola.renew(subscription)
    assert ola.credits() == credits(100, period=100)
    assert ola.entries()[-1] == (f"invoice:{renewal}", "grant", 100, 100)
    assert_ledger_exact(patch_hive)


def test_upgrading_spending_and_downgrading_cannot_farm_credits(patch_hive: Stack) -> None:
    ida = User.on_test_clock(patch_hive, "ida")
    subscription = ida.subscribe("core")
    ida.advance(days=5)
    ida.change_plan("pro")
    assert ida.credits()["available_credits"] == 100
    for number in range(13):
        ida.consume("export", f"export-{number}")
    assert ida.credits()["available_credits"] == 61

    ida.change_plan("core", timing="now")  # a downgrade now caps the period's credits at CORE's 25
    assert ida.credits() == credits(25, period=25)
    ida.change_plan("pro")  # and upgrading again gives nothing: this period already had PRO's 100
    assert ida.credits() == credits(25, period=100)
    down_again = ida.change_plan("core")  # at the period end this time
    assert (down_again["plan_key"], down_again["pending_plan_key"]) == ("pro", "core")

    invoices = patch_hive.stripe.v1.invoices.list(params={"subscription": subscription}).data
    assert [invoice.status for invoice in invoices] == ["paid"] * 4  # checkout, up, down, up
    grants = [(entry_id, delta) for entry_id, kind, delta, _ in ida.entries() if kind == "grant"]
    assert grants == [
        (f"invoice:{invoices[3].id}", 25),
        (f"invoice:{invoices[2].id}", 75),
        (f"invoice:{invoices[1].id}", -36),  # the cap: 61 left, 25 allowed
        (f"invoice:{invoices[0].id}", 0),
    ]
    # What the period received in all: PRO's allowance, once.
    assert sum(delta for _, delta in grants if delta > 0) == 100

    renewal = ida.renew(subscription)
    assert ida.summary()["plan"] == "core"
    assert ida.credits() == credits(25, period=25)
    assert ida.entries()[-1] == (f"invoice:{renewal}", "grant", 25, 25)
    assert_ledger_exact(patch_hive)
