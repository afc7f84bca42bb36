"""Check emulated objects against Stripe's published OpenAPI spec of one version.

`spec_problems(obj)` lists every way `obj` (a dict with `object`) breaks the
2024-04-10 spec in `../shared/stripe-openapi/`: a field the schema does not
declare, a required field missing, a value of the wrong type, a string
outside its enum. The spec marks nullability OpenAPI-3.0 style (`nullable:
true` beside `anyOf`/`enum`); it is honoured here as "null is also fine".
Expandable fields are `anyOf[id string, object]`, so an expanded field is
checked against the object's own schema.

    assert not spec_problems(invoice_2024), spec_problems(invoice_2024)
"""

from __future__ import annotations

import functools
import gzip
import json
from typing import Any

import pytest

from tests.stripesim.fidelity import SPEC_DIR

SPEC_2024 = SPEC_DIR / "spec3.2024-04-10.json.gz"


@functools.cache
def schemas() -> dict[str, Any]:
    """The spec's component schemas; skips the test when the folder is absent."""
    if not SPEC_2024.exists():
        pytest.skip(f"Stripe's 2024-04-10 spec not found at {SPEC_2024} (../shared/stripe-openapi)")
    with gzip.open(SPEC_2024) as handle:
        found: dict[str, Any] = json.load(handle)["components"]["schemas"]
    return found


def schema_for(object_name: str) -> dict[str, Any] | None:
    """The schema of a resource by its `object` value (`x-resourceId`, else the schema name)."""
    for _name, schema in schemas().items():
        if schema.get("x-resourceId") == object_name:
            return dict(schema)
    found = schemas().get(object_name)
    return dict(found) if found is not None else None


# Fields Stripe sent in 2024 that the public spec3 leaves out (it hides deprecated fields; the
# SDKs' spec3.sdk.json and Stripe's own answers of that time carry them).
SENT_BUT_UNDOCUMENTED = {("subscription_item", "plan"), ("recurring", "trial_period_days")}


def spec_problems(obj: dict[str, Any], where: str | None = None) -> list[str]:
    """Every mismatch between `obj` and its 2024-04-10 schema, as readable lines."""
    name = obj.get("object")
    schema = schema_for(f"deleted_{name}" if obj.get("deleted") else str(name))
    if schema is None:
        return [f"{where or name}: no schema for object {name!r} in the 2024-04-10 spec"]
    problems: list[str] = []
    _check(obj, schema, where or str(name), problems)
    return problems


def _deref(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas()[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _check(value: Any, schema: dict[str, Any], path: str, problems: list[str]) -> None:
    schema = _deref(schema)
    if value is None:
        if not schema.get("nullable"):
            problems.append(f"{path}: null, but the spec does not allow null")
        return
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        attempts = []
        # Report against the alternatives of the value's own kind (an expanded id: the object).
        same_kind = [a for a in alternatives if _kind_matches(value, _deref(a))]
        for alternative in same_kind or alternatives:
            found: list[str] = []
            _check(value, alternative, path, found)
            if not found:
                return
            attempts.append(found)
        problems.extend(min(attempts, key=len))
        return
    _check_typed(value, schema, path, problems)


def _kind_matches(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind is None or kind == "number":
        return True
    return {"string": str, "integer": int, "boolean": bool, "array": list,
            "object": dict}.get(kind, object) is type(value)


def _check_typed(value: Any, schema: dict[str, Any], path: str, problems: list[str]) -> None:
    kind = schema.get("type")
    checks = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind in checks:
        ok = isinstance(value, checks[kind])
    else:
        ok = True
    if not ok:
        problems.append(f"{path}: {type(value).__name__} where the spec wants {kind}")
        return
    enum = schema.get("enum")
    if enum is not None and value not in enum and not schema.get("x-stripeBypassValidation"):
        problems.append(f"{path}: {value!r} is not one of {enum}")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, schema.get("items") or {}, f"{path}[{index}]", problems)
    elif isinstance(value, dict):
        _check_object(value, schema, path, problems)


def _check_object(value: dict[str, Any], schema: dict[str, Any], path: str, problems: list[str]) -> None:
    properties: dict[str, Any] = dict(schema.get("properties") or {})
    owner = schema.get("x-resourceId") or schema.get("title")
    for resource, field in SENT_BUT_UNDOCUMENTED:
        if owner == resource or (resource == "recurring" and {"interval", "usage_type"} <= set(properties)):
            properties.setdefault(field, {"nullable": True})
    extra = schema.get("additionalProperties")
    if not properties:
        if isinstance(extra, dict):
            for key, item in value.items():
                _check(item, extra, f"{path}.{key}", problems)
        return
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], f"{path}.{key}", problems)
        elif isinstance(extra, dict):
            _check(item, extra, f"{path}.{key}", problems)
        else:
            problems.append(f"{path}.{key}: not in the 2024-04-10 spec")
    for key in schema.get("required") or []:
        if key not in value:
            problems.append(f"{path}.{key}: required by the 2024-04-10 spec, missing")
