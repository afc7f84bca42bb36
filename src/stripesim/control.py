"""/_sim/...: the test control plane (no Stripe auth, JSON or form bodies).

Other modules add their own control routes with a module-level
`control_router = Router()` (e.g. `/_sim/checkout/...`, clock helpers).
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidRequestError
from .params import get_list, require
from .routing import Call, Router

__all__ = ["control_router"]

control_router = Router()


@control_router.get("/_sim/health")
def health(call: Call) -> dict[str, Any]:
    return {"ok": True, "api_version": call.sim.api_version}


@control_router.post("/_sim/reset", locked=False)
def reset(call: Call) -> dict[str, Any]:
    call.sim.reset()
    return {"ok": True}


@control_router.get("/_sim/faults")
def get_faults(call: Call) -> dict[str, Any]:
    return call.sim.faults.describe()


@control_router.post("/_sim/faults")
def set_faults(call: Call) -> dict[str, Any]:
    """Replace the fault configuration (see stripesim.faults); `{"clear": true}` turns all off."""
    spec = {k: v for k, v in call.params.items() if k != "clear"}
    try:
        call.sim.faults.configure({} if call.params.get("clear") else spec)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidRequestError(f"Invalid fault configuration: {exc}") from None
    return call.sim.faults.describe()


@control_router.delete("/_sim/faults")
def clear_faults(call: Call) -> dict[str, Any]:
    call.sim.faults.clear()
    return call.sim.faults.describe()


@control_router.get("/_sim/deliveries")
def deliveries(call: Call) -> dict[str, Any]:
    """The delivery log, oldest first; filter with `event` or `type`."""
    items = call.sim.dispatcher.deliveries()
    if call.params.get("event"):
        items = [d for d in items if d["event_id"] == call.params["event"]]
    if call.params.get("type"):
        items = [d for d in items if d["event_type"] == call.params["type"]]
    return {"object": "list", "data": items}


@control_router.post("/_sim/flush", locked=False)
def flush(call: Call) -> dict[str, Any]:
    """Deliver every queued webhook now (retries compressed) and wait until none is left."""
    try:
        timeout_s = float(call.params.get("timeout_s", 30))
    except (TypeError, ValueError):
        raise InvalidRequestError("timeout_s must be a number.") from None
    drained = call.sim.dispatcher.flush(timeout_s)
    return {"ok": drained, "drained": drained}


@control_router.post("/_sim/webhook_endpoints")
def add_webhook_endpoint(call: Call) -> dict[str, Any]:
    """Quick config: `{"url": ..., "secret": "whsec_...", "enabled_events": ["*"]}`."""
    url = str(require(call.params, "url"))
    secret = call.params.get("secret")
    events = get_list(call.params, "enabled_events")
    endpoint = call.sim.add_webhook_endpoint(url, str(secret) if secret else None,
                                             [str(e) for e in events] if events else None)
    return {**endpoint, "secret": endpoint["_secret"]}
