"""Patch-Hive's credits, end to end: coinslot's REST API, stripesim with test clocks, real webhooks.

CORE grants 25 credits a month, an export costs 3 (the 9th is refused with 402),
credits sell at $0.20 with a $5 minimum, STUDIO exports without counting, a
refunded pack is taken back, and plan changes never hand out more than the
best plan's allowance. Every story ends with `credits verify` clean.
(The same rules at the service level: tests/integration/test_entitlement_stories.py.)
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.billing_user import User, assert_ledger_exact, push_catalog
from tests.support.stack import Stack


@pytest.fixture
def patch_hive(stack: Stack) -> Stack:
    push_catalog(stack, "patch_hive")
    return stack


def test_core_exports_eight_times_is_refused_the_ninth_buys_the_minimum_and_renews(patch_hive: Stack) -> None:
    maya = User.on_test_clock(patch_hive, "maya")
    subscription = maya.subscribe("core")
    first_invoice = maya.latest_invoice(subscription)
    summary = maya.summary()
    assert (summary["plan"], summary["subscription"]["status"], summary["stripe_customer_id"]) == (
        "core",
        "active",
        maya.stripe_customer_id,
    )
    assert maya.credits() == {"available_credits": 25, "held_credits": 0, "debt_credits": 0, "period_credits": 25}

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
    assert len(patch_hive.stripe.v1.checkout.sessions.list().data) == 2  # the refused one never reached Stripe

    # Every webhook delivered twice: the renewal's credits are still granted once.
    httpx.post(f"{patch_hive.sim_server.url}/_sim/faults", json={"webhooks": {"duplicate": 1.0}}, timeout=30)
    renewal = maya.renew(subscription)
    invoice = patch_hive.stripe.v1.invoices.retrieve(renewal)
    assert (invoice.status, invoice.billing_reason, invoice.amount_paid) == ("paid", "subscription_cycle", 499)
    # The period's last credit expires; purchased credits are kept.
    assert maya.credits() == {"available_credits": 50, "held_credits": 0, "debt_credits": 0, "period_credits": 25}
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
