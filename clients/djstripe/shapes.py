"""Does an object rendered in 2026-08-26.dahlia fit that version's SDK (stripe 15.6, which this
virtualenv holds)? Fields outside the resource classes' annotations are reported, nested hashes
and nested objects included."""

from __future__ import annotations

import importlib
import typing
from typing import Any

import stripe
from stripe._object_classes import OBJECT_CLASSES


def _sdk_class(object_name: str) -> type | None:
    entry = OBJECT_CLASSES.get(object_name)
    if entry is None:
        return None
    module_name, class_name = entry
    found: type = getattr(importlib.import_module(module_name), class_name)
    return found


def _declared(cls: type) -> set[str]:
    return {name for name in getattr(cls, "__annotations__", {}) if not name.startswith("_")}


def _nested(cls: type, key: str) -> type | None:
    pending = [getattr(cls, "__annotations__", {}).get(key)]
    while pending:
        current = pending.pop()
        if isinstance(current, type):
            if (issubclass(current, stripe.StripeObject) and not hasattr(current, "OBJECT_NAME")
                    and current.__module__.startswith("stripe._") and current.__name__ != "StripeObject"
                    and "Untyped" not in current.__name__):
                return current
            continue
        pending.extend(typing.get_args(current))
    return None


def problems(obj: dict[str, Any], where: str = "") -> list[str]:
    """Fields of `obj` (and of what it holds) that stripe 15.6's classes do not declare."""
    cls = _sdk_class(str(obj.get("object")))
    label = where or str(obj.get("object"))
    if cls is None:
        return [] if obj.get("object") in ("list", "search_result") else [f"{label}: no class"]
    return _fields(obj, cls, label)


def _fields(data: dict[str, Any], cls: type, label: str) -> list[str]:
    found = [f"{label}.{key}: not in stripe 15.6" for key in sorted(set(data) - _declared(cls))]
    for key, value in data.items():
        found.extend(_value(value, cls, key, f"{label}.{key}"))
    return found


def _value(value: Any, cls: type, key: str, label: str) -> list[str]:
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _value(item, cls, key, f"{label}[{index}]")]
    if not isinstance(value, dict):
        return []
    if isinstance(value.get("object"), str):
        if value["object"] in ("list", "search_result"):
            return [p for item in value.get("data", []) for p in problems(item, f"{label}.data")]
        return problems(value, label)
    nested = _nested(cls, key)
    return _fields(value, nested, label) if nested is not None else []
