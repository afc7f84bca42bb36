"""Usage from Billing Meters: recording meter events and summing them for a period.

Meter events are kept in `store.kv` (they have no id; their `identifier` is
unique), each with what its validation found. Stripe validates events
asynchronously: an event naming no active meter, no known customer, or a
value that is not a whole number is accepted (200) but never counted, as
Stripe would report it in an error report rather than in the answer.
`/_sim/billing/meter_events` shows each event's outcome.

A metered subscription item bills, on the invoice that ends a period, the
usage of that period (`usage(meter, customer, start, end)`: events with
`start <= timestamp < end`, aggregated by the meter's formula: sum, count,
or the last value).
"""

from __future__ import annotations

import re
from typing import Any

from ..store import Store

__all__ = ["EVENTS_KEY", "events_of", "judge", "usage"]

EVENTS_KEY = "billing.meter_events"
_WHOLE = re.compile(r"-?\d+")


def events_of(store: Store) -> dict[str, dict[str, Any]]:
    """Every meter event by identifier, in arrival order (the live dict in the store)."""
    found: dict[str, dict[str, Any]] = store.kv.setdefault(EVENTS_KEY, {})
    return found


def _meter_for(store: Store, event_name: str) -> dict[str, Any] | None:
    return next((m for m in store.all("billing.meter")
                 if m["event_name"] == event_name and m["status"] == "active"), None)


def judge(store: Store, event: dict[str, Any]) -> None:
    """Validate an event as Stripe does after accepting it: `_meter`, `_customer`, `_value`
    when it counts, `_error` (a Stripe error-report code) when it does not."""
    meter = _meter_for(store, str(event["event_name"]))
    if meter is None:
        event["_error"] = "no_meter"
        return
    payload = event["payload"]
    customer_id = payload.get(meter["customer_mapping"]["event_payload_key"])
    customer = store.get("customer", str(customer_id)) if customer_id else None
    if customer_id is None:
        event["_error"] = "meter_event_no_customer_defined"
        return
    if customer is None or customer.get("deleted"):
        event["_error"] = "meter_event_customer_not_found"
        return
    raw = payload.get(meter["value_settings"]["event_payload_key"])
    if meter["default_aggregation"]["formula"] == "count":
        value = 1
    elif raw is None or not _WHOLE.fullmatch(str(raw)):
        event["_error"] = "meter_event_invalid_value"
        return
    else:
        value = int(str(raw))
    event.update(_meter=meter["id"], _customer=customer["id"], _value=value, _error=None)


def usage(store: Store, meter: dict[str, Any], customer_id: str, start: int, end: int) -> int:
    """The meter's aggregate for the customer over `start <= timestamp < end`."""
    counted = [e for e in events_of(store).values()
               if e.get("_meter") == meter["id"] and e.get("_customer") == customer_id
               and not e.get("_canceled") and start <= int(e["timestamp"]) < end]
    formula = meter["default_aggregation"]["formula"]
    if formula == "count":
        return len(counted)
    if formula == "last":
        if not counted:
            return 0
        return int(max(counted, key=lambda e: (int(e["timestamp"]), int(e["created"])))["_value"])
    return sum(int(e["_value"]) for e in counted)
