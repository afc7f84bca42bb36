"""Ctx: the actor behind engine work (a request, or the clock), and shared lookups."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import events
from ..errors import RateLimitError
from ..store import TEST_CLOCK_TYPE

if TYPE_CHECKING:
    from ..routing import Call
    from ..sim import Sim
    from ..store import Store

__all__ = ["ADVANCING_MESSAGE", "Ctx", "clock_of", "ensure_clock_writable", "ensure_writable"]

ADVANCING_MESSAGE = "Test clock advancement underway - cannot perform modifications"


@dataclass
class Ctx:
    """Engine context. `call` is None for automatic work (clock advance, ticker):
    such events carry a null request id, as Stripe's do."""

    sim: Sim
    call: Call | None = None

    @property
    def store(self) -> Store:
        return self.sim.store

    def emit(self, event_type: str, obj: dict[str, Any],
             previous: dict[str, Any] | None = None) -> None:
        events.emit(self.sim, event_type, obj, previous, request=self.call)

    def emit_update(self, event_type: str, obj: dict[str, Any], before: dict[str, Any]) -> None:
        changed = events.previous_attributes(before, obj)
        if changed:
            self.emit(event_type, obj, changed)

    def now(self, customer_id: str | None) -> int:
        return self.store.now_for(customer_id)

    def customer(self, customer_id: str) -> dict[str, Any]:
        return self.store.require("customer", customer_id, param="customer")

    def snapshot(self, obj: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(obj)


def clock_of(store: Store, customer_id: str | None) -> str | None:
    """The test clock a customer (and so its billing objects) follows, if any."""
    customer = store.get("customer", customer_id) if customer_id else None
    clock = customer.get("test_clock") if customer else None
    return clock if isinstance(clock, str) else None


def ensure_writable(store: Store, customer_id: str | None) -> None:
    """429 while the customer's test clock advances, as Stripe answers."""
    ensure_clock_writable(store, clock_of(store, customer_id))


def ensure_clock_writable(store: Store, clock_id: str | None) -> None:
    """429 while this test clock advances (e.g. creating a customer on it)."""
    clock = store.get(TEST_CLOCK_TYPE, clock_id) if clock_id else None
    if clock is not None and clock.get("status") == "advancing":
        raise RateLimitError(ADVANCING_MESSAGE, code="rate_limit")
