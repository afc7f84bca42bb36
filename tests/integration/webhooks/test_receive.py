"""POST /webhooks/stripe: verified on the raw body, stored once, answered at once; nothing else."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coinslot.app import create_app
from coinslot.container import Container
from coinslot.db import Database
from coinslot.models import WebhookEvent
from coinslot.observability import REGISTRY
from tests.integration.webhooks.conftest import make_settings
from tests.support.servers import ServerThread
from tests.support.webhooks import OLD_SECRET, event_body, signed, subscription


def stored(db: Database) -> int:
    with db.unit_of_work(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


def test_a_signed_event_is_stored_and_acknowledged_without_processing(
    client: TestClient, db: Database
) -> None:
    body = event_body(
        "customer.subscription.created", subscription("sub_1", "cus_x", "active"), event_id="evt_1"
    )
    response = client.post("/webhooks/stripe", content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    with db.unit_of_work(read_only=True) as session:
        row = session.scalars(select(WebhookEvent)).one()
    assert (row.stripe_event_id, row.type, row.status, row.attempts) == (
        "evt_1",
        "customer.subscription.created",
        "received",
        0,
    )
    assert row.payload.encode() == body  # the raw body, exactly as signed
    assert row.object_id == "sub_1"


def test_a_duplicate_delivery_answers_200_and_stores_nothing_new(client: TestClient, db: Database) -> None:
    body = event_body("invoice.paid", {"id": "in_1"}, event_id="evt_dup")
    first = client.post("/webhooks/stripe", content=body, headers=signed(body))
    second = client.post("/webhooks/stripe", content=body, headers=signed(body))
    assert first.json()["duplicate"] is False
    assert second.status_code == 200
    assert second.json() == {"received": True, "duplicate": True}
    assert stored(db) == 1


def test_a_missing_signature_is_refused_and_nothing_is_stored(client: TestClient, db: Database) -> None:
    body = event_body("invoice.paid", {"id": "in_1"})
    response = client.post("/webhooks/stripe", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert stored(db) == 0


def test_a_forged_signature_is_refused_and_nothing_is_stored(client: TestClient, db: Database) -> None:
    body = event_body("invoice.paid", {"id": "in_1"})
    forged = signed(body, secret="whsec_attacker")
    assert client.post("/webhooks/stripe", content=body, headers=forged).status_code == 400
    tampered = body.replace(b"in_1", b"in_2")
    assert client.post("/webhooks/stripe", content=tampered, headers=signed(body)).status_code == 400
    assert stored(db) == 0


def test_a_stale_signature_is_refused_as_a_replay(client: TestClient, db: Database) -> None:
    body = event_body("invoice.paid", {"id": "in_1"})
    old = signed(body, timestamp=int(time.time()) - 301)
    assert client.post("/webhooks/stripe", content=body, headers=old).status_code == 400
    assert stored(db) == 0


def test_the_previous_secret_still_verifies_during_a_rotation(client: TestClient, db: Database) -> None:
    body = event_body("invoice.paid", {"id": "in_1"})
    assert (
        client.post("/webhooks/stripe", content=body, headers=signed(body, secret=OLD_SECRET)).status_code
        == 200
    )
    assert stored(db) == 1


def test_without_a_configured_secret_the_route_refuses_with_503(db: Database) -> None:
    settings = make_settings(db, stripe_webhook_secrets="")
    client = TestClient(create_app(settings, db=db, configure_logs=False))
    body = event_body("invoice.paid", {"id": "in_1"})
    response = client.post("/webhooks/stripe", content=body, headers=signed(body, secret=""))
    assert response.status_code == 503
    assert "COINSLOT_STRIPE_WEBHOOK_SECRETS" in response.json()["error"]["message"]
    assert stored(db) == 0


def test_an_oversized_body_is_refused_with_413(db: Database) -> None:
    settings = make_settings(db, webhook_max_body_bytes=1000)
    client = TestClient(create_app(settings, db=db, configure_logs=False))
    body = event_body("invoice.paid", {"id": "in_1", "padding": "x" * 2000})
    assert client.post("/webhooks/stripe", content=body, headers=signed(body)).status_code == 413
    assert stored(db) == 0


def test_a_signed_body_that_is_not_an_event_is_refused(client: TestClient, db: Database) -> None:
    body = b'{"hello": "world"}'
    assert client.post("/webhooks/stripe", content=body, headers=signed(body)).status_code == 400
    assert stored(db) == 0


def test_a_handler_lookup_miss_never_answers_4xx(client: TestClient, db: Database) -> None:
    # A subscription of a Stripe customer coinslot has never heard of: receiving still answers 200
    # (the incident: a 400 here made Stripe retry for days, then disable the endpoint).
    body = event_body("customer.subscription.updated", subscription("sub_x", "cus_unknown", "active"))
    response = client.post("/webhooks/stripe", content=body, headers=signed(body))
    assert response.status_code == 200
    assert stored(db) == 1


def test_the_same_event_delivered_10_times_concurrently_is_stored_once(
    container: Container, db: Database
) -> None:
    app = create_app(container.settings, db=db, clock=container.clock, configure_logs=False)
    body = event_body("invoice.paid", {"id": "in_race"}, event_id="evt_race")
    answers: list[dict[str, bool]] = []
    barrier = threading.Barrier(10)

    def deliver(url: str) -> None:
        barrier.wait()
        response = httpx.post(f"{url}/webhooks/stripe", content=body, headers=signed(body), timeout=30)
        assert response.status_code == 200
        answers.append(response.json())

    with ServerThread(app) as server:
        threads = [threading.Thread(target=deliver, args=(server.url,)) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(answers) == 10
    assert sum(not answer["duplicate"] for answer in answers) == 1
    assert stored(db) == 1


def _counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _signed_envelope(**fields: object) -> bytes:
    event = json.loads(event_body("invoice.paid", {"id": "in_1"}, event_id="evt_ok"))
    event.update(fields)
    return json.dumps(event).encode()


MALFORMED = {  # a body signed with the right secret, and the field at fault
    "data is a list": (_signed_envelope(data=[1]), "data"),
    "data.object is a list": (_signed_envelope(data={"object": [1]}), "data"),
    "created is 1e30": (_signed_envelope(created=1e30), "created"),
    "created is a string": (_signed_envelope(created="1700000000"), "created"),
    "created is true": (_signed_envelope(created=True), "created"),
    "created is negative": (_signed_envelope(created=-1), "created"),
    "id is null": (_signed_envelope(id=None), "id"),
    "id is a number": (_signed_envelope(id=42), "id"),
    "id is not an event id": (_signed_envelope(id="../evt"), "id"),
    "type is missing": (_signed_envelope(type=None), "type"),
    "type is an object": (_signed_envelope(type={"a": 1}), "type"),
    "type is 5,000 characters": (_signed_envelope(type="a." + "b" * 5000), "type"),
    "livemode is a string": (_signed_envelope(livemode="false"), "livemode"),
    "api_version is a number": (_signed_envelope(api_version=3), "api_version"),
    "previous_attributes is a list": (
        _signed_envelope(data={"object": {"id": "in_1"}, "previous_attributes": [1]}),
        "data.previous_attributes"),
    "the object's id is a number": (_signed_envelope(data={"object": {"id": 7}}), "data.object.id"),
    "not an event": (json.dumps({"object": "charge", "id": "ch_1"}).encode(), "object"),
    "not an object": (b"[1, 2]", "object"),
    "not JSON": (b"{nope", "body"),
    "nested past any parser": (b"[" * 100_000 + b"]" * 100_000, "body"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_signed_but_malformed_event_is_a_400_with_the_reason_stored_nowhere_and_counted(
    client: TestClient, db: Database, case: str
) -> None:
    body, field = MALFORMED[case]
    before = _counted("coinslot_webhook_malformed_total", field=field)
    answer = client.post("/webhooks/stripe", content=body, headers=signed(body))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "malformed_event"
    assert error["field"] == field
    assert error["message"].startswith(f"signed body is not a well-formed Stripe event: {field} ")
    assert stored(db) == 0
    assert _counted("coinslot_webhook_malformed_total", field=field) == before + 1


def test_a_refused_signature_is_counted_for_the_alert(client: TestClient, db: Database) -> None:
    before = _counted("coinslot_webhook_signature_failures_total")
    body = event_body("invoice.paid", {"id": "in_1"})
    forged = signed(body, secret="whsec_x")
    assert client.post("/webhooks/stripe", content=body, headers=forged).status_code == 400
    assert _counted("coinslot_webhook_signature_failures_total") == before + 1
    assert stored(db) == 0
