"""What a subscription's `items[]` may say and how a change of them is applied.

`item_specs` checks the items of a new subscription; `item_ops` checks the
items of an update (or of a `create_preview`): changed (`id` + price /
quantity), added (no `id`), removed (`deleted`), before anything changes;
`update_items` applies them with per-item prorations (`billing.proration`).
Shared rules: recurring and active prices only, one price once, one currency
and one interval per subscription, no quantity on metered prices, at least
one item left.
"""

from __future__ import annotations

from typing import Any

from ..billing import proration
from ..billing.context import Ctx
from ..billing.objects import is_metered, quantity_of, subscription_item
from ..billing.subscription_shape import ItemSpec
from ..errors import InvalidRequestError, ParameterInvalid
from ..params import get_bool, get_int, merge_metadata, require
from ..routing import Call

__all__ = ["ItemOp", "check_prices", "item_ops", "item_specs", "recurring_price",
           "update_items"]

# What an item of `items[]` may say (create and update; `deleted` on update only).
_ITEM_KEYS = {"id", "price", "quantity", "metadata", "deleted", "clear_usage"}


def recurring_price(call: Call, price_id: Any, param: str) -> dict[str, Any]:
    price = call.store.require("price", price_id, param=param)
    if not price.get("recurring"):
        raise InvalidRequestError(
            "The price specified is set to `type=one_time` but this field only accepts prices "
            "with `type=recurring`.", param=param)
    if not price.get("active", True):
        raise InvalidRequestError(f"The price specified is inactive: {price_id}.", param=param)
    return price


def item_specs(call: Call, items: list[Any]) -> list[ItemSpec]:
    if not items:
        require({}, "items")
    specs: list[ItemSpec] = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise ParameterInvalid(f"items[{index}]", f"Invalid hash: items[{index}]")
        _known_item_keys(raw, f"items[{index}]")
        price = recurring_price(call, require(raw, "price") if "price" in raw else
                                require({}, f"items[{index}][price]"), f"items[{index}][price]")
        _no_quantity_if_metered(price, raw, f"items[{index}]")
        quantity = get_int(raw, "quantity", 1, minimum=0, param=f"items[{index}][quantity]")
        specs.append((price, quantity if quantity is not None else 1,
                      merge_metadata({}, raw.get("metadata"), param=f"items[{index}][metadata]")))
    check_prices([spec[0] for spec in specs], param="items")
    return specs


# A validated change of the item list: ("remove", item) | ("change", item, price, quantity, raw)
# | ("add", price, quantity, metadata). All are checked before any is applied.
ItemOp = tuple[Any, ...]


def item_ops(call: Call, sub: dict[str, Any], items: list[Any], *,
             prefix: str = "items") -> list[ItemOp]:
    """Validate `items[]` of an update (or a preview) against `sub`, changing nothing."""
    ops: list[ItemOp] = []
    for index, raw in enumerate(items):
        param = f"{prefix}[{index}]"
        if not isinstance(raw, dict):
            raise ParameterInvalid(param, f"Invalid hash: {param}")
        _known_item_keys(raw, param)
        if sub["status"] == "incomplete":
            raise InvalidRequestError(
                "You cannot update the items of an incomplete subscription: pay its first "
                "invoice or let it expire.", param=prefix)
        item = next((i for i in sub["items"]["data"] if i["id"] == raw.get("id")), None)
        if raw.get("id") and item is None:
            raise InvalidRequestError(
                f"Subscription item {raw['id']} does not belong to this subscription.",
                param=f"{param}[id]")
        if get_bool(raw, "deleted", False, param=f"{param}[deleted]"):
            if item is None:
                require({}, f"{param}[id]")
            ops.append(("remove", item))
            continue
        if item is None:
            price = recurring_price(call, raw["price"] if raw.get("price") else
                                    require({}, f"{param}[price]"), f"{param}[price]")
            _no_quantity_if_metered(price, raw, param)
            quantity = get_int(raw, "quantity", 1, minimum=0, param=f"{param}[quantity]")
            ops.append(("add", price, 1 if quantity is None else quantity,
                        merge_metadata({}, raw.get("metadata"), param=f"{param}[metadata]")))
            continue
        price = (recurring_price(call, raw["price"], f"{param}[price]")
                 if raw.get("price") else item["price"])
        _no_quantity_if_metered(price, raw, param)
        quantity = get_int(raw, "quantity", quantity_of(item), minimum=0,
                           param=f"{param}[quantity]")
        ops.append(("change", item, price, int(quantity or 0), raw))
    _check_final_items(sub, ops, prefix)
    return ops


def _no_quantity_if_metered(price: dict[str, Any], raw: dict[str, Any], param: str) -> None:
    if is_metered(price) and raw.get("quantity") not in (None, ""):
        raise InvalidRequestError(
            f"Quantity should not be specified where usage_type is `metered`. Remove quantity "
            f"from `{param}`.", param=f"{param}[quantity]")


def _known_item_keys(raw: dict[str, Any], param: str) -> None:
    for key in raw:
        if key not in _ITEM_KEYS:
            raise ParameterInvalid(f"{param}[{key}]", f"Received unknown parameter: {param}[{key}]",
                                   code="parameter_unknown")


def _check_final_items(sub: dict[str, Any], ops: list[ItemOp], prefix: str) -> None:
    """The item list after `ops`: not empty, one price once, one currency and interval."""
    final: dict[str, dict[str, Any]] = {i["id"]: i["price"] for i in sub["items"]["data"]}
    added: list[dict[str, Any]] = []
    for op in ops:
        if op[0] == "remove":
            final.pop(op[1]["id"], None)
        elif op[0] == "change":
            final[op[1]["id"]] = op[2]
        else:
            added.append(op[1])
    prices = [*final.values(), *added]
    if not prices:
        raise InvalidRequestError(
            "A subscription must keep at least one item. To end it, cancel the subscription "
            "(DELETE /v1/subscriptions/{id}).", param=prefix)
    check_prices(prices, param=prefix)


def check_prices(prices: list[dict[str, Any]], *, param: str) -> None:
    seen: set[str] = set()
    for price in prices:
        if price["id"] in seen:
            raise InvalidRequestError(
                f"Cannot add multiple subscription items with the same price: {price['id']}",
                param=param)
        seen.add(price["id"])
    if len({p["currency"] for p in prices}) > 1:
        raise InvalidRequestError("All prices on a subscription must have the same currency.",
                                  param=param)
    cycles = {(p["recurring"]["interval"], int(p["recurring"].get("interval_count", 1)))
              for p in prices}
    if len(cycles) > 1:
        raise InvalidRequestError(proration.INTERVAL_MISMATCH, param=param)


def update_items(call: Call, ctx: Ctx, sub: dict[str, Any], items: list[Any], at: int,
                  behaviour: str) -> str | None:
    what: str | None = None
    now = call.store.now_for(sub["customer"])
    for op in item_ops(call, sub, items):
        if op[0] == "remove":
            what = proration.remove_item(ctx, sub, op[1], at=at, behaviour=behaviour) or what
        elif op[0] == "add":
            item = subscription_item(op[1], subscription_id=sub["id"], quantity=op[2],
                                     created=now, period_start=now, period_end=now,
                                     metadata=op[3])
            what = proration.add_item(ctx, sub, item, at=at, behaviour=behaviour) or what
        else:
            _, item, price, quantity, raw = op
            item["metadata"] = merge_metadata(item["metadata"], raw.get("metadata"))
            if price["id"] != item["price"]["id"] or quantity != quantity_of(item):
                what = proration.change_item(ctx, sub, item, price=price, quantity=quantity,
                                             at=at, behaviour=behaviour) or what
    return what
