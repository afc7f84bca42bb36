"""Restarts and shutdown: queued webhooks and idempotency keys survive a restart with a
state file; closing an app leaves no stripesim thread running."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import stripe

from stripesim.app import create_app
from stripesim.sim import Sim
from tests.stripesim.conftest import API_KEY
from tests.stripesim.receiver import WebhookReceiver
from tests.support.servers import ServerThread

SECRET = "whsec_restart_secret"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("stripesim-")}


def test_queued_deliveries_and_idempotency_keys_survive_a_restart(
        tmp_path: Path, receiver: WebhookReceiver) -> None:
    state = tmp_path / "state.json"
    key = {**AUTH, "Idempotency-Key": "restart-1"}
    with ServerThread(create_app(state_file=str(state), webhook_url=receiver.url,
                                 webhook_secret=SECRET)) as server:
        # Hold every delivery back for ten minutes: still queued when the server stops.
        httpx.post(f"{server.url}/_sim/faults", json={"webhooks": {"delay_ms": 600_000}})
        first = httpx.post(f"{server.url}/v1/customers", data={"email": "a@example.com"},
                           headers=key)
        assert first.status_code == 200
    assert receiver.received == []
    saved = json.loads(state.read_text())["parts"]
    assert [d["event_type"] for d in saved["webhooks.queue"]] == ["customer.created"]
    assert [k["key"] for k in saved["idempotency"]] == ["restart-1"]
    with ServerThread(create_app(state_file=str(state), webhook_url=receiver.url,
                                 webhook_secret=SECRET)) as server:
        replay = httpx.post(f"{server.url}/v1/customers", data={"email": "a@example.com"},
                            headers=key)
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"]
        assert httpx.post(f"{server.url}/_sim/flush").json()["drained"]
        (event,) = receiver.events(SECRET)
        assert (event.type, event.data.object.id) == ("customer.created", first.json()["id"])
        log = httpx.get(f"{server.url}/_sim/deliveries").json()["data"]
        assert [(d["event_type"], d["status"]) for d in log] == [("customer.created", "succeeded")]
        other = httpx.post(f"{server.url}/v1/customers", data={"email": "b@example.com"},
                           headers=key)
        assert other.status_code == 400
        assert other.json()["error"]["type"] == "idempotency_error"
    saved = json.loads(state.read_text())["parts"]
    assert saved["webhooks.queue"] == []


def test_closing_stops_every_background_thread(receiver: WebhookReceiver) -> None:
    before = _threads()
    engine = Sim(retry_base_delay_s=0.05)
    with ServerThread(create_app(engine)) as server:
        client = stripe.StripeClient(API_KEY, base_addresses={"api": server.url},
                                     max_network_retries=0)
        client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
        clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_767_225_600})
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_767_312_000})
        names = {t.name for t in _threads() - before}
        assert {"stripesim-billing-ticker", "stripesim-webhooks"} <= names
    assert _threads() - before == set()


def test_a_sim_closed_without_a_server_stops_its_ticker() -> None:
    before = _threads()
    app = create_app()
    assert any(t.name == "stripesim-billing-ticker" for t in _threads() - before)
    app.state.sim.close()
    assert _threads() - before == set()
