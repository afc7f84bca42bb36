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
`tax_ids`, ...) come from expanders that a module registers once at import;
a dotted field names one inside a nested hash of the object:

    expand.register_expander("customer", "subscriptions",
                             lambda store, customer: list_object([...], url))
    expand.register_expander("checkout.session", "total_details.breakdown", breakdown)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequestError

if TYPE_CHECKING:
    from .store import Store

__all__ = ["MAX_DEPTH", "apply_expand", "public", "register_current", "register_expander",
           "register_optional", "show_current"]

MAX_DEPTH = 4
Expander = Callable[["Store", dict[str, Any]], Any]
# (type, field) -> (expander, first API version that has the field, or None: every version).
_expanders: dict[tuple[str, str], tuple[Expander, str | None]] = {}
# object type -> the current state of an embedded copy (None: keep the copy, e.g. the original is gone).
Current = Callable[["Store", dict[str, Any]], "dict[str, Any] | None"]
_current: dict[str, Current] = {}
# Objects whose content is a snapshot of its moment: an event's `data.object` stays as it was sent.
_SNAPSHOTS = frozenset({"event"})


def register_expander(object_type: str, field: str, expander: Expander, *,
                      since: str | None = None) -> None:
    """Make `field` of `object_type` available through expand[] only; `since` is the API
    version that introduced it (older versions refuse the expansion, as Stripe does)."""
    _expanders[(object_type, field)] = (expander, since)


# Top-level fields an object may lack (a card's payment method has no `sepa_debit` hash):
# expanding one that is absent does nothing, as on Stripe; other absent fields are refused.
_optional: dict[str, frozenset[str]] = {}


def register_optional(object_type: str, fields: frozenset[str] | set[str]) -> None:
    """Declare conditional fields of `object_type` that `expand[]` may name while absent."""
    _optional[object_type] = _optional.get(object_type, frozenset()) | frozenset(fields)


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


def apply_expand(store: Store, body: dict[str, Any], paths: list[str], *,
                 finish: Callable[[Any], Any] = lambda found: found,
                 version: str | None = None) -> None:
    """Expand `paths` inside `body` (already a public copy) in place. `finish` turns each
    object brought in (public, current) into what the client sees in `version`."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_DEPTH:
            raise InvalidRequestError(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. "
                f"Property: {path}", param="expand")
        _expand_in(store, body, parts, path, finish, version)


def _expand_in(store: Store, node: Any, parts: list[str], path: str,
               finish: Callable[[Any], Any], version: str | None,
               owner: tuple[dict[str, Any], str] | None = None) -> None:
    """`owner`: the nearest enclosing object and the dotted path from it to `node` (an
    includable field may sit in a nested hash: `total_details.breakdown`)."""
    if isinstance(node, list):
        for item in node:
            _expand_in(store, item, parts, path, finish, version, owner)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("object"), str) or owner is None:
        owner = (node, "")
    name, rest = parts[0], parts[1:]
    if name not in node:
        holder, prefix = owner
        known = (str(holder.get("object")), prefix + name) in _expanders
        if not known and (prefix or name in _optional.get(str(holder.get("object")), ())):
            # An optional hash this object lacks (a card charge has no
            # `payment_method_details.sepa_debit`) has nothing to expand, as on Stripe.
            return
        object_type = str(holder.get("object"))
        expander, since = _expanders.get((object_type, prefix + name), (None, None))
        if expander is None or (since and version and version[:10] < since[:10]):
            raise InvalidRequestError(
                f"This property cannot be expanded ({path}).", param="expand")
        # The stored object, not the public copy: an expander may read private state (`_line_items`).
        stored = store.get(object_type, str(holder.get("id")))
        node[name] = finish(show_current(store, public(expander(store, stored or holder))))
    value = node[name]
    if isinstance(value, list):
        # A list of ids (`discounts`): each one that names a stored object is expanded.
        value = node[name] = [_expanded(store, item, finish) for item in value]
    elif isinstance(value, str) and _is_id(value):
        target = store.find(value)
        if target is None:
            # Stripe keeps the id when the target is gone (e.g. deleted).
            return
        value = node[name] = finish(show_current(store, public(target)))
    # A field already present (nested object, "includable" count) needs no work.
    if rest and value is not None:
        inner = owner if isinstance(value, dict) and "object" not in value else None
        if inner is not None:
            inner = (owner[0], f"{owner[1]}{name}.")
        _expand_in(store, value, rest, path, finish, version, inner)


def _expanded(store: Store, item: Any, finish: Callable[[Any], Any]) -> Any:
    if isinstance(item, str) and _is_id(item):
        target = store.find(item)
        if target is not None:
            return finish(show_current(store, public(target)))
    return item


def _is_id(value: str) -> bool:
    # Most ids carry a prefix (`cus_`), but coupon ids are whatever the account chose ("SUMMER25").
    return bool(value) and not any(c.isspace() for c in value)
