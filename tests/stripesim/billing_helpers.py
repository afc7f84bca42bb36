"""Shared steps for the billing tests: catalog, clocks, checkout, event order."""

from __future__ import annotations

from typing import Any

from tests.stripesim.conftest import SimHelper

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400


def price(sim: SimHelper, amount: int = 2000, interval: str | None = "month",
          name: str = "Pro") -> Any:
    params: dict[str, Any] = {"currency": "usd", "unit_amount": amount,
                              "product_data": {"name": name}}
    if interval:
        params["recurring"] = {"interval": interval}
    return sim.client.v1.prices.create(params=params)


def clock_customer(sim: SimHelper, pm: str | None = "pm_card_visa",
                   frozen_time: int = T0) -> tuple[Any, Any]:
    clock = sim.client.v1.test_helpers.test_clocks.create(params={"frozen_time": frozen_time})
    params: dict[str, Any] = {"email": "ada@example.com", "test_clock": clock.id}
    if pm:
        params.update(payment_method=pm, invoice_settings={"default_payment_method": pm})
    customer = sim.client.v1.customers.create(params=params)
    return clock, customer


def advance(sim: SimHelper, clock_id: str, frozen_time: int) -> dict[str, Any]:
    result: dict[str, Any] = sim.control("POST", f"/_sim/test_clocks/{clock_id}/advance",
                                         {"frozen_time": frozen_time})
    assert result["status"] == "ready"
    return result


def event_types(sim: SimHelper, since_id: str | None = None) -> list[str]:
    """Every event type so far, oldest first."""
    events = list(sim.client.v1.events.list(params={"limit": 100}).auto_paging_iter())
    return [e.type for e in reversed(events)]


def subscribe(sim: SimHelper, customer_id: str, price_id: str, **extra: Any) -> Any:
    return sim.client.v1.subscriptions.create(params={
        "customer": customer_id, "items": [{"price": price_id}], **extra})
