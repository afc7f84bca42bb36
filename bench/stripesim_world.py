"""A small SaaS account in stripesim: the catalog's prices, customers on a test clock, checkouts, renewals.

The webhook-processing scenario replays the events this produces (subscription,
invoice, checkout and payment events, as stripesim emitted them), and its
worker re-reads the objects from the same stripesim. Everything goes through
Stripe's HTTP API (the official SDK) and stripesim's /_sim control routes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import stripe

from coinslot.catalog.core import catalog_prices
from coinslot.catalog.parser import load_catalog

__all__ = ["MONTH_S", "STRIPE_KEY", "World", "build_world", "checkout", "client_for", "push_catalog"]

STRIPE_KEY = "sk_test_coinslot_bench"
MONTH_S = 31 * 86_400  # past any month's end, within stripesim's two-interval limit


@dataclass
class World:
    """What the event mix was made from: Stripe customer ids by host user, and the events."""

    customers: dict[str, str] = field(default_factory=dict)  # host_user_id -> cus_...
    events: list[dict[str, Any]] = field(default_factory=list)

    def mix(self) -> dict[str, int]:
        return dict(Counter(event["type"] for event in self.events).most_common())


def client_for(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": url}, max_network_retries=0)


def push_catalog(client: stripe.StripeClient, catalog_path: Path) -> dict[str, tuple[str, str]]:
    """Products and prices for every catalog price, with its lookup key.

    Returns "kind:key" (the checkout metadata's item) -> (price id, lookup key).
    """
    catalog = load_catalog(catalog_path)
    products: dict[str, str] = {}
    prices: dict[str, tuple[str, str]] = {}
    for price in catalog_prices(catalog):
        if price.product_key not in products:
            product = client.v1.products.create(params={
                "name": price.product_name, "metadata": {"coinslot_key": price.product_key}})
            products[price.product_key] = product.id
        params: dict[str, Any] = {"product": products[price.product_key], "currency": price.currency,
                                  "unit_amount": price.amount_minor, "lookup_key": price.lookup_key}
        if price.interval:
            params["recurring"] = {"interval": price.interval}
        item = f"{price.ref.kind}:{price.ref.key}"
        if item not in prices:  # one price per item: the monthly one for plans
            created = client.v1.prices.create(params=params)  # type: ignore[arg-type]
            prices[item] = (created.id, price.lookup_key)
    return prices


def _control(http: httpx.Client, path: str, body: dict[str, Any] | None = None) -> Any:
    response = http.post(path, json=body or {})
    response.raise_for_status()
    return response.json()


def checkout(client: stripe.StripeClient, http: httpx.Client, *, customer: str, host_user_id: str,
              mode: str, price: str, quantity: int, item: str, card: str) -> None:
    session = client.v1.checkout.sessions.create(params={
        "mode": mode, "customer": customer, "client_reference_id": host_user_id,
        "line_items": [{"price": price, "quantity": quantity}],
        "metadata": {"coinslot_user_id": host_user_id, "coinslot_item": item},
        "success_url": "http://127.0.0.1:5000/ok", "cancel_url": "http://127.0.0.1:5000/cancel",
    })
    response = http.post(f"/_sim/checkout/sessions/{session.id}/complete", json={"payment_method": card})
    if response.status_code not in (200, 402):  # 402: a declined card, as the hosted page shows it
        response.raise_for_status()


def build_world(url: str, catalog_path: Path, *, customers: int, months: int) -> World:
    """Subscribe `customers` users by Checkout (one in five with a card that fails at renewal), sell
    some a credit pack, then advance their test clock `months` months; collect every event."""
    client = client_for(url)
    prices = push_catalog(client, catalog_path)
    plans = [item for item in prices if item.startswith("plan:")]
    pack = next((item for item in prices if item.startswith("pack:")), None)
    world = World()
    start = int(dt.datetime.now(dt.UTC).timestamp())
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {STRIPE_KEY}"}, timeout=60) as http:
        clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": start, "name": "bench"})
        for i in range(customers):
            host_user_id = f"user-{i + 1}"
            failing = i % 5 == 4
            card = "pm_card_chargeCustomerFail" if failing else "pm_card_visa"
            customer = client.v1.customers.create(params={
                "email": f"{host_user_id}@example.com", "test_clock": clock.id,
                "metadata": {"coinslot_user_id": host_user_id}})
            world.customers[host_user_id] = customer.id
            plan = plans[i % len(plans)]
            checkout(client, http, customer=customer.id, host_user_id=host_user_id, mode="subscription",
                      price=prices[plan][0], quantity=1, item=plan, card=card)
            if pack and i % 3 == 0:
                checkout(client, http, customer=customer.id, host_user_id=host_user_id, mode="payment",
                          price=prices[pack][0], quantity=25, item=pack, card="pm_card_visa")
        frozen = start
        for _ in range(months):
            frozen += MONTH_S
            _control(http, f"/_sim/test_clocks/{clock.id}/advance", {"frozen_time": frozen})
        world.events = _all_events(http)
    return world


def _all_events(http: httpx.Client) -> list[dict[str, Any]]:
    """Every event, oldest first, as the JSON body Stripe would deliver."""
    events: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(10_000):  # bounded: 100 per page
        params: dict[str, Any] = {"limit": 100}
        if after:
            params["starting_after"] = after
        page = http.get("/v1/events", params=params).raise_for_status().json()
        events.extend(page["data"])
        if not page["has_more"] or not page["data"]:
            break
        after = page["data"][-1]["id"]
    events.sort(key=lambda event: (event["created"], event["id"]))
    return events


def dump(world: World, path: Path) -> None:
    path.write_text(json.dumps({"customers": world.customers, "events": world.events}))
