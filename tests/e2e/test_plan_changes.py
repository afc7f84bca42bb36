"""A subscriber changes their mind about a scheduled downgrade: upgrades instead, or keeps their plan.

The stories run on a Stripe test clock that stands still, so every change
happens at the very start of the period and the prorations are whole prices:
leaving Pro ($14.99) for Studio ($29.99) costs exactly $15.00.
"""

from __future__ import annotations

from tests.e2e.billing import mirror, push_catalog
from tests.e2e.billing_user import User, credits
from tests.support.stack import Stack


def invoice_amounts(stack: Stack, subscription_id: str) -> list[tuple[str, int]]:
    """(billing reason, amount paid in cents) of the subscription's invoices, oldest first."""
    invoices = stack.stripe.v1.invoices.list(params={"subscription": subscription_id}).data
    return [(invoice.billing_reason or "", invoice.amount_paid) for invoice in reversed(invoices)]


def price_at_stripe(stack: Stack, subscription_id: str) -> str | None:
    return stack.stripe.v1.subscriptions.retrieve(subscription_id)["items"].data[0].price.lookup_key


def pro_subscriber_who_scheduled_core(stack: Stack, host_user_id: str) -> tuple[User, str]:
    push_catalog(stack)
    user = User.on_test_clock(stack, host_user_id)
    sub_id = user.subscribe("pro")
    scheduled = user.change_plan("core")
    assert (scheduled["plan_key"], scheduled["pending_plan_key"]) == ("pro", "core")
    return user, sub_id


def test_an_upgrade_after_a_scheduled_downgrade_is_prorated_from_the_plan_paid_for(stack: Stack) -> None:
    dan, sub_id = pro_subscriber_who_scheduled_core(stack, "dan")

    upgraded = dan.change_plan("studio")

    assert (upgraded["plan_key"], upgraded["pending_plan_key"]) == ("studio", None)
    assert price_at_stripe(stack, sub_id) == "coinslot:plan:studio:month"
    # Studio less the unused Pro, not less the Core price Dan never used ($25.00).
    assert invoice_amounts(stack, sub_id) == [("subscription_create", 1499), ("subscription_update", 1500)]
    assert dan.summary()["plan"] == "studio"


def test_choosing_the_current_plan_while_a_downgrade_is_pending_undoes_it(stack: Stack) -> None:
    eve, sub_id = pro_subscriber_who_scheduled_core(stack, "eve")

    kept = eve.change_plan("pro")

    assert (kept["plan_key"], kept["pending_plan_key"]) == ("pro", None)
    assert price_at_stripe(stack, sub_id) == "coinslot:plan:pro:month"
    assert invoice_amounts(stack, sub_id) == [("subscription_create", 1499)]  # nothing charged or credited
    renewal = eve.renew(sub_id)
    assert invoice_amounts(stack, sub_id)[-1] == ("subscription_cycle", 1499)  # renews on Pro
    assert (eve.summary()["plan"], eve.credits()) == ("pro", credits(100, period=100))
    assert [entry for entry in eve.entries() if entry[1] == "grant"][-1][:3] == (
        f"invoice:{renewal}", "grant", 100)


def test_a_downgrade_stripe_does_not_accept_leaves_nothing_scheduled(stack: Stack) -> None:
    push_catalog(stack)
    fay = User.on_test_clock(stack, "fay")
    sub_id = fay.subscribe("pro")
    stack.sim.faults.configure(
        {"api": [{"status": 500, "path_prefix": f"/v1/subscriptions/{sub_id}", "method": "POST", "times": 1}]}
    )

    refused = stack.api.post("/v1/customers/fay/subscription/change", json={"plan": "core"})

    assert refused.status_code == 503, refused.text
    row = mirror(stack, sub_id)
    assert row is not None
    assert (row.plan_key, row.pending_plan_key) == ("pro", None)
    assert price_at_stripe(stack, sub_id) == "coinslot:plan:pro:month"
    retried = fay.change_plan("core")  # the next attempt goes through
    assert (retried["plan_key"], retried["pending_plan_key"]) == ("pro", "core")
