"""Events and signed webhook delivery, verified the way an integration verifies them."""

from __future__ import annotations

import json

import stripe

from tests.stripesim.conftest import WEBHOOK_SECRET, SimHelper
from tests.stripesim.receiver import WebhookReceiver


def test_event_has_stripes_shape(sim: SimHelper, webhooks: WebhookReceiver) -> None:
    customer = sim.client.v1.customers.create(params={"name": "Ada"},
                                              options={"idempotency_key": "create-ada"})
    sim.flush()
    (received,) = webhooks.received
    body = json.loads(received.body)
    assert set(body) == {"id", "object", "api_version", "context", "created", "data", "livemode",
                         "pending_webhooks", "request", "type"}
    assert body["id"].startswith("evt_")
    assert body["object"] == "event"
    assert body["api_version"] == "2026-10-28.endive"
    assert body["type"] == "customer.created"
    assert body["livemode"] is False
    assert body["data"] == {"object": json.loads(str(customer))}
    assert body["request"]["idempotency_key"] == "create-ada"
    assert body["request"]["id"].startswith("req_")
    assert "previous_attributes" not in body["data"]


def test_deliveries_verify_with_construct_event(sim: SimHelper, webhooks: WebhookReceiver) -> None:
    sim.client.v1.customers.create()
    sim.flush()
    (event,) = webhooks.events(WEBHOOK_SECRET)
    assert isinstance(event, stripe.Event)
    assert event.type == "customer.created"
    received = webhooks.received[0]
    assert received.signature.startswith("t=")
    assert ",v1=" in received.signature
    assert received.headers["content-type"].startswith("application/json")
    try:
        stripe.Webhook.construct_event(received.body, received.signature, "whsec_wrong")
    except stripe.SignatureVerificationError:
        pass
    else:
        raise AssertionError("a wrong secret must not verify")


def test_delivery_is_in_causal_order(sim: SimHelper, webhooks: WebhookReceiver) -> None:
    customer = sim.client.v1.customers.create()
    sim.client.v1.customers.update(customer.id, params={"name": "x"})
    sim.client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    sim.client.v1.customers.delete(customer.id)
    sim.flush()
    assert webhooks.types(WEBHOOK_SECRET) == ["customer.created", "customer.updated",
                                              "payment_method.attached", "customer.deleted"]


def test_pending_webhooks_counts_down_on_success(sim: SimHelper, webhooks: WebhookReceiver) -> None:
    sim.client.v1.customers.create()
    sim.flush()
    (sent,) = webhooks.events(WEBHOOK_SECRET)
    assert sent.pending_webhooks == 1  # as it stood when it was sent
    assert sim.client.v1.events.retrieve(sent.id).pending_webhooks == 0


def test_a_failing_receiver_is_retried_until_it_answers(sim: SimHelper,
                                                        webhooks: WebhookReceiver) -> None:
    webhooks.fail_next(2)
    sim.client.v1.customers.create()
    sim.flush()
    assert len(webhooks.received) == 3
    assert {r.body for r in webhooks.received} == {webhooks.received[0].body}
    (delivery,) = sim.deliveries()
    assert (delivery["attempts"], delivery["status"]) == (3, "succeeded")
    assert [h["http_status"] for h in delivery["history"]] == [500, 500, 200]


def test_giving_up_leaves_the_event_undelivered(sim: SimHelper, webhooks: WebhookReceiver) -> None:
    webhooks.fail_next(10)
    sim.client.v1.customers.create()
    sim.flush()
    (delivery,) = sim.deliveries()
    assert (delivery["attempts"], delivery["status"]) == (4, "failed")
    undelivered = sim.client.v1.events.list(params={"delivery_success": False,
                                                    "types": ["customer.created"]}).data
    assert len(undelivered) == 1
    assert undelivered[0].pending_webhooks == 1


def test_unreachable_endpoint_counts_as_a_failure(sim: SimHelper) -> None:
    sim.add_webhook_endpoint("http://127.0.0.1:9/closed")
    sim.client.v1.customers.create()
    sim.flush()
    (delivery,) = sim.deliveries()
    assert delivery["status"] == "failed"
    assert delivery["last_error"]


def test_enabled_events_and_disabled_endpoints(sim: SimHelper, receiver: WebhookReceiver) -> None:
    endpoint = sim.client.v1.webhook_endpoints.create(params={
        "url": receiver.url, "enabled_events": ["customer.updated", "product.*"]})
    customer = sim.client.v1.customers.create()
    sim.client.v1.customers.update(customer.id, params={"name": "x"})
    sim.client.v1.products.create(params={"name": "p"})
    sim.flush()
    assert receiver.types(endpoint.secret or "") == ["customer.updated", "product.created"]
    sim.client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    sim.client.v1.customers.update(customer.id, params={"name": "y"})
    sim.flush()
    assert len(receiver.received) == 2


def test_webhook_endpoint_crud(sim: SimHelper) -> None:
    created = sim.client.v1.webhook_endpoints.create(params={
        "url": "https://example.com/hook", "enabled_events": ["*"], "description": "d"})
    assert created.secret is not None
    assert created.secret.startswith("whsec_")
    fetched = sim.client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched
    listed = sim.client.v1.webhook_endpoints.list()
    assert [e.id for e in listed.data] == [created.id]
    assert sim.client.v1.webhook_endpoints.delete(created.id).deleted is True


def test_events_list_filters(sim: SimHelper) -> None:
    customer = sim.client.v1.customers.create()
    sim.client.v1.customers.update(customer.id, params={"name": "x"})
    sim.client.v1.products.create(params={"name": "p"})

    def types(**params: object) -> list[str]:
        return [e.type for e in sim.client.v1.events.list(params=params).data]  # type: ignore[arg-type]

    assert types(type="customer.updated") == ["customer.updated"]
    assert types(types=["customer.created", "product.created"]) == ["product.created",
                                                                    "customer.created"]
    assert types(created={"gte": customer.created}, limit=2) == ["product.created",
                                                                 "customer.updated"]


def test_automatic_events_carry_a_null_request(sim: SimHelper) -> None:
    """Events from clock work (no API request) have request {id: null, idempotency_key: null}."""
    from stripesim.events import emit

    emit(sim.engine, "customer.updated", {"id": "cus_x", "object": "customer"}, {"name": None})
    (event,) = sim.client.v1.events.list().data
    assert event.request is not None
    assert (event.request.id, event.request.idempotency_key) == (None, None)
    assert event.data.previous_attributes is not None
