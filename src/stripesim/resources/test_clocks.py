"""/v1/test_helpers/test_clocks, plus `/_sim/test_clocks/{id}/advance` (synchronous)."""

from __future__ import annotations

import copy
from typing import Any

from .. import clock as clocks
from ..billing.context import ADVANCING_MESSAGE, Ctx
from ..billing.periods import boundary
from ..billing.subscription_end import cancel
from ..errors import InvalidRequestError, RateLimitError
from ..pagination import paginate
from ..params import get_int, get_str, reject_unknown, require
from ..routing import Call, Router
from ..store import TEST_CLOCK_TYPE, new_id

__all__ = ["control_router", "router"]

router = Router()
control_router = Router()
NOUN = TEST_CLOCK_TYPE
_YEAR_S = 365 * 86_400
_MAX_CLOCKS = 100


@router.post("/v1/test_helpers/test_clocks")
def create(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"frozen_time", "name"})
    frozen = get_int(call.params, "frozen_time", param="frozen_time")
    if frozen is None:
        require(call.params, "frozen_time")
    live = [c for c in call.store.all(NOUN) if not c.get("deleted")]
    if len(live) >= _MAX_CLOCKS:
        raise InvalidRequestError(f"You can have at most {_MAX_CLOCKS} test clocks.")
    now = call.store.now()
    clock = call.store.insert({
        "id": new_id("clock"), "object": NOUN, "created": now, "deletes_after": now + 30 * 86_400,
        "frozen_time": frozen, "livemode": False, "name": get_str(call.params, "name") or None,
        "status": "ready", "status_details": {},
    })
    call.emit("test_helpers.test_clock.created", clock)
    return clock


def _live_clock(call: Call) -> dict[str, Any]:
    found = call.store.require(NOUN, call.path_params["id"], noun="test_helpers.test_clock")
    if found.get("deleted"):
        call.store.require(NOUN, "", noun="test_helpers.test_clock")
    return found


@router.get("/v1/test_helpers/test_clocks/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _live_clock(call)


@router.get("/v1/test_helpers/test_clocks")
def list_clocks(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"limit", "starting_after", "ending_before"})
    items = [c for c in call.store.all(NOUN) if not c.get("deleted")]
    return paginate(call, items, url="/v1/test_helpers/test_clocks", noun=NOUN)


@router.delete("/v1/test_helpers/test_clocks/{id}")
def delete(call: Call) -> dict[str, Any]:
    clock = _live_clock(call)
    if clock["status"] == "advancing":
        raise RateLimitError(ADVANCING_MESSAGE)
    ctx = Ctx(call.sim, call)
    at = int(clock["frozen_time"])
    for sub in call.store.all("subscription"):
        if sub.get("test_clock") == clock["id"] and sub["status"] not in ("canceled", "incomplete_expired"):
            cancel(ctx, sub, at, reason="cancellation_requested")
    for customer in call.store.all("customer"):
        if customer.get("test_clock") == clock["id"] and not customer.get("deleted"):
            snapshot = copy.deepcopy(customer)
            customer.clear()
            customer.update({"id": snapshot["id"], "object": "customer", "deleted": True})
            call.emit("customer.deleted", snapshot)
    snapshot = copy.deepcopy(clock)
    clock.clear()
    clock.update({"id": snapshot["id"], "object": NOUN, "deleted": True})
    call.store.touch()
    call.emit("test_helpers.test_clock.deleted", snapshot)
    return clock


def _check_target(call: Call, clock: dict[str, Any]) -> int:
    reject_unknown(call.params, {"frozen_time"})
    target = get_int(call.params, "frozen_time", param="frozen_time")
    if target is None:
        require(call.params, "frozen_time")
        raise AssertionError("unreachable")
    if clock["status"] == "advancing":
        raise RateLimitError(ADVANCING_MESSAGE)
    current = int(clock["frozen_time"])
    if target <= current:
        raise InvalidRequestError(
            "The frozen_time must be later than the test clock's current frozen_time "
            f"({current}).", param="frozen_time")
    limit = _max_target(call, clock, current)
    if target > limit:
        raise InvalidRequestError(
            "Cannot advance the test clock more than two intervals of the shortest subscription "
            f"interval on it (or two years if it has none): frozen_time must be at most {limit}.",
            param="frozen_time")
    return target


def _max_target(call: Call, clock: dict[str, Any], current: int) -> int:
    """Two intervals of the shortest subscription on the clock; two years if none."""
    spans = []
    for sub in call.store.all("subscription"):
        if sub.get("test_clock") == clock["id"] and sub["status"] not in ("canceled", "incomplete_expired"):
            for item in sub["items"]["data"]:
                recurring = item["price"]["recurring"]
                spans.append(boundary(current, recurring["interval"],
                                      int(recurring.get("interval_count", 1)), 2) - current)
    positive = [s for s in spans if s > 0]
    return current + (min(positive) if positive else 2 * _YEAR_S)


@router.post("/v1/test_helpers/test_clocks/{id}/advance")
def advance(call: Call) -> dict[str, Any]:
    """Answers at once with status advancing; the work runs on a thread (→ ready)."""
    clock = _live_clock(call)
    target = _check_target(call, clock)
    clocks.begin_advance(call.sim, clock, target)
    response = copy.deepcopy(clock)
    clocks.start_advance_thread(call.sim, clock["id"])
    return response


@control_router.post("/_sim/test_clocks/{id}/advance", locked=False)
def advance_sync(call: Call) -> dict[str, Any]:
    """Test helper: advance and return once the clock is ready (same checks as the API)."""
    with call.store.lock:
        clock = _live_clock(call)
        target = _check_target(call, clock)
        clocks.begin_advance(call.sim, clock, target)
    clocks.advance_now(call.sim, clock["id"])
    with call.store.lock:
        return copy.deepcopy(_live_clock(call))


@control_router.post("/_sim/test_clocks/{id}/wait", locked=False)
def wait_ready(call: Call) -> dict[str, Any]:
    """Test helper: return once an advance started through the API has finished
    (`timeout_s`, default 30), instead of polling the clock's status."""
    try:
        timeout_s = float(call.params.get("timeout_s", 30))
    except (TypeError, ValueError):
        raise InvalidRequestError("timeout_s must be a number.") from None
    if not clocks.wait_for_advance(call.sim, call.path_params["id"], timeout_s):
        raise InvalidRequestError("The test clock is still advancing.", http_status=408)
    with call.store.lock:
        return copy.deepcopy(_live_clock(call))
