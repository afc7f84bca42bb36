"""Rendering stored objects: drop private keys, then apply `expand[]`.

Stored objects hold ids for expandable fields. `expand[]=customer` swaps the
id for the object; dotted paths go deeper (`latest_invoice.payment_intent`);
lists are entered with `data.` (`data.customer`), at most 4 levels, as Stripe.

Some objects are embedded whole rather than by id (a subscription item's
`price` and `plan`, a Checkout line item's `price`). Stripe renders those as
they are now, not as they were when embedded: a price that lost its lookup key
to a newer price shows no lookup key on the old subscriptions that still use it.
`show_current` does that for the types registered with `register_current`:

    expand.register_current("price", lambda store, price: store.get("price", price["id"]))

Fields that exist only when expanded (a customer's `subscriptions`,
`tax_ids`, ...) come from expanders that a module registers once at import:

    expand.register_expander("customer", "subscriptions",
                             lambda store, customer: list_object([...], url))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequestError

if TYPE_CHECKING:
    from .store import Store

__all__ = ["MAX_DEPTH", "apply_expand", "public", "register_current", "register_expander", "show_current"]

MAX_DEPTH = 4
Expander = Callable[["Store", dict[str, Any]], Any]
_expanders: dict[tuple[str, str], Expander] = {}
# object type -> the current state of an embedded copy (None: keep the copy, e.g. the original is gone).
Current = Callable[["Store", dict[str, Any]], "dict[str, Any] | None"]
_current: dict[str, Current] = {}
# Objects whose content is a snapshot of its moment: an event's `data.object` stays as it was sent.
_SNAPSHOTS = frozenset({"event"})


def register_expander(object_type: str, field: str, expander: Expander) -> None:
    """Make `field` of `object_type` available through expand[] only."""
    _expanders[(object_type, field)] = expander


def register_current(object_type: str, current: Current) -> None:
    """Render embedded copies of `object_type` from `current` (the object's state now)."""
    _current[object_type] = current


def show_current(store: Store, body: Any) -> Any:
    """Replace, inside `body` (a public copy), every embedded copy of a registered type by its
    current state; `body` itself is left as it is. Returns `body`."""
    if isinstance(body, list):
        for item in body:
            show_current(store, item)
    elif isinstance(body, dict) and body.get("object") not in _SNAPSHOTS:
        for key, value in body.items():
            if isinstance(value, dict) and value.get("object") in _current and "id" in value:
                now = _current[str(value["object"])](store, value)
                body[key] = value if now is None else public(now)
            else:
                show_current(store, value)
    return body


def public(value: Any) -> Any:
    """A deep copy without keys starting with "_" (private emulator state)."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def apply_expand(store: Store, body: dict[str, Any], paths: list[str]) -> None:
    """Expand `paths` inside `body` (already a public copy) in place."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise InvalidRequestError(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. "
                f"Property: {path}", param="expand")
        _expand_in(store, body, parts, path)


def _expand_in(store: Store, node: Any, parts: list[str], path: str) -> None:
    if isinstance(node, list):
        for item in node:
            _expand_in(store, item, parts, path)
        return
    if not isinstance(node, dict):
        return
    name, rest = parts[0], parts[1:]
    if name not in node:
        expander = _expanders.get((str(node.get("object")), name))
        if expander is None:
            raise InvalidRequestError(
                f"This property cannot be expanded ({path}).", param="expand")
        # The stored object, not the public copy: an expander may read private state (`_line_items`).
        stored = store.get(str(node.get("object")), str(node.get("id")))
        node[name] = show_current(store, public(expander(store, stored or node)))
    value = node[name]
    if isinstance(value, list):
        # A list of ids (`discounts`): each one that names a stored object is expanded.
        value = node[name] = [_expanded(store, item) for item in value]
    elif isinstance(value, str) and _is_id(value):
        target = store.find(value)
        if target is None:
            # Stripe keeps the id when the target is gone (e.g. deleted).
            return
        value = node[name] = show_current(store, public(target))
    # A field already present (nested object, "includable" count) needs no work.
    if rest and value is not None:
        _expand_in(store, value, rest, path)


def _expanded(store: Store, item: Any) -> Any:
    if isinstance(item, str) and _is_id(item):
        target = store.find(item)
        if target is not None:
            return show_current(store, public(target))
    return item


def _is_id(value: str) -> bool:
    # Most ids carry a prefix (`cus_`), but coupon ids are whatever the account chose ("SUMMER25").
    return bool(value) and not any(c.isspace() for c in value)
