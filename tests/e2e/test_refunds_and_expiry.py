"""Money going back, and checkouts abandoned: credit packs refunded in part or in full, expired sessions."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from coinslot.models import CheckoutSession
from tests.e2e.billing import (
    RETURN_URLS,
    alerts,
    buy_credits,
    inbox,
    ledger,
    pay,
    push_catalog,
    start_checkout,
    subscribe,
    summary,
)
from tests.support.stack import Stack


def refund(stack: Stack, session_id: str, amount_minor: int | None = None) -> str:
    """The merchant refunds (part of) a Checkout payment in Stripe's dashboard; returns the refund id."""
    session = stack.stripe.v1.checkout.sessions.retrieve(session_id)
    params: dict[str, object] = {"payment_intent": str(session.payment_intent)}
    if amount_minor is not None:
        params["amount"] = amount_minor
    return stack.stripe.v1.refunds.create(params=params).id  # type: ignore[arg-type]


def test_a_partial_refund_of_a_credit_pack_claws_back_its_share_and_the_rest_goes_with_the_full_refund(
    stack: Stack,
) -> None:
    push_catalog(stack)
    session_id = buy_credits(stack, "refund_1", 30)  # $6.00 for 30 credits
    stack.settle()
    assert ledger(stack, "refund_1") == [(f"checkout:{session_id}", "purchase", 30)]
    first = refund(stack, session_id, 100)  # $1.00: 5 credits' worth
    second = refund(stack, session_id, 150)  # $1.50: 7.5 credits' worth; 12 of 12.5 so far (rounded down)
    stack.settle()
    assert ledger(stack, "refund_1")[1:] == [
        (f"refund:{first}", "refund", -5),
        (f"refund:{second}", "refund", -7),
    ]
    last = refund(stack, session_id)  # the rest of the money: all the credits that are left
    stack.settle()
    assert ledger(stack, "refund_1")[3:] == [(f"refund:{last}", "refund", -18)]
    assert summary(stack, "refund_1")["credits"]["available"] == 0
    assert [row.status for row in inbox(stack, "charge.refunded")] == ["processed"] * 3


def test_refund_events_delivered_twice_and_out_of_order_take_each_share_once(stack: Stack) -> None:
    push_catalog(stack)
    session_id = buy_credits(stack, "refund_2", 50)  # $10.00
    stack.settle()
    stack.sim.faults.configure({"seed": 3, "webhooks": {"duplicate": 1.0, "shuffle": True}})
    first = refund(stack, session_id, 200)  # 10 credits
    second = refund(stack, session_id, 300)  # 15 credits
    stack.settle()
    assert sorted(ledger(stack, "refund_2")[1:]) == sorted(
        [(f"refund:{first}", "refund", -10), (f"refund:{second}", "refund", -15)]
    )
    assert summary(stack, "refund_2")["credits"]["available"] == 25


def test_a_refund_of_a_subscription_invoice_raises_an_alert_and_takes_nothing(stack: Stack) -> None:
    push_catalog(stack)
    subscribe(stack, "refund_3")
    stack.settle()
    [invoice] = stack.stripe.v1.invoices.list(params={"limit": 1}).data
    charge = stack.stripe.v1.charges.list(params={"limit": 1}).data[0]
    assert charge.amount == invoice.amount_paid
    stack.stripe.v1.refunds.create(params={"charge": charge.id})
    stack.settle()
    assert [row.status for row in inbox(stack, "charge.refunded")] == ["processed"]
    assert [(alert.code, alert.subject_id) for alert in alerts(stack)] == [("refund.unmapped", charge.id)]
    assert [entry[1] for entry in ledger(stack, "refund_3")] == ["grant"]


def test_an_expired_checkout_closes_the_attempt_and_the_order_stays_a_resumable_draft(stack: Stack) -> None:
    push_catalog(stack)
    started = start_checkout(
        stack, host_user_id="expired_1", email="expired_1@example.com", pack="credits", quantity=40
    )
    httpx.post(f"{stack.sim_server.url}/_sim/checkout/sessions/{started['session_id']}/expire", timeout=30)
    stack.settle()
    [expired] = inbox(stack, "checkout.session.expired")
    assert (expired.status, expired.object_id) == ("processed", started["session_id"])
    assert attempt_status(stack, started["session_id"]) == "expired"
    assert ledger(stack, "expired_1") == []
    # The user comes back and buys again: a new session, paid, credited once.
    again = start_checkout(stack, host_user_id="expired_1", pack="credits", quantity=40)
    assert again["session_id"] != started["session_id"]
    pay(stack, again["session_id"])
    stack.settle()
    assert ledger(stack, "expired_1") == [(f"checkout:{again['session_id']}", "purchase", 40)]
    assert attempt_status(stack, started["session_id"]) == "expired"


def test_an_expired_order_checkout_leaves_the_order_draft_and_resumable(database_url: str) -> None:
    stack = Stack.start(database_url, catalog="skinova")
    try:
        push_catalog(stack, "skinova")
        form = {"notes": "dry patch near the elbow"}
        order = stack.api.post(
            "/v1/orders", json={"host_user_id": "skin_1", "product": "consultation", "payload": form}
        ).json()
        first = stack.api.post(f"/v1/orders/{order['id']}/checkout", json=RETURN_URLS).json()
        httpx.post(f"{stack.sim_server.url}/_sim/checkout/sessions/{first['session_id']}/expire", timeout=30)
        stack.settle()
        assert [row.status for row in inbox(stack, "checkout.session.expired")] == ["processed"]
        assert attempt_status(stack, first["session_id"]) == "expired"
        kept = stack.api.get(f"/v1/orders/{order['id']}").json()
        assert (kept["status"], kept["payload"]) == ("draft", form)
        resumed = stack.api.post(f"/v1/orders/{order['id']}/checkout", json=RETURN_URLS).json()
        pay(stack, resumed["session_id"])
        stack.settle()
        paid = stack.api.get(f"/v1/orders/{order['id']}").json()
        assert (paid["status"], paid["checkout_session_id"]) == ("paid", resumed["session_id"])
    finally:
        stack.stop()


def attempt_status(stack: Stack, stripe_session_id: str) -> str:
    """coinslot's own record of a checkout attempt: open, expired, fulfilled..."""
    with stack.container.db.unit_of_work(read_only=True) as session:
        query = select(CheckoutSession.status).where(CheckoutSession.stripe_session_id == stripe_session_id)
        return str(session.scalars(query).one())
