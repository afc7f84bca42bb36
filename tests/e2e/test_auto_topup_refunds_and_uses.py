"""Patch-Hive's auto top-up, after the charge and beyond consume and hold, end to end on stripesim.

A top-up the operator refunds at Stripe (in full, or in part) gives its credits back the way a refunded
pack does: each refund takes its share once, however often its event is processed, and what was spent
becomes debt. A raw spend (`POST /v1/credits/{id}/spend`) and a capture that draws more than its hold
top up like a consume does, once while a top-up is open. `credits verify` is clean after each story.
"""

from __future__ import annotations

import httpx
import pytest

from coinslot.webhooks import worker as webhook_worker
from tests.e2e.billing import alerts, inbox
from tests.e2e.billing_user import URLS, User, assert_ledger_exact, credits, push_catalog
from tests.e2e.test_auto_topup_stories import (
    PACK_CREDITS,
    PACK_MINOR,
    auto_topup,
    charge_due_topups,
    exports,
    topup_payments,
    turn_on,
)
from tests.support.stack import Stack

CORE_CREDITS = 25


@pytest.fixture
def patch_hive(stack: Stack) -> Stack:
    push_catalog(stack, "patch_hive")
    return stack


def topped_up(stack: Stack, user: User) -> str:
    """A Core subscriber with auto top-up on exports down to 4 credits and is topped up to 29; returns the
    PaymentIntent that paid."""
    user.subscribe("core")
    turn_on(user)
    assert exports(user, [f"export-{n}" for n in range(7)]) == [200] * 7  # 25 -> 4
    assert charge_due_topups(stack) == 1
    assert user.credits()["available_credits"] == 4 + PACK_CREDITS
    [payment] = [pi for pi in stack.stripe.v1.payment_intents.list(
        params={"customer": user.stripe_customer_id}).data if "coinslot_auto_topup" in pi.metadata]
    return str(payment.id)


def refund(stack: Stack, payment_intent: str, amount_minor: int | None = None) -> str:
    """The operator refunds (part of) the top-up's payment in Stripe's dashboard; the refund's id."""
    params: dict[str, object] = {"payment_intent": payment_intent}
    if amount_minor is not None:
        params["amount"] = amount_minor
    return stack.stripe.v1.refunds.create(params=params).id  # type: ignore[arg-type]


def refunds_in_ledger(user: User) -> list[tuple[str, int]]:
    return [(entry_id, delta) for entry_id, kind, delta, _after in user.entries() if kind == "refund"]


def process_every_refund_event_again(stack: Stack) -> None:
    """An operator replays each processed charge.refunded: the handler runs again on the same charge."""
    for event in inbox(stack, "charge.refunded"):
        webhook_worker.replay(stack.container, event_ref=event.id)
    stack.settle()


def test_a_refunded_top_up_takes_its_credits_back_and_what_was_spent_of_them_becomes_debt(
    patch_hive: Stack,
) -> None:
    maya = User.on_test_clock(patch_hive, "maya")
    payment_intent = topped_up(patch_hive, maya)  # 4 of the month's credits + 25 of the top-up
    assert exports(maya, ["after-1", "after-2"]) == [200, 200]  # 29 -> 23: the month's 4, then 2 of the pack
    refund_id = refund(patch_hive, payment_intent)
    patch_hive.settle()
    assert refunds_in_ledger(maya) == [(f"refund:{refund_id}", -23)]
    assert maya.credits() == credits(0, period=CORE_CREDITS, debt=2)
    assert [row.status for row in inbox(patch_hive, "charge.refunded")] == ["processed"]
    assert alerts(patch_hive) == []  # mapped: no refund.unmapped

    process_every_refund_event_again(patch_hive)
    assert refunds_in_ledger(maya) == [(f"refund:{refund_id}", -23)]
    assert maya.credits() == credits(0, period=CORE_CREDITS, debt=2)
    assert charge_due_topups(patch_hive) == 0  # a refund is not a use: it starts no top-up
    assert topup_payments(patch_hive, maya) == [(PACK_MINOR, "succeeded")]
    assert_ledger_exact(patch_hive)


def test_partial_refunds_of_a_top_up_take_back_their_share_each_once(patch_hive: Stack) -> None:
    lea = User.on_test_clock(patch_hive, "lea")
    payment_intent = topped_up(patch_hive, lea)  # $5.00 for 25 credits: $0.20 a credit
    patch_hive.sim.faults.configure({"seed": 7, "webhooks": {"duplicate": 1.0, "shuffle": True}})
    first = refund(patch_hive, payment_intent, 100)  # $1.00: 5 credits
    second = refund(patch_hive, payment_intent, 250)  # $2.50: 12.5 credits, 17 of 17.5 so far (rounded down)
    patch_hive.settle()
    assert sorted(refunds_in_ledger(lea)) == sorted([(f"refund:{first}", -5), (f"refund:{second}", -12)])
    assert lea.credits() == credits(29 - 17, period=CORE_CREDITS)

    process_every_refund_event_again(patch_hive)
    assert sorted(refunds_in_ledger(lea)) == sorted([(f"refund:{first}", -5), (f"refund:{second}", -12)])
    last = refund(patch_hive, payment_intent)  # the rest of the money: the rest of the top-up's credits
    patch_hive.settle()
    assert refunds_in_ledger(lea)[2:] == [(f"refund:{last}", -8)]
    assert lea.credits() == credits(4, period=CORE_CREDITS)  # the month's own 4 stay
    assert alerts(patch_hive) == []
    assert auto_topup(lea)["enabled"] is True  # a refund does not turn auto top-up off
    assert_ledger_exact(patch_hive)


def test_a_raw_spend_under_the_threshold_tops_up_once(patch_hive: Stack) -> None:
    ada = User.on_test_clock(patch_hive, "ada")
    ada.subscribe("core")
    turn_on(ada)

    def spend(key: str, amount: int) -> httpx.Response:
        return patch_hive.api.post(f"/v1/credits/{ada.host_user_id}/spend",
                                   json={"credits": amount, "idempotency_key": key, "feature": "export"})

    assert spend("big", 18).status_code == 200  # 25 -> 7: not under 6
    assert charge_due_topups(patch_hive) == 0
    assert spend("small", 3).status_code == 200  # 7 -> 4
    assert spend("smaller", 1).status_code == 200  # 4 -> 3: one top-up is open already
    assert spend("small", 3).json()["replayed"] is True  # a retried spend starts nothing either
    assert charge_due_topups(patch_hive) == 1
    assert ada.credits()["available_credits"] == 3 + PACK_CREDITS
    assert topup_payments(patch_hive, ada) == [(PACK_MINOR, "succeeded")]
    assert auto_topup(ada)["month_count"] == 1
    assert_ledger_exact(patch_hive)


def test_a_capture_that_draws_more_than_its_hold_tops_up_and_one_within_it_does_not(
    patch_hive: Stack,
) -> None:
    eve = User.on_test_clock(patch_hive, "eve")
    eve.subscribe("core")
    turn_on(eve)

    def hold(key: str, amount: int) -> int:
        held = patch_hive.api.post("/v1/holds", json={
            "user_id": eve.host_user_id, "feature": "export", "idempotency_key": key, "credits": amount,
            "timeout_s": 600})
        assert held.status_code == 200, held.text
        hold_id: int = held.json()["hold_id"]
        return hold_id

    def capture(hold_id: int, amount: int) -> httpx.Response:
        return patch_hive.api.post(f"/v1/holds/{hold_id}/capture", json={"credits": amount})

    within = hold("within", 10)  # 25 -> 15
    assert capture(within, 10).status_code == 200  # draws nothing more: 15
    assert charge_due_topups(patch_hive) == 0
    beyond = hold("beyond", 5)  # 15 -> 10: above the threshold, no top-up
    assert charge_due_topups(patch_hive) == 0
    captured = capture(beyond, 12)  # 7 more than held: 10 -> 3
    assert captured.status_code == 200, captured.text
    assert captured.json()["balance_after"] == 3
    assert capture(beyond, 12).json()["replayed"] is True  # the retry starts no second top-up
    assert charge_due_topups(patch_hive) == 1
    assert eve.credits()["available_credits"] == 3 + PACK_CREDITS
    assert topup_payments(patch_hive, eve) == [(PACK_MINOR, "succeeded")]
    assert_ledger_exact(patch_hive)


def test_the_api_turn_on_returns_with_the_session_id_and_fulfil_confirms_the_card(patch_hive: Stack) -> None:
    bo = User.on_test_clock(patch_hive, "bo")
    bo.subscribe("core")
    started = patch_hive.api.post(f"/v1/customers/{bo.host_user_id}/auto_topup",
                                  json={"consent": True, **URLS})
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]
    sim_url = patch_hive.sim_server.url
    saved = httpx.post(f"{sim_url}/_sim/checkout/sessions/{session_id}/complete",
                       json={"payment_method": "pm_card_visa"}, timeout=30)
    assert saved.status_code == 200, saved.text
    # Stripe sends the browser back with the session's id filled in, as after any other Checkout.
    assert saved.json()["success_url"] == (
        URLS["success_url"] + "?checkout_status=success&session_id={CHECKOUT_SESSION_ID}")
    assert auto_topup(bo)["enabled"] is False  # no webhook applied yet
    fulfilled = patch_hive.api.post(f"/v1/checkout/sessions/{session_id}/fulfil",
                                    params={"host_user_id": bo.host_user_id})
    assert fulfilled.status_code == 200, fulfilled.text
    assert {key: fulfilled.json()[key] for key in ("mode", "applied", "reason", "credits")} == {
        "mode": "setup", "applied": True, "reason": "auto_topup_on", "credits": 0}
    state = auto_topup(bo)
    assert (state["enabled"], state["setup_pending"]) == (True, False)
    again = patch_hive.api.post(f"/v1/checkout/sessions/{session_id}/fulfil",
                                params={"host_user_id": bo.host_user_id})
    assert (again.json()["applied"], again.json()["reason"]) == (False, "auto_topup_on")
    other = patch_hive.api.post(f"/v1/checkout/sessions/{session_id}/fulfil", params={"host_user_id": "eve"})
    assert other.status_code == 404
    patch_hive.settle()  # the webhook finds it done
    assert auto_topup(bo)["enabled"] is True
    assert_ledger_exact(patch_hive)
