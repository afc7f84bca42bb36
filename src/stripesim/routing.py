"""Routes and the per-request context handed to every handler.

A resource module declares `router = Router()` and decorates plain
(synchronous) functions taking a `Call`:

    @router.post("/v1/customers/{id}")
    def update_customer(call: Call) -> dict[str, Any]:
        customer = call.store.require("customer", call.path_params["id"])
        ...
        return customer

The app runs the handler while holding `store.lock`, then copies the
returned dict without private "_" keys, applies `expand[]` and renders JSON.
Return `(status, body)` for a status other than 200.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import events
from .versions import DEFAULT as DEFAULT_VERSION

if TYPE_CHECKING:
    from .sim import Sim
    from .store import Store

__all__ = ["Call", "Handler", "HandlerResult", "Route", "Router"]

HandlerResult = dict[str, Any] | tuple[int, dict[str, Any]]
Handler = Callable[["Call"], HandlerResult]

_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")


@dataclass
class Call:
    """One API request as a handler sees it."""

    sim: Sim
    method: str
    path: str
    params: dict[str, Any]
    path_params: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None
    idempotency_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # The API version the answer is rendered in (Stripe-Version, else the account's default).
    api_version: str = DEFAULT_VERSION

    @property
    def store(self) -> Store:
        return self.sim.store

    def emit(self, event_type: str, obj: dict[str, Any],
             previous_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record an event caused by this request (see `events.emit`)."""
        return events.emit(self.sim, event_type, obj, previous_attributes, request=self)

    def emit_update(self, event_type: str, obj: dict[str, Any],
                    before: dict[str, Any]) -> dict[str, Any] | None:
        """Emit `*.updated` with previous_attributes diffed from `before`; nothing if unchanged."""
        changed = events.previous_attributes(before, obj)
        if not changed:
            return None
        return self.emit(event_type, obj, changed)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    segments: tuple[str, ...]
    # False for routes that wait on other threads (flush): they take store.lock themselves.
    locked: bool = True

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        if method != self.method or len(segments) != len(self.segments):
            return None
        found: dict[str, str] = {}
        for want, got in zip(self.segments, segments, strict=True):
            placeholder = _PLACEHOLDER.match(want)
            if placeholder:
                if not got:
                    return None
                found[placeholder.group(1)] = got
            elif want != got:
                return None
        return found

    @property
    def specificity(self) -> tuple[int, ...]:
        # Literal segments win over placeholders: /v1/customers/search before /{id}.
        return tuple(1 if _PLACEHOLDER.match(s) else 0 for s in self.segments)


class Router:
    """A list of routes, with decorators for each HTTP method."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, *, locked: bool = True) -> None:
        segments = tuple(pattern.strip("/").split("/"))
        self.routes.append(Route(method.upper(), pattern, handler, segments, locked))

    def _decorator(self, method: str, pattern: str, locked: bool) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler, locked=locked)
            return handler

        return register

    def get(self, pattern: str, *, locked: bool = True) -> Callable[[Handler], Handler]:
        return self._decorator("GET", pattern, locked)

    def post(self, pattern: str, *, locked: bool = True) -> Callable[[Handler], Handler]:
        return self._decorator("POST", pattern, locked)

    def delete(self, pattern: str, *, locked: bool = True) -> Callable[[Handler], Handler]:
        return self._decorator("DELETE", pattern, locked)

    def include(self, other: Router) -> None:
        self.routes.extend(other.routes)

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        segments = path.strip("/").split("/")
        best: tuple[Route, dict[str, str]] | None = None
        for route in self.routes:
            found = route.match(method, segments)
            if found is not None and (best is None or route.specificity < best[0].specificity):
                best = (route, found)
        return best

    def path_exists(self, path: str) -> bool:
        segments = path.strip("/").split("/")
        return any(route.match(route.method, segments) is not None for route in self.routes)
