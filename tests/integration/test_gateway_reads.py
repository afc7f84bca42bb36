"""The gateway's plain reads (`stripe_gateway.client.retrieve_plain`) against stripesim over HTTP.

The webhook worker's reads skip the SDK's StripeObjects (half a read's CPU) but go through the
same client: they must answer what the SDK's own `retrieve` answers, and fail the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

import stripesim
from coinslot.errors import CoinslotError, NotFound
from coinslot.stripe_gateway import StripeGateway
from coinslot.stripe_gateway.checkout import session_from_object
from coinslot.stripe_gateway.invoices import invoice_from_dict
from coinslot.stripe_gateway.subscriptions import as_dict, subscription_from_dict
from stripesim.sim import Sim
from tests.support.servers import ServerThread

KEY = "sk_test_gateway_reads"


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    server = ServerThread(stripesim.create_app(Sim(retry_base_delay_s=0.05))).start()
    yield server.url
    server.stop()


@pytest.fixture
def sdk(sim_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": sim_url}, max_network_retries=0,
                               http_client=stripe.HTTPXClient(allow_sync_methods=True))


@pytest.fixture
def gateway(sim_url: str) -> StripeGateway:
    return StripeGateway(KEY, api_base=sim_url, max_network_retries=0)


def _faults(sim_url: str, spec: dict[str, Any] | None) -> None:
    with httpx.Client(base_url=sim_url) as http:
        if spec is None:
            http.delete("/_sim/faults").raise_for_status()
        else:
            http.post("/_sim/faults", json=spec).raise_for_status()


def _subscribed(sdk: stripe.StripeClient) -> tuple[str, str, str]:
    """(subscription id, its first invoice's id, its price id) of a new paying customer."""
    card = "pm_card_visa"
    customer = sdk.v1.customers.create(params={"email": "ada@example.com", "payment_method": card,
                                               "invoice_settings": {"default_payment_method": card}})
    product = sdk.v1.products.create(params={"name": "Pro"})
    price = sdk.v1.prices.create(params={"product": product.id, "unit_amount": 1900, "currency": "usd",
                                         "recurring": {"interval": "month"}, "lookup_key": "pro_monthly",
                                         "metadata": {"coinslot_item": "plan:pro"}})
    subscription = sdk.v1.subscriptions.create(params={"customer": customer.id,
                                                       "items": [{"price": price.id}]})
    invoice = subscription.latest_invoice
    invoice_id = invoice if isinstance(invoice, str) else invoice.id
    return subscription.id, str(invoice_id), price.id


def test_plain_reads_answer_what_the_sdk_answers(sdk: stripe.StripeClient, gateway: StripeGateway) -> None:
    subscription_id, invoice_id, price_id = _subscribed(sdk)
    expand = ["discounts.source.coupon"]
    assert gateway.subscriptions.retrieve(subscription_id) == subscription_from_dict(
        as_dict(sdk.v1.subscriptions.retrieve(subscription_id, params={"expand": expand})))
    read = gateway.invoices.retrieve(invoice_id)
    by_sdk_invoice = invoice_from_dict(as_dict(sdk.v1.invoices.retrieve(invoice_id)))
    assert read == gateway.invoices.with_prices(by_sdk_invoice)
    assert read.is_paid
    assert read.subscription_id == subscription_id
    # The one difference: a decimal string stays Stripe's text (the SDK makes it a Decimal), as in an
    # event's payload; no reader of a price uses it (invoices._with_price).
    by_sdk = as_dict(sdk.v1.prices.retrieve(price_id))
    by_sdk["unit_amount_decimal"] = str(by_sdk["unit_amount_decimal"])
    assert gateway.invoices.price(price_id) == by_sdk
    checkout = sdk.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://127.0.0.1/ok", "cancel_url": "http://127.0.0.1/no",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500,
                                       "product_data": {"name": "Pack"}}, "quantity": 2}]})
    assert gateway.checkout.retrieve_session(checkout.id) == session_from_object(
        sdk.v1.checkout.sessions.retrieve(checkout.id, params={"expand": ["line_items.data.price"]}))
    clock = sdk.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_800_000_000})
    assert gateway.test_clocks.frozen_time(clock.id) == 1_800_000_000


def test_plain_reads_fail_as_the_sdk_fails(sim_url: str, gateway: StripeGateway) -> None:
    with pytest.raises(NotFound) as missing:
        gateway.subscriptions.retrieve("sub_doesnotexist")
    assert missing.value.code == "stripe_resource_missing"
    for status in (500, 429):
        _faults(sim_url, {"api": [{"status": status, "path_prefix": "/v1/invoices", "times": 1}]})
        try:
            with pytest.raises(CoinslotError) as failed:
                gateway.invoices.retrieve("in_any")
        finally:
            _faults(sim_url, None)
        assert failed.value.retriable, f"a {status} from Stripe is retried later"
        assert "read invoice in_any" in str(failed.value)
