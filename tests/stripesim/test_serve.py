"""Running stripesim: the state file survives a restart; `stripesim serve` starts and serves."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import stripe

from stripesim.app import create_app
from tests.stripesim.conftest import API_KEY
from tests.stripesim.receiver import WebhookReceiver
from tests.support.servers import ServerThread, free_port


def _client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": url}, max_network_retries=0)


def test_state_file_keeps_objects_across_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with ServerThread(create_app(state_file=str(state))) as server:
        client = _client(server.url)
        customer = client.v1.customers.create(params={"email": "keep@example.com"})
        price = client.v1.prices.create(params={"currency": "usd", "unit_amount": 700,
                                                "product_data": {"name": "Pro"},
                                                "lookup_key": "pro"})
        endpoint = client.v1.webhook_endpoints.create(params={"url": "http://127.0.0.1:9/x",
                                                              "enabled_events": ["*"]})
        assert state.exists()  # written after each write request, not only at shutdown
    with ServerThread(create_app(state_file=str(state))) as server:
        client = _client(server.url)
        assert client.v1.customers.retrieve(customer.id).email == "keep@example.com"
        found = client.v1.prices.list(params={"lookup_keys": ["pro"]}).data
        assert [p.id for p in found] == [price.id]
        with_key = client.v1.prices.create(params={"currency": "usd", "unit_amount": 1,
                                                   "product": str(price.product),
                                                   "lookup_key": "pro", "transfer_lookup_key": True})
        assert with_key.lookup_key == "pro"
    app = create_app(state_file=str(state))
    kept = app.state.sim.store.get("webhook_endpoint", endpoint.id)
    app.state.sim.close()
    assert kept is not None
    assert kept["_secret"] == endpoint.secret


def test_stripesim_serve_starts_and_delivers(tmp_path: Path) -> None:
    receiver = WebhookReceiver().start()
    port = free_port()
    env = {**os.environ, "STRIPESIM_WEBHOOK_URL": receiver.url,
           "STRIPESIM_WEBHOOK_SECRET": "whsec_from_env"}
    process = subprocess.Popen(
        [sys.executable, "-m", "stripesim", "serve", "--port", str(port),
         "--state-file", str(tmp_path / "s.json"), "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        customer = _client(url).v1.customers.create(params={"name": "Served"})
        assert customer.id.startswith("cus_")
        assert httpx.post(url + "/_sim/flush").json()["drained"]
        (received,) = receiver.received
        event = stripe.Webhook.construct_event(received.body, received.signature, "whsec_from_env")
        assert event.type == "customer.created"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        receiver.stop()
    assert f"listening on http://127.0.0.1:{port}" in output


def test_serve_refuses_a_secret_that_is_not_whsec() -> None:
    result = subprocess.run([sys.executable, "-m", "stripesim", "serve", "--webhook-url",
                             "http://x", "--webhook-secret", "nope"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "whsec_" in result.stderr


def _wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"stripesim exited: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(url + "/_sim/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # polling for the port to open, not waiting on work
    raise AssertionError("stripesim serve did not start within 15 s")


def test_create_app_works_in_process_without_sockets() -> None:
    async def scenario() -> tuple[int, dict[str, object]]:
        app = create_app()
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
                response = await client.post("/v1/customers", data={"email": "asgi@example.com"},
                                             headers={"Authorization": f"Bearer {API_KEY}"})
                return response.status_code, response.json()
        finally:
            app.state.sim.close()  # ASGITransport runs no lifespan: close by hand

    # In a thread of its own: a Playwright browser in this worker may hold a loop on the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        status, body = pool.submit(asyncio.run, scenario()).result()
    assert status == 200
    assert body["email"] == "asgi@example.com"
