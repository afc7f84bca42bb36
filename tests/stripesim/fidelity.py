"""`assert_stripe_shape(obj)`: does an emulated object look like Stripe's?

The rules (STRIPE_BEHAVIOUR.md): an object has no field outside its
stripe-python 16.1.0 class annotations, and has every field of Stripe's
example object (fixtures3) that the class also declares. Nested hashes are
checked the same way against the SDK's nested classes (e.g.
`Customer.InvoiceSettings`) and the fixture's nested example; nested objects
carrying `object` (expanded ones, list items, event payloads) are checked as
objects of their own type. Reuse it for any resource:

    from tests.stripesim.fidelity import assert_stripe_shape
    assert_stripe_shape(subscription)       # dict, or a StripeObject from the SDK
"""

from __future__ import annotations

import functools
import gzip
import importlib
import json
import typing
from pathlib import Path
from typing import Any

import pytest
import stripe
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import UntypedStripeObject

SPEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "stripe-openapi"
FIXTURES = SPEC_DIR / "fixtures3.HEAD-2026-08-21.json.gz"
# Fields of an example that this API version renders only when expanded (the fixtures show them
# expanded): a charge's `refunds` since 2022-11-15.
_ONLY_WHEN_EXPANDED = {"charge": frozenset({"refunds"})}
_ENVELOPES = {"list": {"object", "data", "has_more", "url"},
              "search_result": {"object", "data", "has_more", "url", "next_page", "total_count"}}


@functools.cache
def fixtures() -> dict[str, Any]:
    """Stripe's example objects by `object` value; skips the test when the folder is absent."""
    if not FIXTURES.exists():
        pytest.skip(f"Stripe fixtures not found at {FIXTURES} (../shared/stripe-openapi)")
    with gzip.open(FIXTURES) as handle:
        resources: dict[str, Any] = json.load(handle)["resources"]
    return resources


def sdk_class(object_name: str) -> type[stripe.StripeObject]:
    """The stripe-python class for an `object` value such as "checkout.session"."""
    entry = OBJECT_CLASSES.get(object_name)
    assert entry is not None, f"stripe-python has no class for object {object_name!r}"
    module_name, class_name = entry
    cls: type[stripe.StripeObject] = getattr(importlib.import_module(module_name), class_name)
    return cls


def declared_fields(cls: type) -> set[str]:
    return {name for name in getattr(cls, "__annotations__", {})
            if not name.startswith("_") and name != "OBJECT_NAME"}


def _as_dict(obj: Any) -> Any:
    if isinstance(obj, stripe.StripeObject):
        return json.loads(str(obj))
    return obj


def assert_stripe_shape(obj: Any, *, where: str | None = None) -> None:
    """Fail with the offending path if `obj` has unknown or lacks expected fields."""
    data = _as_dict(obj)
    assert isinstance(data, dict), f"{where or 'object'}: not a hash: {data!r}"
    object_name = data.get("object")
    assert isinstance(object_name, str), f"{where or 'object'}: no `object` field"
    label = where or object_name
    if object_name in _ENVELOPES:
        _check_envelope(data, object_name, label)
        return
    cls = sdk_class(object_name)
    example = fixtures().get(f"deleted_{object_name}" if data.get("deleted") else object_name)
    optional = _ONLY_WHEN_EXPANDED.get(object_name, frozenset()) | _conditional(object_name, data)
    _check_fields(data, cls, example, label, optional=optional)


def _conditional(object_name: str, data: dict[str, Any]) -> frozenset[str]:
    """Example fields an object of this kind lacks by its nature: a metered subscription item
    has no quantity (its meter's usage decides what it bills)."""
    if object_name == "subscription_item":
        recurring = (data.get("price") or {}).get("recurring") or {}
        if recurring.get("usage_type") == "metered":
            return frozenset({"quantity"})
    return frozenset()


def _check_envelope(data: dict[str, Any], kind: str, label: str) -> None:
    extra = set(data) - _ENVELOPES[kind]
    assert not extra, f"{label}: unexpected envelope fields {sorted(extra)}"
    missing = (_ENVELOPES[kind] - {"total_count"}) - set(data)
    assert not missing, f"{label}: missing envelope fields {sorted(missing)}"
    for index, item in enumerate(data["data"]):
        assert_stripe_shape(item, where=f"{label}.data[{index}]")


def _check_fields(
    data: dict[str, Any], cls: type, example: Any, label: str, *, optional: frozenset[str] = frozenset()
) -> None:
    declared = declared_fields(cls)
    extra = set(data) - declared
    assert not extra, f"{label}: fields not in stripe.{cls.__qualname__}: {sorted(extra)}"
    if isinstance(example, dict):
        expected = set(example) & declared
        missing = expected - set(data) - optional
        assert not missing, f"{label}: missing fields of Stripe's example: {sorted(missing)}"
    for key, value in data.items():
        sub_example = example.get(key) if isinstance(example, dict) else None
        _check_value(value, cls, key, sub_example, f"{label}.{key}")


def _check_value(value: Any, cls: type, key: str, example: Any, label: str) -> None:
    if isinstance(value, dict):
        if "object" in value and isinstance(value["object"], str):
            assert_stripe_shape(value, where=label)
            return
        nested = _nested_class(cls, key)
        if nested is not None:
            _check_fields(value, nested, example if isinstance(example, dict) else None, label)
    elif isinstance(value, list):
        item_example = example[0] if isinstance(example, list) and example else None
        for index, item in enumerate(value):
            _check_value(item, cls, key, item_example, f"{label}[{index}]")


def _nested_class(cls: type, key: str) -> type | None:
    """The SDK's own nested class for a field (e.g. Price.Recurring), if it has one."""
    annotation = getattr(cls, "__annotations__", {}).get(key)
    for candidate in _classes_in(annotation):
        # Top-level resources (OBJECT_NAME) carry `object` and are checked as objects.
        if (issubclass(candidate, stripe.StripeObject) and not hasattr(candidate, "OBJECT_NAME")
                and candidate not in (UntypedStripeObject, stripe.ListObject,
                                      stripe.SearchResultObject)):
            return candidate
    return None


def _classes_in(annotation: Any) -> list[type]:
    if isinstance(annotation, type):
        return [annotation]
    found: list[type] = []
    for arg in typing.get_args(annotation):
        found.extend(_classes_in(arg))
    return found
