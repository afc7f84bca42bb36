"""create_app(settings): the FastAPI application, with every domain's routes mounted.

GET  /healthz, /readyz, /metrics      operations
/v1/...                               the REST API for the host's backend (API key)
POST /webhooks/stripe                 Stripe's events (signature-verified)
/billing/..., /admin/...              server-rendered pages
"""

from __future__ import annotations

import functools
import gc
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coinslot.api_contract import document_body_limits
from coinslot.body_limit import BodyLimitMiddleware, body_max_bytes
from coinslot.catalog import api as catalog_api
from coinslot.catalog import service as catalog_service
from coinslot.checkout import api as checkout_api
from coinslot.clock import Clock
from coinslot.config import Settings, checked_secrets
from coinslot.container import Container, make_clock, start_clock_follower
from coinslot.customers import api as customers_api
from coinslot.db import Database, is_unavailable
from coinslot.entitlements import api as entitlements_api
from coinslot.entitlements.check_lane import CheckLane
from coinslot.errors import CoinslotError, DatabaseUnavailable, RateLimited
from coinslot.ledger import api as ledger_api
from coinslot.ledger.sweep import start_expiry_sweep
from coinslot.metrics import QueueGauges
from coinslot.observability import (
    HTTP_REQUEST_SECONDS,
    HTTP_REQUESTS,
    configure_logging,
    configure_sentry,
    monotonic_s,
    registry_for_scrape,
    request_id_var,
)
from coinslot.outbound.sender import start_sender
from coinslot.overage.reporter import start_overage_reporter
from coinslot.overview import api as overview_api
from coinslot.subscriptions import api as subscriptions_api
from coinslot.topups import api as topups_api
from coinslot.topups.flows import start_charger
from coinslot.web import install as install_pages
from coinslot.web.headers import SecurityHeadersMiddleware
from coinslot.webhooks import api as webhooks_api
from coinslot.webhooks.loop import start_in_process_worker

__all__ = ["create_app", "serve_app"]

log = logging.getLogger("coinslot.http")

# A request is matched against the routes in this order, each a regular expression: the hot paths come
# first (check and consume, then Stripe's deliveries), so they are found before the console's dozens.
DOMAIN_ROUTERS = [
    entitlements_api.router,
    webhooks_api.router,
    catalog_api.router,
    customers_api.router,
    checkout_api.router,
    subscriptions_api.router,
    topups_api.router,
    ledger_api.router,
    overview_api.router,
    webhooks_api.events_router,
]


class RequestContextMiddleware:
    """Request id (taken from X-Request-Id or made), access log line and Prometheus figures.

    A plain ASGI middleware: BaseHTTPMiddleware would cost a task per request
    on the entitlement hot path.
    """

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:100] or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started_s = monotonic_s()
        status_code = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status_code, response_started
            if message["type"] == "http.response.start":
                status_code = message["status"]
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here rather than by an app-level exception handler: Starlette runs that one
            # outside every middleware, after this one has reset the request id, so its body read
            # "quote request id None" and the answer had no X-Request-Id.
            if response_started:  # half an answer is on the wire: nothing better to do than drop it
                raise
            if is_unavailable(exc):  # a database error outside a unit of work: still "retry later"
                log.warning("database unavailable", extra={"error": str(exc)[:300]})
                await unavailable(DatabaseUnavailable("the database is unavailable right now; nothing was "
                                                      "changed: retry in a few seconds"))(
                    scope, receive, send_with_id)
            else:
                log.exception("unhandled error", extra={"error_type": type(exc).__name__,
                                                        "customer": _customer(scope)})
                await internal_error(request_id)(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            elapsed_s = monotonic_s() - started_s
            _counted(scope["method"], route_path, status_code).inc()
            _timed(route_path).observe(elapsed_s)
            if self.access_log and route_path not in _QUIET_ROUTES:
                log.info("request", extra={"method": scope["method"], "route": route_path,
                                           "status": status_code, "duration_ms": round(elapsed_s * 1000, 1),
                                           "customer": _customer(scope)})
            request_id_var.reset(token)


# The figures' children by label values: `labels()` takes a lock and builds its key on every call, and
# the label values are a small fixed set (methods, route templates, statuses).
@functools.lru_cache(maxsize=1024)
def _counted(method: str, route_path: str, status_code: int) -> Any:
    return HTTP_REQUESTS.labels(method, route_path, str(status_code))


@functools.lru_cache(maxsize=1024)
def _timed(route_path: str) -> Any:
    return HTTP_REQUEST_SECONDS.labels(route_path)


# Probes and scrapes every few seconds: an access line each would drown the rest.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics", "/static"})


def _customer(scope: Scope) -> str | None:
    """The host user a route is about (`/v1/customers/{host_user_id}/...`), for the log line."""
    user = (scope.get("path_params") or {}).get("host_user_id")
    return str(user)[:255] if user is not None else None


def _error_response(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"error": body}, status_code=status)


def unavailable(exc: CoinslotError) -> JSONResponse:
    """A 503: the error envelope, and Retry-After so clients and proxies wait before trying again."""
    response = _error_response(exc.http_status, exc.to_dict())
    response.headers["Retry-After"] = str(getattr(exc, "retry_after_s", 30))
    return response


def internal_error(request_id: str) -> JSONResponse:
    """The 500 of an unexpected exception: the request id to quote, never the traceback (that is logged)."""
    return _error_response(
        500, {"code": "internal_error", "message": f"internal error; quote request id {request_id}"}
    )


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
_HTTP_MESSAGES = {  # 413: the detail says the route's limit
    400: "the request body cannot be parsed: send JSON with Content-Type: application/json",
    404: "no such route: the API reference is at /docs",
    405: "this route does not take that method: see /docs",
}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CoinslotError)
    async def _coinslot_error(_request: Request, exc: CoinslotError) -> JSONResponse:
        if exc.http_status == 503:
            return unavailable(exc)
        response = _error_response(exc.http_status, exc.to_dict())
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's own answers (no such route, wrong method, a body that cannot be parsed) in the same
        # envelope as every other error, so a client has one shape to read.
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = _HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        response = _error_response(exc.status_code, {"code": code, "message": message})
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(DataError)
    async def _unstorable_value(_request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the request carried (PostgreSQL takes no NUL character in a text,
        # no number outside a column's range): the caller's input, so a 422; logged in case it is ours.
        log.warning("database refused a value", extra={"error": str(exc.orig)[:300]})
        return _error_response(422, {"code": "invalid_input", "field": None, "message":
                                     "a value in the request cannot be stored (a NUL character, a number "
                                     "out of range)"})

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        # A body that does not parse comes as one error located at the byte offset ("body", 1): saying
        # "1: JSON decode error" with field "1" names nothing the caller can fix.
        if any(error.get("type") == "json_invalid" for error in errors):
            return _error_response(
                422, {"code": "invalid_input", "message": "request body is not valid JSON", "field": None}
            )
        problems = []
        for error in errors:
            location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(f"{location}: {error.get('msg')}")
        first = errors[0] if errors else {}
        field = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or None
        return _error_response(
            422,
            {"code": "invalid_input", "message": "; ".join(problems) or "invalid request", "field": field},
        )


def _install_operations_routes(app: FastAPI, container: Container) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        # "now": this process's time, to spot a skewed host (or see it follow a Stripe test clock).
        return {"status": "ok", "now": container.clock.now().isoformat()}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        # Ready = a write could start now: a database that answers reads but is locked (SQLite) or
        # read-only (a PostgreSQL replica after a failover) would fail every payment's webhook.
        problem = container.db.write_problem()
        if problem is not None:
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503,
                                headers={"Retry-After": str(DatabaseUnavailable.retry_after_s)})
        return JSONResponse({"status": "ready", "billing_enabled": container.settings.billing_enabled})

    gauges = QueueGauges(container.db, container.clock)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> PlainTextResponse:
        registry = registry_for_scrape(gauges)
        return PlainTextResponse(generate_latest(registry).decode(), media_type=CONTENT_TYPE_LATEST)


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    """Build the coinslot application. Tests pass their own database and clock."""
    settings = settings or Settings()
    if configure_logs:
        configure_logging(settings.log_level, json_lines=settings.log_json)
        configure_sentry(settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else None)
    # A broken catalog, or a live key with test price ids (or the reverse), stops start-up here
    # with a file/line message rather than at the first checkout.
    catalog_service.startup_check(settings)
    # A live key with a missing or guessable session secret / admin password stops start-up here.
    settings = checked_secrets(settings)
    container = Container(
        settings=settings, db=db or Database.for_settings(settings), clock=clock or make_clock(settings)
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stops: list[Callable[[], Any]] = []
        # Background parts started with the server (the webhook worker of the SQLite demo, the outbox sender).
        for start in BACKGROUND_STARTERS:
            stop = start(container)
            if stop is not None:
                stops.append(stop)
        try:
            yield
        finally:
            for stop in reversed(stops):
                stop()

    # /docs and /redoc are served by the pages (web/home.py) from local assets: no CDN needed.
    app = FastAPI(title="coinslot", version="0.1.0", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.container = container
    # Innermost: POST /v1/check's common request answered before routing (entitlements/check_lane.py).
    app.add_middleware(CheckLane, container=container)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(RequestContextMiddleware, access_log=settings.access_log)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: the 500 the one above writes gets them too
    _install_error_handlers(app)
    _install_operations_routes(app, container)
    for router in DOMAIN_ROUTERS:
        app.include_router(router)
    install_pages(app)  # /billing/..., /admin/..., POST /v1/links, /static
    _document_statuses_of_the_whole_app(app, settings)
    return app


def serve_app(settings: Settings | None = None, *, configure_logs: bool = True) -> FastAPI:
    """`create_app` as each API process of `coinslot serve` runs it (uvicorn's factory), then the garbage
    collector told to leave everything built so far alone (`gc.freeze`).

    A full collection walks every object alive: the app, its routes and schemas, SQLAlchemy's and
    pydantic's, hundreds of thousands built once and never freed. On a server receiving 64 webhooks at
    once that walk stalled the event loop for tens of milliseconds a few times a second, and the slowest
    answers waited for it: p99 110 ms, 25 ms frozen (docs/benchmarks.md, webhook receive). What a
    request allocates is collected as before. Not in `create_app`: a test process builds many apps, and
    frozen objects that later become unreachable in a cycle are never collected."""
    app = create_app(settings, configure_logs=configure_logs)
    gc.collect()  # what start-up left unreachable goes now, not into the frozen generation
    gc.freeze()
    return app


def _document_statuses_of_the_whole_app(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI document, completed with what the middlewares answer (each body route's 413)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_body_limits(
                build(), max_bytes_of=lambda path: body_max_bytes(settings, path))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document


# Each entry takes the container and returns a stop function (or None when it has nothing to run).
BACKGROUND_STARTERS: list[Callable[[Container], Callable[[], Any] | None]] = [
    start_clock_follower,  # test mode: "now" follows the Stripe test clock (COINSLOT_STRIPE_TEST_CLOCK)
    start_in_process_worker,  # the webhook worker, when settings.run_worker_in_process (SQLite demo)
    start_sender,  # outbox -> host app, when settings.host_webhook_url is set (one per process; leases)
    # due credit expiries written, beside the in-process worker (`coinslot worker` runs its own)
    lambda container: start_expiry_sweep(container) if container.settings.run_worker_in_process else None,
    # auto top-ups charged off-session, beside the in-process worker (`coinslot worker` runs its own)
    lambda container: start_charger(container) if container.settings.run_worker_in_process else None,
    # overage -> Stripe's meter, beside the in-process worker (`coinslot worker` runs its own)
    lambda container: start_overage_reporter(container) if container.settings.run_worker_in_process else None,
]
