"""List and filter helpers shared by every list endpoint.

    @router.get("/v1/customers")
    def list_customers(call: Call) -> dict[str, Any]:
        items = [c for c in call.store.all("customer") if ...]
        return paginate(call, filter_created(items, call.params))

`items` come oldest first (store order); Stripe lists newest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ParameterInvalid, ResourceMissing
from .params import get_int

if TYPE_CHECKING:
    from .routing import Call

__all__ = ["filter_created", "filter_range", "list_object", "paginate"]

LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created"})


def list_object(data: list[dict[str, Any]], url: str, has_more: bool = False) -> dict[str, Any]:
    """The `{object: "list", ...}` envelope (also for nested lists like items)."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def paginate(call: Call, items: list[dict[str, Any]], *, url: str | None = None,
             noun: str = "object") -> dict[str, Any]:
    """One page of `items` by `limit` / `starting_after` / `ending_before`."""
    params = call.params
    limit = get_int(params, "limit", 10, minimum=1, maximum=100) or 10
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise ParameterInvalid(
            "ending_before",
            "You may only specify one of these parameters: ending_before, starting_after.")
    newest_first = list(reversed(items))
    ids = [obj["id"] for obj in newest_first]
    if after:
        start = _position(ids, after, "starting_after", noun) + 1
        page = newest_first[start:start + limit]
        has_more = start + limit < len(newest_first)
    elif before:
        end = _position(ids, before, "ending_before", noun)
        start = max(0, end - limit)
        page = newest_first[start:end]
        has_more = start > 0
    else:
        page = newest_first[:limit]
        has_more = limit < len(newest_first)
    return list_object(page, url or call.path, has_more)


def _position(ids: list[str], cursor: Any, param: str, noun: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise ResourceMissing(noun, str(cursor), param=param) from None


def filter_range(items: list[dict[str, Any]], key: str, spec: Any, param: str) -> list[dict[str, Any]]:
    """`created=5` or `created[gte]=5&created[lt]=9` applied to integer field `key`."""
    if spec is None or spec == "":
        return items
    bounds = spec if isinstance(spec, dict) else {"eq": spec}
    checks: list[tuple[str, int]] = []
    for op, raw in bounds.items():
        if op not in ("eq", "gt", "gte", "lt", "lte"):
            raise ParameterInvalid(f"{param}[{op}]", f"Received unknown parameter: {param}[{op}]")
        value = get_int({"v": raw}, "v", param=f"{param}[{op}]")
        assert value is not None
        checks.append((op, value))
    return [obj for obj in items if all(_compare(obj.get(key), op, v) for op, v in checks)]


def _compare(actual: Any, op: str, value: int) -> bool:
    if not isinstance(actual, int):
        return False
    return {
        "eq": actual == value, "gt": actual > value, "gte": actual >= value,
        "lt": actual < value, "lte": actual <= value,
    }[op]


def filter_created(items: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    return filter_range(items, "created", params.get("created"), "created")
