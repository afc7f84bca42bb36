"""The worker's real re-read, through the gateway, against stripesim over HTTP (with injected faults)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import stripe

import stripesim
from coinslot.catalog.core import Catalog
from coinslot.clock import FixedClock
from coinslot.customers import service as customers
from coinslot.db import Database
from coinslot.deps import Container
from coinslot.stripe_gateway.events import parse_verified_event
from coinslot.webhooks.inbox import store_event
from coinslot.webhooks.worker import process_due
from stripesim.sim import Sim
from tests.integration.webhooks.conftest import NOW, make_settings
from tests.integration.webhooks.helpers import event_row, later, mirrored
from tests.support.servers import ServerThread

KEY = "sk_test_webhooks"


@pytest.fixture
def sim_url() -> Iterator[str]:
    with ServerThread(stripesim.create_app(Sim())) as server:
        yield server.url


@pytest.fixture
def live_container(db: Database, sim_url: str) -> Container:
    settings = make_settings(db, stripe_secret_key=KEY, stripe_api_base=sim_url)
    return Container(settings=settings, db=db, clock=FixedClock(NOW))


def test_stripe_500_and_429_during_a_reread_retry_later_with_no_partial_state(
    live_container: Container, sim_url: str, catalog: Catalog
) -> None:
    client = stripe.StripeClient(KEY, base_addresses={"api": sim_url}, max_network_retries=0)
    product = client.v1.products.create(params={"name": "Pro"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1499,
            "recurring": {"interval": "month"},
            "lookup_key": "coinslot:plan:pro:month",
        }
    )
    customer = client.v1.customers.create(params={"email": "bob@example.com"})
    payment_method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    subscription = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "default_payment_method": payment_method.id,
        }
    )
    with live_container.db.unit_of_work() as session:
        row = customers.ensure_customer(session, host_user_id="bob", now=NOW)
        customers.link_stripe_customer(
            session, customer_id=row.id, stripe_customer_id=customer.id, livemode=False, now=NOW
        )
    [created] = client.v1.events.list(params={"type": "customer.subscription.created"}).data
    body = json.dumps(created.to_dict(), default=str).encode()
    with live_container.db.unit_of_work() as session:
        store_event(session, event=parse_verified_event(body), payload=body, now=NOW)
    faults = {
        "api": [
            {"status": 500, "path_prefix": "/v1/subscriptions", "method": "GET", "times": 1},
            {"status": 429, "path_prefix": "/v1/subscriptions", "method": "GET", "times": 1},
        ]
    }
    httpx.post(f"{sim_url}/_sim/faults", json=faults).raise_for_status()

    def run() -> None:
        process_due(live_container, load_catalog=lambda: catalog)

    run()
    assert event_row(live_container, created.id).status == "failed"
    assert "StripeUnavailable" in (event_row(live_container, created.id).last_error or "")
    assert mirrored(live_container, subscription.id) is None
    later(live_container, 60)
    run()  # the 429 this time
    assert event_row(live_container, created.id).status == "failed"
    assert mirrored(live_container, subscription.id) is None
    later(live_container, 120)
    run()
    assert event_row(live_container, created.id).status == "processed"
    mirror = mirrored(live_container, subscription.id)
    assert mirror is not None
    assert (mirror.status, mirror.plan_key) == (
        client.v1.subscriptions.retrieve(subscription.id).status,
        "pro",
    )
