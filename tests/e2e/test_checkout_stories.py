"""Checkout against stripesim, as the example customers' users live it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from tests.support.stack import CATALOGS, Stack


@pytest.fixture
def skinova(database_url: str) -> Iterator[Stack]:
    running = Stack.start(database_url, catalog="skinova")
    yield running
    running.stop()


URLS = {"success_url": "http://127.0.0.1:5000/billing", "cancel_url": "http://127.0.0.1:5000/pricing"}


def pushed(stack: Stack, catalog: str) -> None:
    gateway = stack.container.gateway
    catalog_flows.apply_push(
        gateway, catalog_flows.plan_push(gateway, load_catalog(CATALOGS / f"{catalog}.toml"))
    )


def pay(stack: Stack, session_id: str, card: str = "pm_card_visa") -> httpx.Response:
    return httpx.post(
        f"{stack.sim_server.url}/_sim/checkout/sessions/{session_id}/complete",
        json={"payment_method": card},
        timeout=30,
    )


def start(stack: Stack, **body: Any) -> dict[str, Any]:
    response = stack.api.post("/v1/checkout/sessions", json={**URLS, **body})
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_patch_hive_user_buys_thirty_credits_and_sees_them_on_return(stack: Stack) -> None:
    pushed(stack, "patch_hive")
    started = start(stack, host_user_id="patch_1", email="p1@example.com", pack="credits", quantity=30)
    assert (started["mode"], started["amount_total_minor"]) == ("payment", 600)
    session = stack.stripe.v1.checkout.sessions.retrieve(started["session_id"])
    assert session.client_reference_id == "patch_1"
    assert session.metadata.to_dict() == {"coinslot_user_id": "patch_1", "coinslot_item": "pack:credits"}
    assert session.success_url == (
        "http://127.0.0.1:5000/billing?checkout_status=success&session_id={CHECKOUT_SESSION_ID}"
    )
    assert pay(stack, started["session_id"]).status_code == 200
    back = stack.api.post(f"/v1/checkout/sessions/{started['session_id']}/fulfil").json()
    assert (back["payment_status"], back["applied"], back["credits"]) == ("paid", True, 30)
    stack.settle()  # checkout.session.completed arrives after the user: it finds the work done
    again = stack.api.post(f"/v1/checkout/sessions/{started['session_id']}/fulfil").json()
    assert (again["applied"], again["reason"]) == (False, "already_fulfilled")
    assert stack.api.get("/v1/customers/patch_1").json()["credits"]["available"] == 30


def test_the_return_page_before_payment_changes_nothing(stack: Stack) -> None:
    pushed(stack, "patch_hive")
    started = start(stack, host_user_id="patch_2", pack="credits", quantity=25)
    back = stack.api.post(f"/v1/checkout/sessions/{started['session_id']}/fulfil").json()
    assert (back["payment_status"], back["applied"], back["reason"]) == ("unpaid", False, "not_paid")
    assert (
        stack.api.post(
            f"/v1/checkout/sessions/{started['session_id']}/fulfil", params={"host_user_id": "someone_else"}
        ).status_code
        == 404
    )


def test_a_consultation_form_survives_an_abandoned_checkout(skinova: Stack) -> None:
    pushed(skinova, "skinova")
    form = {"notes": "dry patch near the elbow", "image_urls": ["https://cdn.example/scan-9.png"]}
    order = skinova.api.post(
        "/v1/orders", json={"host_user_id": "skin_9", "product": "consultation", "payload": form}
    ).json()
    first = skinova.api.post(f"/v1/orders/{order['id']}/checkout", json=URLS).json()
    assert first["order_id"] == order["id"]
    # The browser crashed; Stripe expires the session later.
    httpx.post(f"{skinova.sim_server.url}/_sim/checkout/sessions/{first['session_id']}/expire", timeout=30)
    skinova.settle()
    kept = skinova.api.get(f"/v1/orders/{order['id']}").json()
    assert (kept["status"], kept["payload"]) == ("draft", form)
    resumed = skinova.api.post(f"/v1/orders/{order['id']}/checkout", json=URLS).json()
    assert resumed["session_id"] != first["session_id"]
    paid_session = skinova.stripe.v1.checkout.sessions.retrieve(resumed["session_id"])
    assert paid_session.metadata["coinslot_order_id"] == order["id"]
    assert pay(skinova, resumed["session_id"]).status_code == 200
    skinova.settle()
    paid = skinova.api.get(f"/v1/orders/{order['id']}").json()
    assert (paid["status"], paid["checkout_session_id"], paid["payload"]) == (
        "paid",
        resumed["session_id"],
        form,
    )
    done = skinova.api.post(f"/v1/orders/{order['id']}/status", json={"status": "fulfilled"}).json()
    assert done["status"] == "fulfilled"


def test_resuming_while_the_first_session_is_still_open_expires_it(skinova: Stack) -> None:
    pushed(skinova, "skinova")
    order = skinova.api.post(
        "/v1/orders",
        json={"host_user_id": "skin_10", "product": "consultation", "payload": {"notes": "second tab"}},
    ).json()
    first = skinova.api.post(f"/v1/orders/{order['id']}/checkout", json=URLS).json()
    skinova.api.post(f"/v1/orders/{order['id']}/checkout", json=URLS)
    assert skinova.stripe.v1.checkout.sessions.retrieve(first["session_id"]).status == "expired"


def test_a_one_time_consultation_with_its_form_in_one_call(skinova: Stack) -> None:
    pushed(skinova, "skinova")
    started = start(skinova, host_user_id="skin_11", product="consultation", payload={"notes": "one call"})
    assert started["order_id"].startswith("ord_")
    intent = skinova.stripe.v1.payment_intents.list(params={"limit": 1}).data
    assert intent == [] or intent[0].metadata.get("coinslot_order_id") in (None, started["order_id"])
    assert skinova.api.get(f"/v1/orders/{started['order_id']}").json()["status"] == "draft"


def test_a_patch_hive_pro_subscription_shows_on_return_before_any_webhook(stack: Stack) -> None:
    pushed(stack, "patch_hive")
    started = start(stack, host_user_id="patch_3", email="p3@example.com", plan="pro", interval="month")
    assert started["mode"] == "subscription"
    assert pay(stack, started["session_id"]).status_code == 200
    back = stack.api.post(f"/v1/checkout/sessions/{started['session_id']}/fulfil").json()
    assert (back["mode"], back["payment_status"]) == ("subscription", "paid")
    summary = stack.api.get("/v1/customers/patch_3").json()
    assert (summary["plan"], summary["subscription"]["status"]) == ("pro", "active")
    assert summary["subscription"]["current_period_end"] is not None
    assert summary["credits"]["available"] == 100
    session = stack.stripe.v1.checkout.sessions.retrieve(started["session_id"])
    subscription = stack.stripe.v1.subscriptions.retrieve(str(session.subscription))
    assert subscription.metadata["coinslot_user_id"] == "patch_3"
    stack.settle()
    assert stack.api.get("/v1/customers/patch_3").json()["credits"]["available"] == 100
    second = stack.api.post(
        "/v1/checkout/sessions", json={"host_user_id": "patch_3", "plan": "studio", **URLS}
    )
    assert (second.status_code, second.json()["error"]["code"]) == (409, "already_subscribed")


@pytest.mark.parametrize("body", [{"plan": "free"}, {"pack": "credits", "quantity": 24}])
def test_refused_checkouts_create_nothing_at_stripe(stack: Stack, body: dict[str, Any]) -> None:
    pushed(stack, "patch_hive")
    response = stack.api.post("/v1/checkout/sessions", json={"host_user_id": "patch_4", **URLS, **body})
    assert response.status_code == 422
    assert stack.stripe.v1.checkout.sessions.list().data == []


def test_a_plan_with_automatic_tax_checks_out_for_a_customer_without_an_address(
        database_url: str, tmp_path: Path) -> None:
    """Stripe refuses automatic tax for an existing customer who has no address unless Checkout
    may save the one typed in (customer_update[address]=auto); stripesim refuses it the same way."""
    catalog_file = tmp_path / "catalog.toml"
    text = (CATALOGS / "skinova.toml").read_text()
    catalog_file.write_text(text.replace("allow_promotion_codes = true",
                                         "allow_promotion_codes = true\nautomatic_tax = true", 1))
    stack = Stack.start(database_url, catalog=catalog_file)
    try:
        gateway = stack.container.gateway
        catalog_flows.apply_push(gateway, catalog_flows.plan_push(gateway, load_catalog(catalog_file)))
        started = start(stack, host_user_id="taxed_1", email="t1@example.com", plan="pro",
                        interval="month")
        session = stack.stripe.v1.checkout.sessions.retrieve(started["session_id"])
        assert session.automatic_tax.enabled is True
        customer = stack.stripe.v1.customers.retrieve(str(session.customer))
        assert customer.address is None
        assert pay(stack, started["session_id"]).status_code == 200
    finally:
        stack.stop()
