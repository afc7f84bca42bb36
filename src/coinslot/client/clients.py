"""`CoinslotClient` and `AsyncCoinslotClient`: the same operations (`calls.py`), sent with httpx.

Each operation is declared once on `_Operations` as an `_Operation` descriptor; read from a sync client it
is a function returning the answer, read from an async client a coroutine function. What is written twice
is only the sending loop, which must block in one and await in the other.

Retries: a 503 (billing paused, Stripe or the database unreachable), a 429 or a connection error is
retried up to `max_retries` times for calls that are safe to repeat (reads, and writes that carry an
idempotency key, sent again with the same key), after the server's Retry-After or a short backoff.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, ParamSpec, Self, TypeVar, overload

import httpx

from coinslot.client import calls
from coinslot.client.calls import Call
from coinslot.client.errors import CoinslotError

__all__ = ["AsyncCoinslotClient", "CoinslotClient"]

P = ParamSpec("P")
T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 503})
MAX_RETRY_AFTER_S = 30.0


def _error(response: httpx.Response) -> CoinslotError:
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    retry_after = response.headers.get("retry-after", "")
    return CoinslotError(response.status_code, str(error.get("code", "error")),
                         str(error.get("message", response.text[:200])), error.get("field"),
                         float(retry_after) if retry_after.isdigit() else None)


def _unreachable(exc: httpx.HTTPError) -> CoinslotError:
    return CoinslotError(0, "unreachable", f"coinslot could not be reached: {exc}")


def _wait_s(error: CoinslotError, attempt: int, *, call: Call[Any], max_retries: int) -> float | None:
    """How long to wait before trying `call` again after `error`, or None to give up."""
    if not call.retry_safe or attempt >= max_retries:
        return None
    if error.status not in RETRYABLE_STATUSES and error.code != "unreachable":
        return None
    backoff_s = 0.2 * 2 ** attempt
    return min(error.retry_after_s if error.retry_after_s is not None else backoff_s, MAX_RETRY_AFTER_S)


def _answer(call: Call[T], response: httpx.Response) -> T:
    if response.status_code >= 400:
        raise _error(response)
    return call.read(response.json())


class _Operation(Generic[P, T]):
    """One API operation on both clients: `client.consume(...)` sends `calls.consume(...)`."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: AsyncCoinslotClient, owner: Any) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, client: CoinslotClient, owner: Any) -> Callable[P, T]: ...
    @overload
    def __get__(self, client: None, owner: Any) -> Self: ...

    def __get__(self, client: Any, owner: Any) -> Any:
        if client is None:
            return self
        build = self._build

        def send(*args: P.args, **kwargs: P.kwargs) -> Any:
            if "user_id" in kwargs:  # the 0.1 name of host_user_id: still accepted, for one release
                warnings.warn("user_id= is deprecated: pass host_user_id=", DeprecationWarning, stacklevel=2)
                kwargs["host_user_id"] = kwargs.pop("user_id")
            return client.send(build(*args, **kwargs))

        return send


class _Operations:
    """Every operation of the API, named as in the OpenAPI document (snake_case here)."""

    # Entitlements: may the user, and spend.
    check = _Operation(calls.check)
    consume = _Operation(calls.consume)
    create_hold = _Operation(calls.create_hold)
    capture_hold = _Operation(calls.capture_hold)
    release_hold = _Operation(calls.release_hold)
    # Checkout and orders.
    start_checkout = _Operation(calls.start_checkout)
    fulfil_checkout = _Operation(calls.fulfil_checkout)
    create_order = _Operation(calls.create_order)
    list_orders = _Operation(calls.list_orders)
    get_order = _Operation(calls.get_order)
    start_order_checkout = _Operation(calls.start_order_checkout)
    set_order_status = _Operation(calls.set_order_status)
    # Customers, their state and credits.
    ensure_customer = _Operation(calls.ensure_customer)
    get_customer = _Operation(calls.get_customer)
    get_customer_state = _Operation(calls.get_customer_state)
    get_credits = _Operation(calls.get_credits)
    list_ledger_entries = _Operation(calls.list_ledger_entries)
    get_auto_topup = _Operation(calls.get_auto_topup)
    turn_on_auto_topup = _Operation(calls.turn_on_auto_topup)
    turn_off_auto_topup = _Operation(calls.turn_off_auto_topup)
    get_usage_history = _Operation(calls.get_usage_history)
    spend_credits = _Operation(calls.spend_credits)
    adjust_credits = _Operation(calls.adjust_credits)
    # Subscriptions, the portal, links to the pages.
    cancel_subscription = _Operation(calls.cancel_subscription)
    resume_subscription = _Operation(calls.resume_subscription)
    change_plan = _Operation(calls.change_plan)
    preview_plan_change = _Operation(calls.preview_plan_change)
    preview_seats = _Operation(calls.preview_seats)
    change_seats = _Operation(calls.change_seats)
    preview_addon = _Operation(calls.preview_addon)
    add_addon = _Operation(calls.add_addon)
    remove_addon = _Operation(calls.remove_addon)
    create_portal_session = _Operation(calls.create_portal_session)
    create_link = _Operation(calls.create_link)
    # The catalog and Stripe's events.
    list_plans = _Operation(calls.list_plans)
    list_events = _Operation(calls.list_events)
    get_event = _Operation(calls.get_event)


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "User-Agent": "coinslot-python"}


def _renamed(old: str, new: str) -> Callable[..., Any]:
    """A method of 0.1, kept for one release under its old name."""

    def alias(self: Any, *args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"{old}() is deprecated: call {new}()", DeprecationWarning, stacklevel=2)
        return getattr(self, new)(*args, **kwargs)

    alias.__name__ = old
    return alias


class CoinslotClient(_Operations):
    """A synchronous client of coinslot's /v1 API. Use as a context manager, or call `close()`."""

    # The 0.1 names (deprecated).
    customer = _renamed("customer", "get_customer")
    credits = _renamed("credits", "get_credits")
    order = _renamed("order", "get_order")
    orders = _renamed("orders", "list_orders")
    checkout_order = _renamed("checkout_order", "start_order_checkout")
    hold = _renamed("hold", "create_hold")
    capture = _renamed("capture", "capture_hold")
    release = _renamed("release", "release_hold")

    def __init__(self, base_url: str, api_key: str, *, timeout_s: float = 10.0, max_retries: int = 2,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport,
                                  headers=_headers(api_key))
        self._max_retries = max_retries

    def send(self, call: Call[T]) -> T:
        """Send one call (the operations do); retried as the module says."""
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.path, json=call.json, params=call.params)
                return _answer(call, response)
            except httpx.HTTPError as exc:
                error = _unreachable(exc)
            except CoinslotError as refused:
                error = refused
            wait_s = _wait_s(error, attempt, call=call, max_retries=self._max_retries)
            if wait_s is None:
                raise error
            time.sleep(wait_s)
            attempt += 1

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncCoinslotClient(_Operations):
    """An asynchronous client (for FastAPI and other async hosts): `await client.consume(...)`.
    Use as an async context manager, or `await client.aclose()`."""

    def __init__(self, base_url: str, api_key: str, *, timeout_s: float = 10.0, max_retries: int = 2,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport,
                                       headers=_headers(api_key))
        self._max_retries = max_retries

    async def send(self, call: Call[T]) -> T:
        """Send one call (the operations do); retried as the module says."""
        attempt = 0
        while True:
            try:
                response = await self._http.request(call.method, call.path, json=call.json,
                                                    params=call.params)
                return _answer(call, response)
            except httpx.HTTPError as exc:
                error = _unreachable(exc)
            except CoinslotError as refused:
                error = refused
            wait_s = _wait_s(error, attempt, call=call, max_retries=self._max_retries)
            if wait_s is None:
                raise error
            await asyncio.sleep(wait_s)
            attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
