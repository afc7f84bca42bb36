"""Entitlements in-process: guard a host FastAPI app's routes in one line.

Hosts reach this through `coinslot.library` (`billing = library.mount(app, settings,
user_id=...)`); `FeatureGuard` is the part of that facade that checks and consumes.

    guard = FeatureGuard.from_settings(user_id=lambda request: request.state.user_id)

    @app.post("/export", dependencies=[Depends(guard.require_feature("export"))])
    def export() -> ...: ...

The dependency identifies the user with the host's callable, then checks and
consumes in one transaction. Refused: HTTP 402 with `{"reason", "message"}`
(e.g. "insufficient credits: need 3, have 1"). A request carrying an
`Idempotency-Key` header is charged once however often it is retried; without
one, every request is a use.
"""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from coinslot.catalog import service as catalog_service
from coinslot.clock import Clock
from coinslot.config import Settings
from coinslot.container import Container, make_clock
from coinslot.db import Database
from coinslot.entitlements import hot_check, service
from coinslot.entitlements.core import Decision
from coinslot.errors import CoinslotError

__all__ = ["FeatureGuard", "ParamsOf", "UserIdOf"]

UserIdOf = Callable[[Request], str | Awaitable[str]]
ParamsOf = Callable[[Request], Mapping[str, str]]


class FeatureGuard:
    """coinslot's entitlements inside the host's process: check, consume, and route guards."""

    def __init__(self, container: Container, *, user_id: UserIdOf | None) -> None:
        self.container = container
        self._user_id = user_id

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, user_id: UserIdOf, clock: Clock | None = None
    ) -> FeatureGuard:
        settings = settings or Settings()
        database = Database.for_settings(settings)
        container = Container(settings=settings, db=database, clock=clock or make_clock(settings))
        return cls(container, user_id=user_id)

    def _grace(self) -> dt.timedelta:
        return dt.timedelta(days=self.container.settings.past_due_grace_days)

    def check(self, host_user_id: str, feature: str, *, quantity: int = 1,
              params: Mapping[str, str] | None = None) -> Decision:
        """May the user do it now? Reads only (one statement, no transaction: `hot_check`). Advisory:
        `consume` decides again under the customer's lock."""
        catalog = catalog_service.get_catalog(self.container.settings)
        return hot_check.check(self.container.db, host_user_id=host_user_id, feature=feature,
                               quantity=quantity, params=params, catalog=catalog,
                               now=self.container.clock.now(), grace=self._grace())

    def consume(self, host_user_id: str, feature: str, *, idempotency_key: str, quantity: int = 1,
                params: Mapping[str, str] | None = None) -> Decision:
        """Check and spend atomically; a refusal raises the 402 CoinslotError whose code is the reason."""
        catalog = catalog_service.get_catalog(self.container.settings)
        now, grace = self.container.clock.now(), self._grace()
        low_balance_pct = self.container.settings.low_balance_pct
        used = service.consume_grouped(
            self.container.writes, host_user_id=host_user_id, feature=feature,
            idempotency_key=idempotency_key, quantity=quantity, params=params, catalog=catalog, now=now,
            grace=grace, low_balance_pct=low_balance_pct,
        )
        return used.decision

    def require_feature(
        self, feature: str, *, quantity: int = 1, params: ParamsOf | None = None
    ) -> Callable[[Request], Awaitable[Decision]]:
        """A FastAPI dependency that lets the request through only if the user may use `feature`,
        and charges it. The route can take the Decision (`Annotated[Decision, Depends(...)]`)."""

        identify = self._user_id
        if identify is None:
            raise TypeError("require_feature needs the host's user_id callable: pass user_id= to mount()")

        async def guard(request: Request) -> Decision:
            user_id = identify(request)
            if inspect.isawaitable(user_id):
                user_id = await user_id
            key = request.headers.get("idempotency-key") or f"req:{uuid.uuid4().hex}"
            request_params = params(request) if params is not None else None
            try:
                return await run_in_threadpool(self.consume, str(user_id), feature, idempotency_key=key,
                                               quantity=quantity, params=request_params)
            except CoinslotError as exc:
                detail = {"reason": exc.code, "message": exc.message}
                raise HTTPException(exc.http_status, detail=detail) from exc

        return guard
