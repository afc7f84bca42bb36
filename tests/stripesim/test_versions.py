"""API versions: `Stripe-Version` (or the account's default) picks the shape of every answer
and every webhook; each older shape is checked against that version's published description."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import stripe

from tests.stripesim.conftest import API_KEY, SimHelper
from tests.stripesim.openapi_check import spec_problems
from tests.stripesim.receiver import WebhookReceiver
from tests.stripesim.test_fidelity_walk import Walker, walk_story


@contextmanager
def pinned(sim: SimHelper, version: str) -> Iterator[SimHelper]:
    """`sim` with an SDK client and a control client that both send `Stripe-Version: version`."""
    client = stripe.StripeClient(API_KEY, base_addresses={"api": sim.url}, stripe_version=version,
                                 max_network_retries=0)
    with httpx.Client(base_url=sim.url, timeout=30, headers={
            "Authorization": f"Bearer {API_KEY}", "Stripe-Version": version}) as http:
        yield dataclasses.replace(sim, client=client, http=http)


# Resources born after 2024-04-10: their events still reach old endpoints (the event envelope
# is checked), but the spec of that date has nothing to check their objects against.
NEWER_RESOURCES = frozenset({"invoice_payment"})


class SpecCollector:
    """Gathers every spec problem of every object it sees (each problem once)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, data: Any, where: str | None = None) -> None:
        if isinstance(data, dict) and data.get("object") in {"list", "search_result"}:
            for index, item in enumerate(data["data"]):
                self(item, f"{where or data['object']}.data[{index}]")
            return
        if isinstance(data, dict) and data.get("object") in NEWER_RESOURCES:
            return
        self.checked += 1
        for problem in spec_problems(data):
            if problem not in self.problems:
                self.problems.append(problem)


def test_a_client_pinned_to_2024_04_10_gets_that_versions_shapes_everywhere(
        sim: SimHelper, receiver: WebhookReceiver) -> None:
    collector = SpecCollector()
    with pinned(sim, "2024-04-10") as old:
        walk_story(old, receiver, Walker(collector), endpoint_version="2024-04-10", before_basil=True)
    assert not collector.problems, "\n".join(sorted(collector.problems))
    assert collector.checked > 200


def _raw(sim: SimHelper, method: str, path: str, version: str | None = None,
         **params: Any) -> httpx.Response:
    headers = {"Stripe-Version": version} if version else {}
    if method == "GET":
        return sim.http.get(path, params=params, headers=headers)
    return sim.http.request(method, path, data=params, headers=headers)


def test_without_stripe_version_the_accounts_default_is_used_and_named(sim: SimHelper) -> None:
    response = _raw(sim, "POST", "/v1/customers", email="a@example.com")
    assert response.status_code == 200
    assert response.headers["Stripe-Version"] == "2026-10-28.endive"
    assert _raw(sim, "GET", "/v1/customers", "2024-04-10").headers["Stripe-Version"] == "2024-04-10"


@pytest.mark.parametrize("version", ["2026-13-45", "2019-2-19", "latest", "2026-11-18.basil"])
def test_an_unknown_version_is_refused_as_stripe_refuses_it(sim: SimHelper, version: str) -> None:
    response = _raw(sim, "GET", "/v1/customers", version)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"Invalid Stripe API version: {version}")
    with pytest.raises(stripe.InvalidRequestError, match="Invalid Stripe API version"):
        with pinned(sim, version) as bad:
            bad.client.v1.customers.list()


def test_the_sdks_own_versions_are_all_served(sim: SimHelper) -> None:
    for version in ("2026-11-18.endive", "2026-10-28.endive", "2026-08-26.dahlia", "2024-04-10"):
        with pinned(sim, version) as client_sim:
            assert client_sim.client.v1.customers.list().data == []


def _refund(sim: SimHelper) -> str:
    pi = sim.client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "confirm": True, "payment_method": "pm_card_visa"})
    return str(sim.client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500}).id)


def test_stripe_node_s_version_shows_what_it_added_and_the_python_sdk_s_does_not(
        sim: SimHelper) -> None:
    refund_id = _refund(sim)
    newest = _raw(sim, "GET", f"/v1/refunds/{refund_id}", "2026-11-18.endive").json()
    assert "application" in newest
    assert newest["application"] is None
    assert "application" not in _raw(sim, "GET", f"/v1/refunds/{refund_id}").json()


def test_a_2024_client_sees_periods_on_the_subscription_and_payment_links_on_the_invoice(
        sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create(params={
        "payment_method": "pm_card_visa", "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    price = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 900,
                                                "recurring": {"interval": "month"},
                                                "product_data": {"name": "Pro"}})
    sub = sim.client.v1.subscriptions.create(params={"customer": customer.id,
                                                     "items": [{"price": price.id}]})
    old = _raw(sim, "GET", f"/v1/subscriptions/{sub.id}", "2024-04-10",
               **{"expand[]": "latest_invoice.payment_intent"}).json()
    item = sub["items"].data[0]
    assert (old["current_period_start"], old["current_period_end"]) == (
        item.current_period_start, item.current_period_end)
    assert "current_period_end" not in old["items"]["data"][0]
    invoice = old["latest_invoice"]
    assert invoice["subscription"] == sub.id
    assert invoice["paid"] is True
    assert invoice["payment_intent"]["object"] == "payment_intent"
    assert invoice["payment_intent"]["status"] == "succeeded"
    assert invoice["charge"] == invoice["payment_intent"]["latest_charge"]
    line = invoice["lines"]["data"][0]
    assert (line["type"], line["proration"], line["price"]["id"]) == ("subscription", False, price.id)
    assert "parent" not in invoice
    assert "parent" not in line
    current = _raw(sim, "GET", f"/v1/invoices/{invoice['id']}").json()
    assert "payment_intent" not in current
    assert current["parent"]["type"] == "subscription_details"
    refused = _raw(sim, "GET", f"/v1/invoices/{invoice['id']}", "2024-04-10", **{"expand[]": "payments"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "This property cannot be expanded (payments)."


def test_each_webhook_endpoint_reads_events_in_its_own_api_version(
        sim: SimHelper, receiver: WebhookReceiver) -> None:
    sim.client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    sim.client.v1.webhook_endpoints.create(params={
        "url": receiver.url + "?pinned", "enabled_events": ["customer.subscription.created"],
        "api_version": "2024-04-10"})
    customer = sim.client.v1.customers.create(params={
        "payment_method": "pm_card_visa", "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    price = sim.client.v1.prices.create(params={"currency": "usd", "unit_amount": 900,
                                                "recurring": {"interval": "month"},
                                                "product_data": {"name": "Pro"}})
    sim.client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    sim.flush()
    bodies = [json.loads(r.body) for r in receiver.received]
    created = {b["api_version"]: b["data"]["object"] for b in bodies
               if b["type"] == "customer.subscription.created"}
    assert set(created) == {"2026-10-28.endive", "2024-04-10"}
    assert "current_period_end" in created["2024-04-10"]
    assert "current_period_end" not in created["2026-10-28.endive"]
    assert not spec_problems(created["2024-04-10"])


def test_a_webhook_endpoint_with_an_unknown_version_is_refused(sim: SimHelper) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sim.client.v1.webhook_endpoints.create(params={
            "url": "https://example.com/hook", "enabled_events": ["*"], "api_version": "2023-99-01"})
    assert refused.value.param == "api_version"
    assert sim.client.v1.webhook_endpoints.list().data == []


def test_an_idempotency_key_longer_than_255_characters_is_refused(sim: SimHelper) -> None:
    response = sim.http.post("/v1/customers", data={"email": "a@example.com"},
                             headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(
        "Idempotent key length is 256, which is outside accepted lengths. Idempotent Keys must be "
        "1-255 characters long.")
    assert sim.client.v1.customers.list().data == []
    ok = sim.http.post("/v1/customers", data={"email": "a@example.com"},
                       headers={"Idempotency-Key": "k" * 255})
    assert ok.status_code == 200
