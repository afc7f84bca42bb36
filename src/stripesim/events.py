"""Events: creation (`emit`) and `previous_attributes` diffs (the Events API is
`resources/events.py`).

    call.emit("customer.created", customer)                  # inside a handler
    call.emit_update("customer.updated", customer, before)   # diffed for you
    events.emit(sim, "invoice.created", invoice)             # no request (clock work)

`emit` snapshots the object (public deep copy), stores the event, and queues
one delivery per enabled webhook endpoint whose `enabled_events` match.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from .expand import public, show_current
from .store import new_id
from .versions import CANONICAL

if TYPE_CHECKING:
    from .sim import Sim

__all__ = ["Cause", "emit", "event_matches", "muted", "previous_attributes"]


class Cause(Protocol):
    """The request behind an event (a `routing.Call`): events sit below routing, so they
    name only what they read of it."""

    @property
    def request_id(self) -> str | None: ...

    @property
    def idempotency_key(self) -> str | None: ...


def emit(sim: Sim, event_type: str, obj: dict[str, Any],
         previous: dict[str, Any] | None = None, *,
         request: Cause | dict[str, Any] | None = None) -> dict[str, Any]:
    """Store an event about `obj` and queue its webhook deliveries.

    `previous` becomes `data.previous_attributes` (pass it for `*.updated`
    only). `request` is the Call that caused it, or None for automatic
    events (test clock advances), which Stripe marks with a null request id.
    """
    store = sim.store
    with store.lock:
        if sim.events_muted:  # read under the lock: `muted` holds it for its whole span
            return {"id": None, "object": "event", "type": event_type}
        endpoints = [
            ep for ep in store.all("webhook_endpoint")
            if ep.get("status") == "enabled" and event_matches(ep.get("enabled_events", []), event_type)
        ]
        # A snapshot of the object as Stripe would render it at this moment (embedded prices as they are now).
        data: dict[str, Any] = {"object": show_current(store, public(obj))}
        if previous is not None:
            data["previous_attributes"] = public(copy.deepcopy(previous))
        event_id = new_id("evt")
        event: dict[str, Any] = {
            "id": event_id,
            "object": "event",
            # Stored in the canonical shape; rendered in each reader's version (versions.render).
            "api_version": CANONICAL,
            "context": None,
            "created": store.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": len(endpoints),
            "request": _request_info(request),
            "type": event_type,
        }
        store.insert(event)
        sim.dispatcher.enqueue(event_id, [ep["id"] for ep in endpoints])
        return event


@contextmanager
def muted(sim: Sim) -> Iterator[None]:
    """Objects made inside send no event: they stand for history the integration never saw
    (a fixture of an existing account). Holds `store.lock` throughout, so no other thread's
    event is lost meanwhile."""
    with sim.store.lock:
        sim.events_muted += 1
        try:
            yield
        finally:
            sim.events_muted -= 1


def _request_info(request: Cause | dict[str, Any] | None) -> dict[str, Any]:
    if request is None:
        return {"id": None, "idempotency_key": None}
    if isinstance(request, dict):
        return {"id": request.get("id"), "idempotency_key": request.get("idempotency_key")}
    return {"id": request.request_id, "idempotency_key": request.idempotency_key}


def event_matches(enabled_events: list[str], event_type: str) -> bool:
    """`*` matches all; Stripe also accepts group wildcards like `invoice.*`."""
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in enabled_events)


def previous_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Old values of what changed, as Stripe shows them on `*.updated`.

    Nested hashes give only their changed keys (a key that did not exist
    before shows as null); lists and metadata are given whole, as Stripe does.
    """
    changed: dict[str, Any] = {}
    for key in set(before) | set(after):
        if key.startswith("_"):
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and key != "metadata":
            changed[key] = previous_attributes(old, new)
        else:
            changed[key] = copy.deepcopy(old)
    return changed
