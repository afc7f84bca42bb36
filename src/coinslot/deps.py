"""What every entry layer shares: the Container and the FastAPI dependencies built on it.

Routes open their own unit of work (`with container.db.unit_of_work() as session:`)
so the commit visibly happens before the answer is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from coinslot.apikeys import service as apikeys
from coinslot.apikeys.scopes import SCOPES
from coinslot.clock import Clock, FollowingClock, SystemClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.errors import BillingDisabled, DatabaseUnavailable, Forbidden, RateLimited, Unauthorized
from coinslot.limits import BIGINT_MAX
from coinslot.ratelimit import RateLimiter
from coinslot.stripe_gateway import StripeGateway

__all__ = [
    "API_KEY_SCHEME",
    "ApiCaller",
    "ApiCallerDep",
    "Container",
    "ContainerDep",
    "RateLimit",
    "RequireScope",
    "RowId",
    "get_container",
    "make_clock",
    "rate_limit",
    "refresh_clock",
    "require_api_key",
    "require_scope",
]

log = logging.getLogger("coinslot.clock")
key_log = logging.getLogger("coinslot.apikeys")
_KEY_CACHE_MAX = 10_000


@dataclass
class Container:
    """The process-wide parts: settings, database, clock and (lazily) the Stripe gateway."""

    settings: Settings
    db: Database
    clock: Clock
    _gateway: StripeGateway | None = None
    # secret -> (caller, monotonic time the entry ends): at most `settings.api_key_cache_s` (1 s) old
    key_cache: dict[str, tuple[ApiCaller, float]] = field(default_factory=dict)
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def gateway(self) -> StripeGateway:
        """The Stripe gateway; BillingDisabled (503) when billing is off or Stripe is not configured."""
        if not self.settings.billing_enabled:
            raise BillingDisabled(self.settings.billing_disabled_reason)
        if self._gateway is None:
            with self._lock:
                if self._gateway is None:
                    self._gateway = StripeGateway.from_settings(self.settings)
        return self._gateway


def make_clock(settings: Settings) -> Clock:
    """The process's clock: the wall clock, or (test mode, COINSLOT_STRIPE_TEST_CLOCK) one that follows
    a Stripe test clock, read once now (a missing clock stops start-up) and then every few seconds."""
    if not settings.stripe_test_clock:
        return SystemClock()
    test_clock_id = settings.stripe_test_clock
    gateway = StripeGateway.from_settings(settings)
    clock = FollowingClock(lambda: gateway.test_clocks.frozen_time(test_clock_id))
    clock.refresh()

    def follow() -> None:
        while True:
            time.sleep(settings.stripe_test_clock_poll_s)
            try:
                clock.refresh()
            except Exception:  # Stripe unreachable for a moment: keep the last time, try again
                log.warning("could not read the Stripe test clock", exc_info=True)

    threading.Thread(target=follow, name="coinslot-test-clock", daemon=True).start()
    return clock


def refresh_clock(clock: Clock) -> None:
    """Catch up with the Stripe test clock now, if this process follows one (else nothing)."""
    if isinstance(clock, FollowingClock):
        clock.refresh()


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


async def require_api_key(
    container: ContainerDep,
    credentials: HTTPAuthorizationCredentials | None = Security(API_KEY_SCHEME),
) -> ApiCaller:
    """The caller's live key, read from the database, or trusted for at most `api_key_cache_s` (1 s) after
    this process last read it: a revoked key is refused by every process within that second (it used to
    live on for 30 s per process). An expired key is refused at its expiry, cached or not."""
    secret = credentials.credentials if credentials is not None else ""
    if not secret:
        raise Unauthorized(
            "API key missing: send 'Authorization: Bearer cs_...' (create one with `coinslot keys create`)"
        )
    cached = container.key_cache.get(secret)
    if cached is not None and cached[1] > time.monotonic() and (
            cached[0].expires_at is None or cached[0].expires_at > container.clock.now()):
        return cached[0]
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
    caller = ApiCaller(api_key_id=key.id, scopes=key.scopes, expires_at=key.expires_at)
    cache_s = container.settings.api_key_cache_s
    if cache_s > 0:
        if len(container.key_cache) >= _KEY_CACHE_MAX:
            container.key_cache.clear()  # a flood of distinct keys: start again rather than grow
        container.key_cache[secret] = (caller, time.monotonic() + cache_s)
    return caller


ApiCallerDep = Annotated[ApiCaller, Depends(require_api_key)]


class RequireScope:
    """Dependency of a /v1 route: the caller's key, refused with 403 unless it holds `scope`.

    A class rather than a closure so that a route's scope can be read back (`docs/security.md`'s table is
    checked against the routes by tests/integration/test_scopes.py)."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope

    async def __call__(self, request: Request, caller: ApiCallerDep) -> ApiCaller:
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
