"""Decode Stripe's form encoding into nested dicts, and coerce values.

Stripe bodies and query strings are flat pairs with bracketed keys
("Rack style"): `a[b][c]=v` nests, `a[]=v` appends, `a[0][b]=v` indexes
(stripe-python always indexes lists; curl users write `[]`). Values stay
strings; handlers coerce them with the helpers below, which raise Stripe's
400 errors naming the parameter.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import InvalidRequestError, ParameterInvalid, ParameterMissing

__all__ = [
    "decode_form",
    "get_bool",
    "get_dict",
    "get_int",
    "get_list",
    "get_str",
    "merge_metadata",
    "parse_pairs",
    "reject_unknown",
    "require",
]

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")
# Keys whose children are user data: digit keys there are not list indexes.
_FREE_FORM_KEYS = frozenset({"metadata"})


def decode_form(raw: str | bytes) -> dict[str, Any]:
    """Turn `a[b]=1&c[]=2` (percent-encoded or not) into {"a": {"b": "1"}, "c": ["2"]}."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return parse_pairs(parse_qsl(text, keep_blank_values=True))


def parse_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Assemble decoded key/value pairs into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        _assign(root, _split_key(key), value, key)
    result: dict[str, Any] = _listify(root, parent_key="")
    return result


def _split_key(key: str) -> list[str]:
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    rest = key[len(head):]
    parts = _KEY_PART.findall(rest)
    # Anything left over ("a[b]c") is malformed; Stripe treats the key literally.
    if "".join(f"[{p}]" for p in parts) != rest:
        return [key]
    return [head, *parts]


def _assign(node: Any, parts: list[str], value: str, full_key: str) -> None:
    name, rest = parts[0], parts[1:]
    if isinstance(node, list):
        _assign_append(node, parts, value, full_key)
        return
    if not rest:
        if isinstance(node.get(name), (dict, list)):
            raise ParameterInvalid(full_key, f"Invalid value for {full_key}: mixed scalar and hash.")
        node[name] = value
        return
    if rest[0] == "":
        child = node.setdefault(name, [])
        if not isinstance(child, list):
            raise ParameterInvalid(name, f"Invalid array: {name}")
        _assign_append(child, rest, value, full_key)
        return
    child = node.setdefault(name, {})
    if not isinstance(child, dict):
        raise ParameterInvalid(name, f"Invalid hash: {name}")
    _assign(child, rest, value, full_key)


def _assign_append(items: list[Any], parts: list[str], value: str, full_key: str) -> None:
    """`a[]=v` appends; `a[][k]=v` fills the last hash until `k` repeats (Rack rule)."""
    rest = parts[1:]
    if not rest:
        items.append(value)
        return
    last = items[-1] if items else None
    if isinstance(last, dict) and rest[0] not in last:
        _assign(last, rest, value, full_key)
        return
    fresh: dict[str, Any] = {}
    _assign(fresh, rest, value, full_key)
    items.append(fresh)


def _listify(node: Any, parent_key: str) -> Any:
    """Hashes keyed only by indexes ("0", "1", ...) become lists in index order."""
    if isinstance(node, list):
        return [_listify(item, parent_key) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    if (
        converted
        and parent_key not in _FREE_FORM_KEYS
        and all(k.isdigit() for k in converted)
    ):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


# ---------------------------------------------------------------- coercion


def require(params: dict[str, Any], name: str) -> Any:
    """The value of a required parameter, or 400 parameter_missing."""
    value = params.get(name)
    if value is None or value == "":
        raise ParameterMissing(name)
    return value


def get_str(params: dict[str, Any], name: str, default: str | None = None,
            *, choices: tuple[str, ...] | None = None, param: str | None = None) -> str | None:
    """A string parameter; "" counts as given (it means "clear" to Stripe)."""
    value = params.get(name)
    label = param or name
    if value is None:
        return default
    if not isinstance(value, str):
        raise ParameterInvalid(label, f"Invalid string: {label}")
    if choices is not None and value not in choices:
        raise ParameterInvalid(
            label, f"Invalid {label}: must be one of {', '.join(choices)}"
        )
    return value


def get_int(params: dict[str, Any], name: str, default: int | None = None, *,
            minimum: int | None = None, maximum: int | None = None,
            param: str | None = None) -> int | None:
    """An integer parameter ("12" → 12); bounds give Stripe's messages."""
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ParameterInvalid(label, f"Invalid integer: {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ParameterInvalid(label, f"Invalid integer: {value}") from None
    if minimum is not None and number < minimum:
        raise ParameterInvalid(label, f"This value must be greater than or equal to {minimum}.")
    if maximum is not None and number > maximum:
        raise ParameterInvalid(label, f"This value must be less than or equal to {maximum}.")
    return number


def get_bool(params: dict[str, Any], name: str, default: bool | None = None,
             *, param: str | None = None) -> bool | None:
    """"true"/"false" (as the SDK sends them) → bool; anything else is 400."""
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise ParameterInvalid(label, f"Invalid boolean: {value}")


def get_dict(params: dict[str, Any], name: str, *, param: str | None = None) -> dict[str, Any] | None:
    """A hash parameter; "" (clear) is returned as an empty dict."""
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ParameterInvalid(param or name, f"Invalid hash: {param or name}")
    return value


def get_list(params: dict[str, Any], name: str, *, param: str | None = None) -> list[Any] | None:
    """An array parameter; a single scalar is accepted as a one-item list."""
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [value]
    raise ParameterInvalid(param or name, f"Invalid array: {param or name}")


METADATA_MAX_KEYS, METADATA_MAX_KEY_CHARS, METADATA_MAX_VALUE_CHARS = 50, 40, 500


def merge_metadata(current: dict[str, str], update: Any, *, param: str = "metadata") -> dict[str, str]:
    """Stripe's metadata rule: keys merge, `k=""` unsets one, `metadata=""` clears all; at most
    50 keys of 40 characters, values of 500 (Stripe's limits and messages)."""
    if update is None:
        return current
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise ParameterInvalid(param, f"Invalid hash: {param}")
    merged = dict(current)
    for key, value in update.items():
        if not isinstance(value, str):
            raise ParameterInvalid(f"{param}[{key}]", "Metadata values must be strings.")
        if len(key) > METADATA_MAX_KEY_CHARS:
            raise InvalidRequestError(
                f"Metadata keys can have up to {METADATA_MAX_KEY_CHARS} characters, but you "
                f"passed in a key that is {len(key)} characters. Invalid key: {key}", param=param)
        if len(value) > METADATA_MAX_VALUE_CHARS:
            raise InvalidRequestError(
                f"Metadata values can have up to {METADATA_MAX_VALUE_CHARS} characters, but you "
                f"passed in a value that is {len(value)} characters. Invalid value: {value}",
                param=param)
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > METADATA_MAX_KEYS:
        raise InvalidRequestError(
            f"Metadata can have up to {METADATA_MAX_KEYS} keys, but you've set {len(merged)}. "
            "Email us at support+metadata@stripe.com for more information.", param=param)
    return merged


COMMON_PARAMS = frozenset({"expand"})


def reject_unknown(params: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    """400 "Received unknown parameter: x" for anything not in `allowed` (+ expand)."""
    for key in params:
        if key not in allowed and key not in COMMON_PARAMS:
            raise ParameterInvalid(key, f"Received unknown parameter: {key}",
                                   code="parameter_unknown")
