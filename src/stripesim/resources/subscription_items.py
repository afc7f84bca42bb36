"""/v1/subscription_items: list by subscription, retrieve, update (price / quantity)."""

from __future__ import annotations

from typing import Any

from ..errors import ResourceMissing
from ..pagination import paginate
from ..params import get_str, reject_unknown, require
from ..routing import Call, Router
from .subscriptions import update_subscription

__all__ = ["router"]

router = Router()


def _find(call: Call, item_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for sub in call.store.all("subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == item_id:
                return sub, item
    raise ResourceMissing("subscription_item", item_id)


@router.get("/v1/subscription_items")
def list_items(call: Call) -> dict[str, Any]:
    reject_unknown(call.params, {"subscription", "limit", "starting_after", "ending_before"})
    sub = call.store.require("subscription", require(call.params, "subscription"),
                             param="subscription")
    # Items are listed oldest first by the subscription; paginate wants oldest first too.
    return paginate(call, list(sub["items"]["data"]), url="/v1/subscription_items",
                    noun="subscription_item")


@router.get("/v1/subscription_items/{id}")
def retrieve(call: Call) -> dict[str, Any]:
    return _find(call, call.path_params["id"])[1]


@router.post("/v1/subscription_items/{id}")
def update(call: Call) -> dict[str, Any]:
    params = call.params
    reject_unknown(params, {"price", "quantity", "metadata", "proration_behavior",
                            "proration_date", "payment_behavior", "off_session"})
    sub, item = _find(call, call.path_params["id"])
    change: dict[str, Any] = {"id": item["id"]}
    for key in ("price", "quantity", "metadata"):
        if key in params:
            change[key] = params[key]
    forwarded: dict[str, Any] = {"items": [change]}
    behaviour = get_str(params, "proration_behavior")
    if behaviour:
        forwarded["proration_behavior"] = behaviour
    update_subscription(call, sub, forwarded)
    return item
