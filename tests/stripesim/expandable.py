"""Which fields of a resource `expand[]` must accept, from Stripe's own descriptions.

Two sources, merged:

* the OpenAPI document's `x-expandableFields` (2024-04-10 spec in
  `../shared/stripe-openapi/`), followed into nested hashes
  (`customer.invoice_settings.default_payment_method`,
  `checkout.session.total_details.breakdown`), restricted to fields the
  version being checked still has;
* for the current version, the SDK's own classes: every `ExpandableField[...]`
  annotation (stripe-python 16.1), nested classes included, and the
  "includable" fields the API reference says appear only when expanded.

Each path is classified: `ref` (an id that expands into an object),
`nested` (a hash that only leads to deeper paths; expanding it is a no-op),
`refs` (a list of ids), `includable` (absent unless expanded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import stripe

from tests.stripesim.fidelity import declared_fields, sdk_class
from tests.stripesim.openapi_check import schema_for, schemas

MAX_DEPTH = 4
# Fields the API reference marks "not included by default; expand to include it", current version.
INCLUDABLE = {
    "customer": {"subscriptions", "sources", "tax_ids", "tax", "cash_balance",
                 "invoice_credit_balance"},
    "charge": {"refunds"},
    "checkout.session": {"line_items", "total_details.breakdown"},
    "price": {"currency_options", "tiers"},
    "invoice": {"payments", "confirmation_secret"},
    "item": {"discounts", "taxes"},
    "coupon": {"applies_to", "currency_options"},
}


@dataclass(frozen=True)
class Expandable:
    path: str
    kind: str  # ref | refs | nested | includable


def _deref(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas()[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _classify(prop: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """(kind, nested schema to follow) of one property of a schema."""
    if prop.get("x-expansionResources"):
        return "ref", None
    if prop.get("type") == "array":
        items = prop.get("items") or {}
        if items.get("x-expansionResources") or (
                "anyOf" in items and any(a.get("type") == "string" for a in items["anyOf"])):
            return "refs", None
        return "nested", None
    alternatives = prop.get("anyOf") or []
    target = _deref(alternatives[0]) if len(alternatives) == 1 else _deref(prop)
    if target.get("type") == "object" or target.get("properties"):
        return "nested", target
    return "nested", None


def spec_paths(object_name: str, keep: set[str] | None) -> list[Expandable]:
    """Expandable paths of a resource per the 2024-04-10 spec; `keep`: top-level fields the
    checked version has (None: all of the spec's)."""
    schema = schema_for(object_name)
    if schema is None:
        return []
    found: list[Expandable] = []
    _follow(schema, "", 1, found, keep)
    return found


def _follow(schema: dict[str, Any], prefix: str, depth: int, found: list[Expandable],
            keep: set[str] | None) -> None:
    properties = schema.get("properties") or {}
    for name in schema.get("x-expandableFields") or []:
        if depth == 1 and keep is not None and name not in keep:
            continue
        prop = properties.get(name)
        if prop is None or name == "data":
            continue
        kind, nested = _classify(prop)
        path = prefix + name
        found.append(Expandable(path, kind))
        if nested is not None and depth < MAX_DEPTH and not nested.get("x-resourceId"):
            _follow(nested, path + ".", depth + 1, found, None)


_EXPANDABLE = re.compile(r"ExpandableField\[")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def sdk_paths(object_name: str) -> list[Expandable]:
    """`ExpandableField` annotations of the SDK class and its nested classes."""
    found: list[Expandable] = []
    _sdk_follow(sdk_class(object_name), "", 1, found)
    return found


def _sdk_follow(cls: type, prefix: str, depth: int, found: list[Expandable]) -> None:
    for name, annotation in getattr(cls, "__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else repr(annotation)
        if name.startswith("_") or name == "OBJECT_NAME":
            continue
        if _EXPANDABLE.search(text):
            found.append(Expandable(prefix + name, "refs" if text.startswith(("List", "Optional[List"))
                                    else "ref"))
            continue
        if depth >= MAX_DEPTH or "List[" in text:
            continue
        for word in _NAME.findall(text):
            nested = getattr(cls, word, None)
            if (isinstance(nested, type) and issubclass(nested, stripe.StripeObject)
                    and not hasattr(nested, "OBJECT_NAME") and nested is not cls):
                _sdk_follow(nested, prefix + name + ".", depth + 1, found)
                break


def paths_for(object_name: str, *, version_2024: bool) -> list[Expandable]:
    """Every path `expand[]` must accept on `object_name` in the version checked."""
    if version_2024:
        entries = {e.path: e for e in spec_paths(object_name, None)}
        for path in INCLUDABLE.get(object_name, ()):
            if path in entries:
                entries[path] = Expandable(path, "includable")
        return sorted(entries.values(), key=lambda e: e.path)
    fields = declared_fields(sdk_class(object_name))
    merged: dict[str, Expandable] = {}
    for entry in [*spec_paths(object_name, fields), *sdk_paths(object_name)]:
        merged.setdefault(entry.path, entry)
    for path in INCLUDABLE.get(object_name, ()):
        merged[path] = Expandable(path, "includable")
    return sorted(merged.values(), key=lambda e: e.path)
