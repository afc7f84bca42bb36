"""The example host app: coinslot mounted in-process (library mode) and called over HTTP (service mode)."""

from __future__ import annotations

import httpx
import pytest

from coinslot.catalog import flows as catalog_flows
from coinslot.catalog.parser import load_catalog
from coinslot.client import CoinslotClient, CoinslotError
from examples.host_two_modes import create_host_app
from tests.support.servers import ServerThread, free_port
from tests.support.stack import CATALOGS, Stack


def test_a_skinova_host_sells_pro_in_process_and_consultations_through_the_client(database_url: str) -> None:
    stack = Stack.start(database_url, catalog="skinova")
    try:
        gateway = stack.container.gateway
        catalog_flows.apply_push(
            gateway, catalog_flows.plan_push(gateway, load_catalog(CATALOGS / "skinova.toml"))
        )
        # The host's public address is one the operator allowed (COINSLOT_ALLOWED_REDIRECT_ORIGINS).
        host = create_host_app(
            stack.container.settings,
            coinslot_url=stack.url,
            api_key=stack.api_key,
            public_url="http://127.0.0.1:5000",
        )
        with ServerThread(host) as server, httpx.Client(base_url=server.url, timeout=30) as browser:
            upgrade = browser.get("/upgrade/skin_1")
            assert upgrade.status_code == 303
            session = stack.stripe.v1.checkout.sessions.list(params={"limit": 1}).data[0]
            assert upgrade.headers["location"] == session.url
            httpx.post(
                f"{stack.sim_server.url}/_sim/checkout/sessions/{session.id}/complete", json={}, timeout=30
            )
            landed = browser.get(
                "/account",
                params={"user_id": "skin_1", "checkout_status": "success", "session_id": session.id},
            ).json()
            assert (landed["plan"], landed["toast"]) == ("pro", "Welcome aboard!")

            answer = browser.post("/consultations/skin_2", json={"notes": "freckle changed colour"}).json()
            order = stack.api.get(f"/v1/orders/{answer['order_id']}").json()
            assert (order["status"], order["payload"]) == ("draft", {"notes": "freckle changed colour"})
            assert answer["checkout_url"].startswith(stack.sim_server.url)
    finally:
        stack.stop()


def test_the_client_raises_coinslot_errors_with_code_and_field(stack: Stack) -> None:
    with CoinslotClient(stack.url, stack.api_key) as client:
        with pytest.raises(CoinslotError) as caught:
            client.start_checkout(
                host_user_id="u1",
                pack="credits",
                quantity=3,
                success_url="http://127.0.0.1:5000/ok",
                cancel_url="http://127.0.0.1:5000/no",
            )
        assert (caught.value.status, caught.value.field) == (422, "quantity")
        assert "minimum of $5.00" in caught.value.message
    with CoinslotClient(stack.url, "cs_wrong") as client, pytest.raises(CoinslotError) as caught:
        client.get_customer("u1")
    assert caught.value.status == 401
    with (
        CoinslotClient(f"http://127.0.0.1:{free_port()}", "cs_x") as client,
        pytest.raises(CoinslotError) as caught,
    ):
        client.get_customer("u1")
    assert caught.value.code == "unreachable"
