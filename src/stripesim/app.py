"""The ASGI app: auth, form decoding, faults, idempotency, routing, envelope.

Routes come from modules found at start-up (see `discover_modules`): any
module of the `stripesim` package or of its subpackages (resources/,
hosted/, ...) may define

    router: Router          Stripe API routes (/v1/..., need a test key)
    control_router: Router  /_sim/... routes (no auth, JSON or form bodies)
    asgi_routes: list       raw Starlette routes (HTML pages, redirects)
    setup(sim) -> None      called once per app (register reset hooks, threads)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import importlib
import json
import logging
import pkgutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, nullcontext
from types import ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .errors import APIError, AuthenticationError, InvalidRequestError, RateLimitError, StripeError
from .expand import apply_expand, public, show_current
from .hosted_urls import HOSTED_BASE_KEY, remember_base_url
from .params import decode_form
from .routing import Call, Router
from .routing import Route as ApiRoute
from .sim import Sim
from .store import new_id
from .versions import DEFAULT as DEFAULT_API_VERSION
from .versions import render, resolve

__all__ = ["create_app", "discover_modules"]

log = logging.getLogger("stripesim")
_SKIP_MODULES = frozenset({"__main__", "app", "cli"})


def discover_modules() -> Iterator[ModuleType]:
    """Every stripesim module and subpackage module that may contribute routes, sorted."""
    package = importlib.import_module("stripesim")
    names = sorted(info.name for info in pkgutil.walk_packages(package.__path__, "stripesim."))
    for name in names:
        if name.rpartition(".")[2] in _SKIP_MODULES and name.count(".") == 1:
            continue
        yield importlib.import_module(name)


def create_app(sim: Sim | None = None, *, state_file: str | None = None,
               webhook_url: str | None = None, webhook_secret: str | None = None,
               retry_base_delay_s: float = 1.0, max_delivery_attempts: int = 4,
               api_version: str | None = None) -> Starlette:
    """An emulator app; pass `sim` to share state with the caller (tests). `api_version`:
    the account's default API version (see `stripesim.versions`)."""
    sim = sim or Sim(state_file=state_file, retry_base_delay_s=retry_base_delay_s,
                     max_delivery_attempts=max_delivery_attempts,
                     api_version=api_version or DEFAULT_API_VERSION)
    api, control = Router(), Router()
    extra: list[BaseRoute] = []
    for module in discover_modules():
        if isinstance(getattr(module, "router", None), Router):
            api.include(module.router)
        if isinstance(getattr(module, "control_router", None), Router):
            control.include(module.control_router)
        extra.extend(getattr(module, "asgi_routes", []))
        setup = getattr(module, "setup", None)
        if callable(setup):
            setup(sim)
    if webhook_url:
        sim.configure_startup_endpoint(webhook_url, webhook_secret)
    pipeline = _Pipeline(sim, api, control)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        sim.close()

    routes: list[BaseRoute] = [*extra, Route("/{path:path}", pipeline.handle,
                                             methods=["GET", "POST", "DELETE", "PUT", "PATCH"])]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sim = sim
    app.state.control_routes = list(control.routes)  # listed on the home page
    return app


class _Pipeline:
    def __init__(self, sim: Sim, api: Router, control: Router) -> None:
        self.sim, self.api, self.control = sim, api, control

    async def handle(self, request: Request) -> Response:
        request_id = new_id("req", 14)
        headers = {"Request-Id": request_id, "Stripe-Version": self.sim.api_version}
        try:
            if request.url.path.startswith("/_sim/"):
                return await self._control(request, request_id, headers)
            return await self._api(request, request_id, headers)
        except StripeError as exc:
            return _error_response(exc, request_id, headers)

    async def _api(self, request: Request, request_id: str, headers: dict[str, str]) -> Response:
        method, path = request.method, request.url.path
        _authenticate(request.headers.get("authorization"))
        version = headers["Stripe-Version"] = resolve(request.headers.get("stripe-version"),
                                                      self.sim.api_version)
        self._remember_address(request)
        fault = self.sim.faults.api_fault_for(method, path)
        # Error faults strike before execution starts, so Stripe would not save them for
        # idempotent replay; a retry with the same key then succeeds.
        if fault is not None and fault.status is not None:
            await _sleep_ms(fault.delay_ms)
            if fault.status == 429:
                raise RateLimitError()
            if fault.status is not None:
                raise APIError("An injected fault answered this request (stripesim).",
                               http_status=fault.status)
        params = decode_form(request.url.query)
        if method == "POST" or method == "DELETE":
            params.update(decode_form(await request.body()))
        found = self.api.resolve(method, path)
        if found is None:
            raise InvalidRequestError(
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                http_status=404)
        route, path_params = found
        key = request.headers.get("idempotency-key") if method == "POST" else None
        if key is not None:
            _check_idempotency_key(key)
            headers["Idempotency-Key"] = key
            saved = self.sim.idempotency.begin(method, path, key, params)
            if saved is not None and saved.status is not None:
                headers.update({"Idempotent-Replayed": "true", "Original-Request": saved.request_id})
                return _json_response(saved.status, saved.body, headers)
        call = Call(self.sim, method, path, params, path_params, request_id, key,
                    dict(request.headers), api_version=version)
        status, body, save = 500, b"", False
        try:
            if fault is not None and fault.status is None:
                await _sleep_ms(fault.delay_ms)  # a slow request: its key stays in flight
            status, body, save = await run_in_threadpool(self._execute, route, call)
        finally:
            # Also on cancellation (client went away): never leave a key stuck in flight.
            if key is not None:
                self.sim.idempotency.finish(method, path, key, status=status, body=body,
                                            request_id=request_id, save=save)
        if method != "GET":
            if key is not None and save:
                self.sim.store.touch()  # the answer is kept for replays, in the file too
            await run_in_threadpool(self.sim.store.save)
        return _json_response(status, body, headers)

    def _remember_address(self, request: Request) -> None:
        """Where clients reach us, for the URLs of hosted pages (invoice, checkout, portal)."""
        host = request.headers.get("host")
        if host and self.sim.store.kv.get(HOSTED_BASE_KEY) != f"http://{host}":
            with self.sim.store.lock:
                remember_base_url(self.sim.store, request.headers)

    def _execute(self, route: ApiRoute, call: Call) -> tuple[int, bytes, bool]:
        """Run a handler under the store lock; (status, JSON body, keep for replay)."""
        store = self.sim.store
        try:
            with store.lock if route.locked else nullcontext():
                result = route.handler(call)
                status, body = result if isinstance(result, tuple) else (200, result)
                rendered = _in_version(store, body, call.api_version)
                expand = call.params.get("expand")
                if expand:
                    apply_expand(store, rendered, expand if isinstance(expand, list) else [expand],
                                 finish=lambda found: render(store, found, call.api_version),
                                 version=call.api_version)
                text = json.dumps(rendered, indent=2).encode()
            outcome = (status, text, True)
        except StripeError as exc:
            # Objects inside an error (a declined payment intent) are in the request's version too.
            exc.extra = {k: _in_version(store, v, call.api_version) if isinstance(v, dict) else v
                         for k, v in exc.extra.items()}
            outcome = (exc.http_status, _dump(exc, call.request_id), exc.save_idempotent)
        except Exception:
            log.exception("handler crashed: %s %s", call.method, call.path)
            crash = APIError("An unexpected error occurred in stripesim.")
            outcome = (500, _dump(crash, call.request_id), True)
        if call.path.startswith("/_sim/") and call.method != "GET":
            store.save()  # API requests save after their idempotency key is settled
        return outcome

    async def _control(self, request: Request, request_id: str, headers: dict[str, str]) -> Response:
        method, path = request.method, request.url.path
        params: dict[str, Any] = decode_form(request.url.query)
        raw = await request.body()
        if raw and "json" in request.headers.get("content-type", ""):
            try:
                decoded = json.loads(raw)
            except ValueError:
                raise InvalidRequestError("Invalid JSON body.") from None
            if not isinstance(decoded, dict):
                raise InvalidRequestError("The JSON body must be an object.")
            params.update(decoded)
        elif raw:
            params.update(decode_form(raw))
        found = self.control.resolve(method, path)
        if found is None:
            raise InvalidRequestError(f"Unrecognized control URL ({method}: {path}).",
                                      http_status=404)
        route, path_params = found
        # Control answers hold Stripe objects too: in the Stripe-Version asked for, if any.
        version = resolve(request.headers.get("stripe-version"), self.sim.api_version)
        call = Call(self.sim, method, path, params, path_params, request_id, None,
                    dict(request.headers), api_version=version)
        status, body, _ = await run_in_threadpool(self._execute, route, call)
        return _json_response(status, body, headers)


def _authenticate(header: str | None) -> None:
    """Bearer or Basic (key as user); test keys only, since this is a test-mode emulator."""
    if not header:
        raise AuthenticationError(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
            "or we can help at https://support.stripe.com/.")
    scheme, _, credentials = header.strip().partition(" ")
    key = credentials.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if key.startswith(("sk_live_", "rk_live_")):
        raise AuthenticationError(
            "stripesim only emulates test mode: live-mode keys are refused. Use an sk_test_ key.")
    if not key.startswith(("sk_test_", "rk_test_")) or len(key) <= len("sk_test_"):
        masked = (key[:8] + "*" * 4 + key[-4:]) if len(key) > 12 else key
        raise AuthenticationError(f"Invalid API Key provided: {masked}")


def _in_version(store: Any, body: Any, version: str) -> Any:
    """A handler's answer as the client sees it: public, embedded copies current, in its version."""
    return render(store, show_current(store, public(body)), version)


def _check_idempotency_key(key: str) -> None:
    """Stripe refuses keys outside 1-255 characters before looking at the request."""
    if not 1 <= len(key) <= 255:
        raise InvalidRequestError(
            f"Idempotent key length is {len(key)}, which is outside accepted lengths. Idempotent "
            "Keys must be 1-255 characters long. If you're looking for a decent generator, try "
            "using a UUID defined by IETF RFC 4122.")


async def _sleep_ms(delay_ms: int) -> None:
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)


def _dump(exc: StripeError, request_id: str | None) -> bytes:
    return json.dumps(exc.to_dict(request_id), indent=2).encode()


def _error_response(exc: StripeError, request_id: str, headers: dict[str, str]) -> Response:
    return _json_response(exc.http_status, _dump(exc, request_id), headers)


def _json_response(status: int, body: bytes, headers: dict[str, str]) -> Response:
    return Response(content=body, status_code=status, headers=headers,
                    media_type="application/json")

