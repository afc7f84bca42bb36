"""Fixtures for stripesim tests: one emulator server per session, reset before each test.

    def test_something(sim):                       # autouse-able helper
        customer = sim.client.v1.customers.create(params={"email": "a@example.com"})
        sim.flush()                                # wait for webhook deliveries
        sim.set_faults(api=[{"status": 500, "times": 1}])

`sim.engine` is the in-process `stripesim.sim.Sim` behind the server (for
assertions on stored state); `sim.http` is an httpx client with a test key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe

from stripesim.app import create_app
from stripesim.sim import Sim
from tests.stripesim.receiver import WebhookReceiver
from tests.support.servers import ServerThread

API_KEY = "sk_test_stripesim"
# Short so that un-flushed retries still finish quickly; flush() compresses them anyway.
RETRY_BASE_DELAY_S = 0.05


@dataclass
class SimHelper:
    url: str
    engine: Sim
    client: stripe.StripeClient
    http: httpx.Client

    def reset(self) -> None:
        self.control("POST", "/_sim/reset")

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until every queued webhook delivery is done (no blind sleeping)."""
        result = self.control("POST", "/_sim/flush", {"timeout_s": timeout_s})
        assert result["drained"], "webhook queue did not drain"

    def set_faults(self, **spec: Any) -> dict[str, Any]:
        return self.control("POST", "/_sim/faults", spec)

    def clear_faults(self) -> None:
        self.control("DELETE", "/_sim/faults")

    def deliveries(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.control("GET", "/_sim/deliveries")["data"]
        return data

    def add_webhook_endpoint(self, url: str, secret: str | None = None,
                             enabled_events: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"url": url}
        if secret:
            body["secret"] = secret
        if enabled_events:
            body["enabled_events"] = enabled_events
        return self.control("POST", "/_sim/webhook_endpoints", body)

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def stripesim_server() -> Iterator[tuple[ServerThread, Sim]]:
    engine = Sim(retry_base_delay_s=RETRY_BASE_DELAY_S, max_delivery_attempts=4,
                 delivery_timeout_s=5.0)
    server = ServerThread(create_app(engine))
    server.start()
    try:
        yield server, engine
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stripesim_url(stripesim_server: tuple[ServerThread, Sim]) -> str:
    return stripesim_server[0].url


@pytest.fixture(scope="session")
def _sim_session(stripesim_server: tuple[ServerThread, Sim]) -> Iterator[SimHelper]:
    server, engine = stripesim_server
    client = stripe.StripeClient(API_KEY, base_addresses={"api": server.url},
                                 max_network_retries=0)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {API_KEY}"},
                      timeout=30) as http:
        yield SimHelper(server.url, engine, client, http)


@pytest.fixture
def sim(_sim_session: SimHelper) -> SimHelper:
    """The emulator, blank: reset (state, faults, deliveries) before the test."""
    _sim_session.reset()
    return _sim_session


@pytest.fixture(scope="session")
def _receiver_session() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(_receiver_session: WebhookReceiver) -> WebhookReceiver:
    """A webhook receiver with nothing recorded and no scripted failures."""
    _receiver_session.clear()
    return _receiver_session


WEBHOOK_SECRET = "whsec_test_stripesim_secret"


@pytest.fixture
def webhooks(sim: SimHelper, receiver: WebhookReceiver) -> WebhookReceiver:
    """`receiver` registered as an endpoint for every event, secret WEBHOOK_SECRET."""
    sim.add_webhook_endpoint(receiver.url, WEBHOOK_SECRET)
    return receiver
