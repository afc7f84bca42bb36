"""The FastAPI dependencies every entry layer shares, built on the Container (`coinslot.container`).

Routes open their own unit of work (`with container.db.unit_of_work() as session:`)
so the commit visibly happens before the answer is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from coinslot.apikeys import service as apikeys
from coinslot.apikeys.scopes import SCOPES
from coinslot.container import Container
from coinslot.errors import DatabaseUnavailable, Forbidden, RateLimited, Unauthorized
from coinslot.limits import BIGINT_MAX

__all__ = [
    "API_KEY_SCHEME",
    "ApiCaller",
    "ContainerDep",
    "RateLimit",
    "RequireScope",
    "RowId",
    "api_caller",
    "get_container",
    "rate_limit",
    "require_scope",
]

key_log = logging.getLogger("coinslot.apikeys")


# The dependencies below are `async def` where they do no I/O: FastAPI runs a plain `def`
# dependency in its threadpool, and on POST /v1/check these two hops cost as much as the check's
# own database read (docs/benchmarks.md, check over HTTP).
async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]

# A table's id in a URL path: a number outside BIGINT is a 422 at the edge, not a driver overflow (500).
RowId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]

@dataclass(frozen=True, slots=True)
class ApiCaller:
    """The key a request came with, and the scopes it holds."""

    api_key_id: int
    scopes: frozenset[str]
    expires_at: dt.datetime | None = None


# Declared to OpenAPI (so /docs and code generators know how to authenticate); `auto_error=False`
# because a missing key is answered with coinslot's own error envelope, not FastAPI's 403.
API_KEY_SCHEME = HTTPBearer(
    scheme_name="ApiKey", bearerFormat="cs_...", auto_error=False,
    description="A coinslot API key (`coinslot keys create --scope ...`), sent as "
                "`Authorization: Bearer cs_...`; each route needs one scope (docs/security.md).",
)


async def api_caller(container: Container, credentials: HTTPAuthorizationCredentials | None) -> ApiCaller:
    """The caller's live key, read from the database, or trusted for at most `api_key_cache_s` (1 s) after
    this process last read it: a revoked key is refused by every process within that second (it used to
    live on for 30 s per process). An expired key is refused at its expiry, cached or not."""
    secret = credentials.credentials if credentials is not None else ""
    if not secret:
        raise Unauthorized(
            "API key missing: send 'Authorization: Bearer cs_...' (create one with `coinslot keys create`)"
        )
    cached = container.key_cache.get(secret, now=container.clock.now())
    if cached is not None:
        return _caller(cached)
    return await run_in_threadpool(_verified_caller, container, secret)  # the database read, off the loop


def _verified_caller(container: Container, secret: str) -> ApiCaller:
    now = container.clock.now()
    with container.db.single_read() as session:
        key = apikeys.verify_key(session, secret=secret, now=now)
    if apikeys.needs_touch(key, now=now):
        try:
            with container.db.unit_of_work() as session:
                apikeys.touch(session, key_id=key.id, now=now)
        except DatabaseUnavailable:  # a busy database: the call goes on, the time is written next minute
            key_log.warning("could not record an API key's last use", extra={"api_key_id": key.id})
    container.key_cache.put(secret, key, ttl_s=container.settings.api_key_cache_s)
    return _caller(key)


def _caller(key: apikeys.VerifiedKey) -> ApiCaller:
    return ApiCaller(api_key_id=key.id, scopes=key.scopes, expires_at=key.expires_at)


class RequireScope:
    """Dependency of a /v1 route: the caller's key, refused with 403 unless it holds `scope`.

    A class rather than a closure so that a route's scope can be read back (`docs/security.md`'s table is
    checked against the routes by tests/integration/test_scopes.py)."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope

    # One dependency reading the key itself, not one per step (container, key, scope): FastAPI resolves
    # each dependency anew on every request, and on POST /v1/check the tree cost as much as the check.
    async def __call__(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None = Security(API_KEY_SCHEME)
    ) -> ApiCaller:
        caller = await api_caller(request.app.state.container, credentials)
        if self.scope not in caller.scopes:
            route = getattr(request.scope.get("route"), "path", request.url.path)
            raise Forbidden(
                f"this API key may not call {request.method} {route}: it needs the '{self.scope}' scope "
                f"({SCOPES[self.scope]}); create a key with `coinslot keys create --scope {self.scope}`",
                code="insufficient_scope",
            )
        return caller


def require_scope(scope: str) -> RequireScope:
    """`dependencies=[Depends(require_scope("entitlements"))]` on a route or a router."""
    return RequireScope(scope)


_SURFACES = {"links": "opening billing links", "public": "the public pricing",
             "webhooks": "webhook deliveries"}


class RateLimit:
    """Dependency of a public route: 429 with Retry-After once the client's address is over its surface's
    limit (settings `rate_limit_<surface>_per_min`; see coinslot/ratelimit.py)."""

    def __init__(self, surface: str) -> None:
        if surface not in _SURFACES:
            raise ValueError(f"unknown rate-limited surface {surface!r}")
        self.surface = surface

    async def __call__(self, request: Request, container: ContainerDep) -> None:
        per_min: int = getattr(container.settings, f"rate_limit_{self.surface}_per_min")
        client = request.client.host if request.client else "unknown"
        wait_s = container.rate_limiter.take(self.surface, client, per_min=per_min)
        if wait_s is not None:
            raise RateLimited(f"too many requests for {_SURFACES[self.surface]} from this address: retry in "
                              f"{wait_s} s", retry_after_s=wait_s)


def rate_limit(surface: str) -> RateLimit:
    """`dependencies=[Depends(rate_limit("public"))]` on a public route."""
    return RateLimit(surface)
