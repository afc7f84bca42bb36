"""/v1/subscription_items: create, retrieve, update, delete (each prorated), list.

Every write goes through `update_subscription` (the same item rules and
prorations as `POST /v1/subscriptions/{id}` with `items[]`), so it emits
`customer.subscription.updated` like Stripe does; there is no
`subscription_item.*` event.
"""

from __future__ import annotations

from typing import Any

from ..errors import ResourceMissing
from ..pagination import paginate
from ..params import get_str, reject_unknown, require
from ..routing import Call, Router
from .subscriptions import live_subscription, update_subscription

__all__ = ["router"]

router = Router()
NOUN = "subscription_item"
_WRITE = {"price", "quantity", "metadata", "proration_behavior", "proration_date",
          "payment_behavior"}
# What a write forwards to update_subscription as the item's own fields.
_ITEM_FIELDS = ("price", "quantity", "metadata")


def _find(call: Call, item_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for sub in call.store.all("subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == item_id:
                return sub, item
    raise ResourceMissing(NOUN, item_id)


def _forward(call: Call, sub: dict[str, Any], change: dict[str, Any]) -> None:
    """Apply one item change as a subscription update, with the request's proration options."""
    forwarded: dict[str, Any] = {"items": [change]}
    for key in ("proration_behavior", "proration_date", "payment_behavior"):
        if call.params.get(key) not in (None, ""):
            forwarded[key] = call.params[key]
    update_subscription(call, sub, forwarded)


@router.post("/v1/subscription_items")
def create(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, _WRITE | {"subscription"})
    sub = live_subscription(call, require(params, "subscription"), param="subscription")
    require(params, "price")
    before = {item["id"] for item in sub["items"]["data"]}
    _forward(call, sub, {key: params[key] for key in _ITEM_FIELDS if key in params})
    return next(item for item in sub["items"]["data"] if item["id"] not in before)


@router.get("/v1/subscription_items")
def list_items(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"subscription", "limit", "starting_after", "ending_before"})
    sub = call.store.require("subscription", require(call.params, "subscription"),
                             param="subscription")
    # Items are listed oldest first by the subscription; paginate wants oldest first too.
    return paginate(call, list(sub["items"]["data"]), url="/v1/subscription_items", noun=NOUN)


@router.get("/v1/subscription_items/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _find(call, call.path_params["id"])[1]


@router.post("/v1/subscription_items/{id}")
def update(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, _WRITE | {"off_session"})
    sub, item = _find(call, call.path_params["id"])
    change = {"id": item["id"], **{key: params[key] for key in _ITEM_FIELDS if key in params}}
    _forward(call, sub, change)
    return item


@router.delete("/v1/subscription_items/{id}")
def delete(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"proration_behavior", "proration_date", "payment_behavior",
                                 "clear_usage"})
    get_str(call.params, "clear_usage", choices=("true", "false"))
    sub, item = _find(call, call.path_params["id"])
    _forward(call, sub, {"id": item["id"], "deleted": "true"})
    return {"id": item["id"], "object": NOUN, "deleted": True}
