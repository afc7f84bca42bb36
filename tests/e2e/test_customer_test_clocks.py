"""In test mode a customer lives at their Stripe test clock's time, so a host's CI can test renewals end to
end: it advances a clock (as here, straight at stripesim), and coinslot grants, expires and ends grace
periods at that clock's time, while coinslot's own process clock stays where it is. Two customers on two
clocks at different dates each live at their own."""

from __future__ import annotations

import datetime as dt

import httpx

from tests.e2e.billing_user import PAST_RENEWAL, User, assert_ledger_exact, credits, push_catalog
from tests.support.stack import Stack

MAY = dt.datetime(2026, 5, 14, 10, 0, tzinfo=dt.UTC)
JANUARY = dt.datetime(2027, 1, 31, 12, 0, tzinfo=dt.UTC)


def on_own_clock(stack: Stack, host_user_id: str, frozen_at: dt.datetime) -> User:
    """A user on a test clock of their own, without moving coinslot's process clock."""
    frozen_time = int(frozen_at.timestamp())
    clock = stack.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": frozen_time})
    customer = stack.stripe.v1.customers.create(params={
        "email": f"{host_user_id}@example.com", "test_clock": clock.id,
        "metadata": {"coinslot_user_id": host_user_id}})
    return User(stack, host_user_id, clock.id, customer.id)


def advance_stripe_only(stack: Stack, user: User, to: dt.datetime) -> None:
    """What a host's CI does: move the Stripe test clock, let the webhooks arrive and apply."""
    httpx.post(f"{stack.sim_server.url}/_sim/test_clocks/{user.test_clock_id}/advance",
               json={"frozen_time": int(to.timestamp())}, timeout=60).raise_for_status()
    stack.settle()


def test_each_customer_renews_and_expires_at_their_own_clocks_time(stack: Stack) -> None:
    push_catalog(stack, "patch_hive")
    process_now = stack.clock.now()
    may, january = on_own_clock(stack, "may", MAY), on_own_clock(stack, "jan", JANUARY)
    may_subscription, jan_subscription = may.subscribe("core"), january.subscribe("core")
    used = may.consume("export", "m-1")
    assert used.json()["remaining"] == 22, used.text
    assert january.consume("export", "j-1").json()["remaining"] == 22

    renewal_at = may.period_end(may_subscription) + PAST_RENEWAL
    advance_stripe_only(stack, may, renewal_at)
    assert abs(stack.clock.now() - process_now) < dt.timedelta(minutes=5)  # coinslot's own time stayed
    # May renewed at her clock's time: the old period's 22 expired, the new 25 granted.
    assert may.credits() == credits(25, period=25)
    state = stack.api.get("/v1/customers/may/state").json()
    assert state["period_end"].startswith(may.period_end(may_subscription).strftime("%Y-%m-%d"))
    assert january.credits() == credits(22, period=25)  # January's clock did not move
    checked = stack.api.post("/v1/check", json={"host_user_id": "jan", "feature": "export"}).json()
    assert checked["remaining"] == 19
    may_history = stack.api.get("/v1/credits/may/history", params={"months": 2}).json()
    assert [row["month"] for row in may_history] == [MAY.strftime("%Y-%m")]  # the use was in May
    assert jan_subscription != may_subscription
    assert_ledger_exact(stack)


def test_a_past_due_grace_ends_at_the_clocks_time(stack: Stack) -> None:
    push_catalog(stack, "patch_hive")
    kim = on_own_clock(stack, "kim", MAY)
    subscription = kim.subscribe("core")
    # The card starts failing hard (a lost card): Stripe leaves the subscription past due for its retry
    # window (14 days) before the final action.
    httpx.post(f"{stack.sim_server.url}/_sim/billing/settings", json={"final_action": "past_due"},
               timeout=30).raise_for_status()  # and it stays past due after the last retry
    card = stack.stripe.v1.subscriptions.retrieve(subscription).default_payment_method
    httpx.post(f"{stack.sim_server.url}/_sim/payment_methods/{card}/behave_like",
               json={"card": "pm_card_visa_chargeDeclinedLostCard"}, timeout=30).raise_for_status()
    advance_stripe_only(stack, kim, kim.period_end(subscription) + PAST_RENEWAL)
    summary = stack.api.get("/v1/customers/kim").json()
    assert (summary["subscription"]["status"], summary["access_reason"]) == ("past_due", "past_due_in_grace")
    assert summary["plan"] == "core"
    # Four days on the clock later (the grace is three): Core no longer applies, at the clock's time.
    advance_stripe_only(stack, kim, kim.period_end(subscription) + dt.timedelta(days=4))
    summary = stack.api.get("/v1/customers/kim").json()
    assert summary["access_reason"] == "past_due_grace_over"
    assert summary["plan"] == "free"
