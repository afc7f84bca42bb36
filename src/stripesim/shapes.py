"""Small nested shapes several resources share (addresses, shipping details)."""

from __future__ import annotations

from typing import Any

from .errors import ParameterInvalid

__all__ = ["ADDRESS_KEYS", "address", "blank_address", "shipping"]

ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def blank_address() -> dict[str, Any]:
    return dict.fromkeys(ADDRESS_KEYS)


def address(value: Any, param: str, current: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """An address hash with every key present; "" clears it (None)."""
    if value is None:
        return current
    if value == "":
        return None
    if not isinstance(value, dict):
        raise ParameterInvalid(param, f"Invalid hash: {param}")
    result = dict(current) if current else blank_address()
    for key, item in value.items():
        if key not in ADDRESS_KEYS:
            raise ParameterInvalid(f"{param}[{key}]", f"Received unknown parameter: {param}[{key}]")
        result[key] = item or None
    return result


def shipping(value: Any, param: str, current: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Customer shipping: {address, name, phone}; `name` and `address` are required."""
    if value is None:
        return current
    if value == "":
        return None
    if not isinstance(value, dict):
        raise ParameterInvalid(param, f"Invalid hash: {param}")
    if not value.get("name"):
        raise ParameterInvalid(f"{param}[name]", f"Missing required param: {param}[name].",
                               code="parameter_missing")
    return {
        "address": address(value.get("address", {}), f"{param}[address]"),
        "name": value["name"],
        "phone": value.get("phone") or None,
    }
