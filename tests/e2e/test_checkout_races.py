"""Two tabs, double clicks, and a session paid twice: one customer never pays for one thing twice.

Also: a pack bought through a session coinslot has no attempt row for (made
by an older deployment, say) gets the same expiry date whichever of the
webhook and the return page applies it first.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from coinslot.ledger import service as ledger
from tests.e2e.billing import RETURN_URLS, alerts, attempts, inbox, pay, push_catalog, start_checkout
from tests.support.stack import Stack


@pytest.fixture
def skinova(database_url: str) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog="skinova")
    push_catalog(running, "skinova")
    yield running
    running.stop()


@pytest.fixture
def quantipackai(database_url: str) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog="quantipackai")
    push_catalog(running, "quantipackai")
    yield running
    running.stop()


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response] = []

    def run(call: Callable[[], httpx.Response]) -> None:
        barrier.wait()
        answers.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def stripe_sessions(stack: Stack, host_user_id: str) -> list[Any]:
    query = f"metadata['coinslot_user_id']:'{host_user_id}'"
    customer = stack.stripe.v1.customers.search(params={"query": query})
    return list(stack.stripe.v1.checkout.sessions.list(params={"customer": customer.data[0].id}).data)


def session_like(stack: Stack, session_id: str) -> Any:
    """A second Checkout Session for the same purchase, made at Stripe outside coinslot's flow (an older
    release, a script): same customer, metadata and line, and no attempt row in coinslot."""
    model = stack.stripe.v1.checkout.sessions.retrieve(session_id, params={"expand": ["line_items"]})
    [line] = model.line_items.data
    return stack.stripe.v1.checkout.sessions.create(params={
        "mode": "payment", "customer": str(model.customer), "metadata": model.metadata.to_dict(),
        "line_items": [{"price": line.price.id, "quantity": line.quantity}],
        "success_url": RETURN_URLS["success_url"],
    })


def test_a_second_tab_gets_the_open_checkout_and_another_plan_replaces_it(stack: Stack) -> None:
    push_catalog(stack)
    first = start_checkout(stack, host_user_id="gus", plan="core", interval="month")
    second = start_checkout(stack, host_user_id="gus", plan="core", interval="month")
    assert second["session_id"] == first["session_id"]
    pro = start_checkout(stack, host_user_id="gus", plan="pro", interval="month")
    assert pro["session_id"] != first["session_id"]
    statuses = {session.id: session.status for session in stripe_sessions(stack, "gus")}
    # The abandoned Core checkout can no longer be paid: only one subscription can come of this.
    assert statuses == {first["session_id"]: "expired", pro["session_id"]: "open"}


def test_two_tabs_starting_a_subscription_at_once_open_one_checkout(stack: Stack) -> None:
    push_catalog(stack)
    start_checkout(stack, host_user_id="hal", pack="credits", quantity=25)  # the Stripe customer exists
    body = {**RETURN_URLS, "host_user_id": "hal", "plan": "pro", "interval": "month"}
    answers = at_once(*[lambda: stack.api.post("/v1/checkout/sessions", json=body)] * 2)
    started = {answer.json()["session_id"] for answer in answers if answer.status_code == 201}
    refused = [answer.json()["error"]["code"] for answer in answers if answer.status_code != 201]
    assert len(started) == 1
    assert refused in ([], ["checkout_open"])
    assert [session.mode for session in stripe_sessions(stack, "hal")].count("subscription") == 1


def test_two_resumes_of_one_order_at_once_lead_to_one_payable_session(skinova: Stack) -> None:
    order = skinova.api.post(
        "/v1/orders", json={"host_user_id": "ivy", "product": "consultation", "payload": {"skin": "dry"}}
    ).json()
    resume = f"/v1/orders/{order['id']}/checkout"
    answers = at_once(*[lambda: skinova.api.post(resume, json=RETURN_URLS)] * 2)
    started = {answer.json()["session_id"] for answer in answers if answer.status_code == 201}
    refused = [answer.json()["error"]["code"] for answer in answers if answer.status_code != 201]
    assert len(started) == 1
    assert refused in ([], ["checkout_open"])
    assert [session.status for session in stripe_sessions(skinova, "ivy")] == ["open"]


def test_an_order_paid_by_a_second_session_is_dead_at_once_with_an_alert(skinova: Stack) -> None:
    order = skinova.api.post(
        "/v1/orders", json={"host_user_id": "jon", "product": "consultation", "payload": {}}
    ).json()
    first = skinova.api.post(f"/v1/orders/{order['id']}/checkout", json=RETURN_URLS).json()
    stray = session_like(skinova, first["session_id"])
    pay(skinova, first["session_id"])
    skinova.settle()
    pay(skinova, stray.id)
    skinova.settle()
    completions = inbox(skinova, "checkout.session.completed")
    [completed] = [event for event in completions if stray.id in event.payload]
    assert (completed.status, attempts(skinova, completed.stripe_event_id)) == ("dead", ["dead"])
    assert [alert.code for alert in alerts(skinova)] == ["webhook.unprocessable"]
    assert "refund it" in (completed.last_error or "")


@pytest.mark.parametrize("first", ["webhook", "return_page"])
def test_a_pack_without_an_attempt_row_expires_a_year_after_its_session_whichever_path_applies_first(
    quantipackai: Stack, first: str
) -> None:
    stack = quantipackai
    started = start_checkout(stack, host_user_id="kim", pack="tokens_25")
    bare = session_like(stack, started["session_id"])
    pay(stack, bare.id)
    fulfil = f"/v1/checkout/sessions/{bare.id}/fulfil"
    if first == "return_page":
        assert stack.api.post(fulfil).status_code == 200
    stack.clock.move_to(stack.clock.now() + dt.timedelta(minutes=5))  # the other path comes later
    stack.settle()
    if first == "webhook":
        assert stack.api.post(fulfil).status_code == 200
    assert {event.status for event in inbox(stack, "checkout.session.completed")} == {"processed"}
    with stack.container.db.unit_of_work(read_only=True) as session:
        entry = ledger.find_entry(session, entry_id=f"checkout:{bare.id}")
    assert entry is not None
    assert entry.credits == 25
    # The 25 bought, and the free plan's 5 of this month that kim's first use will write (counted as the
    # check counts them: one balance everywhere).
    assert stack.api.get("/v1/credits/kim").json()["available_credits"] == 30
