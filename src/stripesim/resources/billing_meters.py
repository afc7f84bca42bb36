"""/v1/billing/meters (+ deactivate, reactivate, event_summaries), /v1/billing/meter_events,
/v1/billing/meter_event_adjustments; `/_sim/billing/meter_events` lists what was recorded.

A meter event's `identifier` is unique (a second event with it answers 400,
as Stripe does); its `timestamp` must lie within the past 35 days and at
most 5 minutes ahead of "now", which for a customer on a test clock is the
clock's time. How events are validated and summed: `billing.metering`.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ..billing.customers import live_customer
from ..billing.metering import events_of, judge, usage
from ..billing.periods import DAY_S, HOUR_S
from ..errors import InvalidRequestError, ParameterInvalid
from ..pagination import list_object, paginate
from ..params import get_dict, get_int, get_str, reject_unknown, require
from ..routing import Call, Router
from ..store import new_id

__all__ = ["control_router", "router"]

router = Router()
control_router = Router()
NOUN = "billing.meter"
_FORMULAS = ("count", "last", "sum")
_PAST_WINDOW_S = 35 * DAY_S
_FUTURE_WINDOW_S = 5 * 60
_WINDOWS = {"hour": HOUR_S, "day": DAY_S}


def _active_with_event_name(call: Call, event_name: str) -> dict[str, Any] | None:
    return next((m for m in call.store.all(NOUN)
                 if m["event_name"] == event_name and m["status"] == "active"), None)


def _key(params: dict[str, Any], name: str, default: str) -> str:
    raw = get_dict(params, name) or {}
    key = get_str(raw, "event_payload_key", default, param=f"{name}[event_payload_key]")
    if not key:
        require({}, f"{name}[event_payload_key]")
    return str(key)


@router.post("/v1/billing/meters")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"display_name", "event_name", "default_aggregation",
                            "customer_mapping", "value_settings", "event_time_window"})
    display_name = str(require(params, "display_name"))
    event_name = str(require(params, "event_name"))
    if len(display_name) > 250 or len(event_name) > 100:
        raise ParameterInvalid("event_name" if len(event_name) > 100 else "display_name",
                               "display_name is at most 250 and event_name at most 100 "
                               "characters long.")
    aggregation = get_dict(params, "default_aggregation") or require(params, "default_aggregation")
    formula = get_str(aggregation, "formula", choices=_FORMULAS,
                      param="default_aggregation[formula]") or require(
        {}, "default_aggregation[formula]")
    mapping = get_dict(params, "customer_mapping") or {}
    get_str(mapping, "type", "by_id", choices=("by_id",), param="customer_mapping[type]")
    if _active_with_event_name(call, event_name) is not None:
        raise InvalidRequestError(f"An active meter with event_name `{event_name}` already "
                                  "exists.", param="event_name")
    now = call.store.now()
    meter = call.store.insert({
        "id": new_id("mtr"), "object": NOUN, "created": now,
        "customer_mapping": {"event_payload_key": _key(params, "customer_mapping",
                                                       "stripe_customer_id"),
                             "type": "by_id"},
        "default_aggregation": {"formula": formula}, "display_name": display_name,
        "event_name": event_name,
        "event_time_window": get_str(params, "event_time_window", choices=("day", "hour")),
        "livemode": False, "status": "active", "status_transitions": {"deactivated_at": None},
        "updated": now, "value_settings": {"event_payload_key": _key(params, "value_settings",
                                                                      "value")},
    })
    call.emit("billing.meter.created", meter)
    return meter


def _meter(call: Call) -> dict[str, Any]:
    return call.store.require(NOUN, call.path_params["id"])


@router.get("/v1/billing/meters/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _meter(call)


@router.post("/v1/billing/meters/{id}")
def update(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"display_name"})
    meter = _meter(call)
    before = copy.deepcopy(meter)
    if call.params.get("display_name"):
        meter["display_name"] = str(call.params["display_name"])
        meter["updated"] = call.store.now()
    call.store.touch()
    call.emit_update("billing.meter.updated", meter, before)
    return meter


def _set_status(call: Call, status: str) -> dict[str, Any]:
    reject_unknown(call.params, set())
    meter = _meter(call)
    if meter["status"] == status:
        raise InvalidRequestError(f"This meter is already {status}.")
    if status == "active" and _active_with_event_name(call, meter["event_name"]) is not None:
        raise InvalidRequestError(f"Another active meter uses event_name "
                                  f"`{meter['event_name']}`.")
    now = call.store.now()
    meter.update(status=status, updated=now)
    meter["status_transitions"]["deactivated_at"] = now if status == "inactive" else None
    call.store.touch()
    call.emit("billing.meter.deactivated" if status == "inactive" else "billing.meter.reactivated",
              meter)
    return meter


@router.post("/v1/billing/meters/{id}/deactivate")
def deactivate(call: Call) -> dict[str, Any]:
    return _set_status(call, "inactive")


@router.post("/v1/billing/meters/{id}/reactivate")
def reactivate(call: Call) -> dict[str, Any]:
    return _set_status(call, "active")


@router.get("/v1/billing/meters")
def list_meters(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"limit", "starting_after", "ending_before", "status"})
    items = call.store.all(NOUN)
    status = get_str(call.params, "status", choices=("active", "inactive"))
    if status:
        items = [m for m in items if m["status"] == status]
    return paginate(call, items, url="/v1/billing/meters", noun=NOUN)


@router.get("/v1/billing/meters/{id}/event_summaries")
def event_summaries(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"customer", "start_time", "end_time", "value_grouping_window",
                            "limit", "starting_after", "ending_before", "customer_account"})
    meter = _meter(call)
    customer = live_customer(call.store, require(params, "customer"), param="customer")
    start = get_int(params, "start_time", param="start_time")
    end = get_int(params, "end_time", param="end_time")
    if start is None or end is None:
        require({}, "start_time" if start is None else "end_time")
        raise AssertionError("unreachable")
    window = get_str(params, "value_grouping_window", choices=("day", "hour"))
    step = _WINDOWS[window] if window else 60
    if start >= end:
        raise ParameterInvalid("end_time", "end_time must be after start_time.")
    if start % step or end % step:
        raise ParameterInvalid("start_time", f"start_time and end_time must be aligned to "
                                             f"{window or 'minute'} boundaries.")
    bounds = ([(t, min(t + step, end)) for t in range(start, end, step)] if window
              else [(start, end)])
    summaries = [{"id": new_id("mtrusg"), "object": "billing.meter_event_summary",
                  "aggregated_value": usage(call.store, meter, customer["id"], lo, hi),
                  "end_time": hi, "livemode": False, "meter": meter["id"], "start_time": lo}
                 for lo, hi in bounds]
    # Oldest first: paginate lists the newest first, so hand it the reverse.
    return paginate(call, list(reversed(summaries)),
                    url=f"/v1/billing/meters/{meter['id']}/event_summaries",
                    noun="billing.meter_event_summary")


def _now_for_payload(call: Call, payload: dict[str, Any]) -> int:
    """A test clock's customer reports usage in the clock's time."""
    for key in {m["customer_mapping"]["event_payload_key"] for m in call.store.all(NOUN)} or {
            "stripe_customer_id"}:
        customer_id = payload.get(key)
        if isinstance(customer_id, str) and call.store.get("customer", customer_id):
            return call.store.now_for(customer_id)
    return call.store.now()


@router.post("/v1/billing/meter_events")
def create_event(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"event_name", "payload", "identifier", "timestamp"})
    event_name = str(require(params, "event_name"))
    payload = get_dict(params, "payload")
    if not payload:
        require({}, "payload")
    assert payload is not None
    if any(not isinstance(v, str) for v in payload.values()):
        raise ParameterInvalid("payload", "Payload values must be strings.")
    identifier = get_str(params, "identifier") or str(uuid.uuid4())
    if len(identifier) > 100:
        raise ParameterInvalid("identifier", "identifier is at most 100 characters long.")
    events = events_of(call.store)
    if identifier in events:
        raise InvalidRequestError(f"An event already exists with identifier {identifier}.",
                                  param="identifier")
    now = _now_for_payload(call, payload)
    timestamp = get_int(params, "timestamp", now, param="timestamp")
    assert timestamp is not None
    if not now - _PAST_WINDOW_S <= timestamp <= now + _FUTURE_WINDOW_S:
        raise ParameterInvalid("timestamp", "The timestamp must be within the past 35 days and "
                                            "no more than 5 minutes in the future.")
    event: dict[str, Any] = {"object": "billing.meter_event", "created": now,
                             "event_name": event_name, "identifier": identifier,
                             "livemode": False, "payload": dict(payload),
                             "timestamp": timestamp}
    judge(call.store, event)
    events[identifier] = event
    call.store.touch()
    return event


@router.post("/v1/billing/meter_event_adjustments")
def adjust(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"event_name", "type", "cancel"})
    event_name = str(require(params, "event_name"))
    get_str(params, "type", "cancel", choices=("cancel",))
    cancel = get_dict(params, "cancel") or {}
    identifier = str(require(cancel, "identifier") if cancel.get("identifier")
                     else require({}, "cancel[identifier]"))
    event = events_of(call.store).get(identifier)
    if event is None or event["event_name"] != event_name:
        raise InvalidRequestError(f"No meter event with identifier {identifier} for "
                                  f"event_name `{event_name}`.", param="cancel[identifier]")
    event["_canceled"] = True
    call.store.touch()
    return {"object": "billing.meter_event_adjustment", "cancel": {"identifier": identifier},
            "event_name": event_name, "livemode": False, "status": "complete", "type": "cancel"}


@control_router.get("/_sim/billing/meter_events")
def recorded(call: Call) -> dict[str, Any]:
    """Every meter event, oldest first, with what validation found: `counted` (and the
    meter, customer, value it counts for) or the `error` code Stripe would report."""
    data = [{**{k: v for k, v in e.items() if not k.startswith("_")},
             "counted": e.get("_error") is None and not e.get("_canceled"),
             "error": e.get("_error"), "canceled": bool(e.get("_canceled")),
             "meter": e.get("_meter"), "customer": e.get("_customer"), "value": e.get("_value")}
            for e in events_of(call.store).values()]
    return list_object(data, "/_sim/billing/meter_events")
