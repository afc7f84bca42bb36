"""/v1/events: list (the last 30 days, by type or delivery) and retrieve.

Events are made by `stripesim.events.emit`; this is only the API that reads them.
"""

from __future__ import annotations

from typing import Any

from ..errors import ParameterInvalid
from ..events import event_matches
from ..pagination import filter_created, paginate
from ..params import get_bool, get_list, get_str, reject_unknown
from ..routing import Call, Router

__all__ = ["EVENTS_KEPT_S", "router"]

router = Router()
EVENTS_KEPT_S = 30 * 86400


@router.get("/v1/events")
def list_events(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"limit", "starting_after", "ending_before", "created",
                            "type", "types", "delivery_success"})
    # Stripe lists the events of the last 30 days only; older ones are gone from the API.
    oldest = call.store.now() - EVENTS_KEPT_S
    items = filter_created([e for e in call.store.all("event") if e["created"] >= oldest], params)
    single = get_str(params, "type")
    many = get_list(params, "types")
    if single and many:
        raise ParameterInvalid(
            "types", "You may only specify one of these parameters: type, types.")
    patterns = [single] if single else many
    if patterns:
        items = [e for e in items if event_matches(patterns, e["type"])]
    delivered = get_bool(params, "delivery_success")
    if delivered is not None:
        items = [e for e in items if (e["pending_webhooks"] == 0) == delivered]
    return paginate(call, items, url="/v1/events", noun="event")


@router.get("/v1/events/{id}")
def retrieve_event(call: Call) -> dict[str, Any]:
    return call.store.require("event", call.path_params["id"])
