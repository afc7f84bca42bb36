"""API versions: which one a request speaks, and rendering objects in it.

stripesim stores every object in one shape, the newest version it serves
(`CANONICAL`). A request picks its version with `Stripe-Version` (else the
account's default, `Sim.api_version`); a webhook endpoint with its
`api_version` (else the account's default). Just before an answer or a
delivery is encoded, `render` walks it and turns each object into the
older shape, one step at a time along `SUPPORTED` (newest first), with the
per-resource steps of `stripesim.version_shapes`:

    2026-11-18.endive  the latest stripe-node (23.2)             canonical
    2026-10-28.endive  the pinned stripe-python (16.1)           account default
    2026-08-26.dahlia  stripe-python 15.x (what dj-stripe 2.11 needs)
    2024-04-10         Stripe's published spec3 of that date      (DreamScan's template)

Anything else is refused as Stripe refuses it ("Invalid Stripe API version").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequestError
from .version_shapes import STEPS

if TYPE_CHECKING:
    from .store import Store

__all__ = ["CANONICAL", "DEFAULT", "SUPPORTED", "check_version", "render", "resolve"]

CANONICAL = "2026-11-18.endive"
DEFAULT = "2026-10-28.endive"
SUPPORTED = (CANONICAL, "2026-10-28.endive", "2026-08-26.dahlia", "2024-04-10")
_WELL_FORMED = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")


def check_version(version: str, *, param: str | None = None) -> str:
    """`version` if stripesim serves it, else Stripe's 400 for an unknown version."""
    if version in SUPPORTED:
        return version
    message = f"Invalid Stripe API version: {version}"
    if _WELL_FORMED.match(version):
        # Stripe knows many more dated versions; say why this one is refused here.
        message += f" (stripesim serves {', '.join(SUPPORTED)})"
    raise InvalidRequestError(message, param=param)


def resolve(header: str | None, default: str) -> str:
    """The version a request speaks: its `Stripe-Version` header, else the account's."""
    if header is None or not header.strip():
        return default
    return check_version(header.strip())


def render(store: Store, body: Any, version: str) -> Any:
    """`body` (a public copy) in the shape of `version`; changed in place and returned."""
    if version == CANONICAL:
        return body
    steps = SUPPORTED[1:SUPPORTED.index(version) + 1]
    _walk(store, body, steps, version)
    return body


def _walk(store: Store, node: Any, steps: tuple[str, ...], version: str) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(store, item, steps, version)
        return
    if not isinstance(node, dict):
        return
    object_type = node.get("object")
    if isinstance(object_type, str):
        for into in steps:
            for downgrade in STEPS.get((into, object_type), ()):
                downgrade(store, node)
    for value in list(node.values()):
        _walk(store, value, steps, version)
    if object_type == "event":
        node["api_version"] = version
        _trim_previous_attributes(node.get("data") or {})


def _trim_previous_attributes(data: dict[str, Any]) -> None:
    """`previous_attributes` name canonical fields: keep those the older object still has."""
    previous, obj = data.get("previous_attributes"), data.get("object")
    if isinstance(previous, dict) and isinstance(obj, dict):
        data["previous_attributes"] = {k: v for k, v in previous.items() if k in obj}
