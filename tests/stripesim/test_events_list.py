"""GET /v1/events as a backfill reads it: `created[gt|gte]`, `types[]`, `delivery_success`, pagination
through the SDK, and Stripe's 30-day window."""

from __future__ import annotations

import copy

from tests.stripesim.conftest import SimHelper


def make_customers(sim: SimHelper, count: int) -> list[str]:
    return [sim.client.v1.customers.create(params={"email": f"c{n}@example.com"}).id for n in range(count)]


def test_created_filters_types_and_pagination_walk_every_event_newest_first(sim: SimHelper) -> None:
    make_customers(sim, 7)
    listed = list(sim.client.v1.events.list(params={"limit": 3}).auto_paging_iter())
    assert [event.type for event in listed] == ["customer.created"] * 7
    assert [event.created for event in listed] == sorted((event.created for event in listed), reverse=True)
    newest = listed[0].created
    assert len(list(sim.client.v1.events.list(params={"created": {"gt": newest}}).auto_paging_iter())) == 0
    at_least = sim.client.v1.events.list(params={"created": {"gte": newest}, "limit": 100}).data
    assert listed[0].id in [event.id for event in at_least]
    sim.client.v1.products.create(params={"name": "Core"})
    both = sim.client.v1.events.list(params={"types": ["customer.created", "product.created"], "limit": 100})
    assert sorted({event.type for event in both.data}) == ["customer.created", "product.created"]
    only = sim.client.v1.events.list(params={"types": ["product.*"], "limit": 100})
    assert [event.type for event in only.data] == ["product.created"]


def test_delivery_success_tells_failed_deliveries_from_events_no_endpoint_was_owed(sim: SimHelper) -> None:
    endpoint = sim.add_webhook_endpoint("http://127.0.0.1:9/closed")  # nothing listens: every try fails
    [failing] = make_customers(sim, 1)
    sim.flush()
    sim.client.v1.webhook_endpoints.update(endpoint["id"], params={"disabled": True})
    [unowed] = make_customers(sim, 1)  # a disabled endpoint is owed nothing: "delivered" to no one
    undelivered = sim.client.v1.events.list(params={"delivery_success": False}).data
    assert [event.data.object.id for event in undelivered] == [failing]
    delivered = sim.client.v1.events.list(params={"delivery_success": True}).data
    assert [event.data.object.id for event in delivered] == [unowed]


def test_events_older_than_30_days_are_not_listed(sim: SimHelper) -> None:
    make_customers(sim, 1)
    [recent] = sim.client.v1.events.list().data
    store = sim.engine.store
    old = copy.deepcopy(store.get("event", recent.id))
    assert old is not None
    old.update(id="evt_from_31_days_ago", created=store.now() - 31 * 86400)
    store.insert(old)
    edge = dict(old, id="evt_from_29_days_ago", created=store.now() - 29 * 86400)
    store.insert(edge)
    listed = [event.id for event in sim.client.v1.events.list(params={"limit": 100}).data]
    assert sorted(listed) == sorted([recent.id, "evt_from_29_days_ago"])  # the 31-day-old one is gone
    assert sim.client.v1.events.retrieve("evt_from_29_days_ago").id == "evt_from_29_days_ago"
