"""Rendering the hosted pages: one Jinja2 environment over `hosted/templates/`, the filters
every page uses (money, dates, intervals), and the account name the pages show."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..money import format_minor
from ..store import Store

__all__ = ["DEFAULT_BUSINESS_NAME", "business_name", "format_date", "locked", "message", "page",
           "recurring_text"]

DEFAULT_BUSINESS_NAME = "stripesim"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def format_date(ts: int | None, *, short: bool = False) -> str:
    """1767225600 -> "January 1, 2026" ("Jan 1, 2026" short), in UTC as stripesim bills."""
    if ts is None:
        return ""
    day = datetime.fromtimestamp(int(ts), UTC)
    month = _MONTHS[day.month - 1]
    return f"{month[:3] if short else month} {day.day}, {day.year}"


def recurring_text(recurring: dict[str, Any] | None) -> str:
    """A price's `recurring` as Checkout words it: "per month", "every 3 months"."""
    if not recurring:
        return ""
    interval, count = str(recurring["interval"]), int(recurring.get("interval_count") or 1)
    return f"per {interval}" if count == 1 else f"every {count} {interval}s"


def billed_text(recurring: dict[str, Any] | None) -> str:
    """"Billed monthly", "Billed every 3 months"."""
    if not recurring:
        return ""
    interval, count = str(recurring["interval"]), int(recurring.get("interval_count") or 1)
    if count == 1:
        return "Billed " + {"day": "daily", "week": "weekly", "month": "monthly",
                            "year": "yearly"}.get(interval, f"every {interval}")
    return f"Billed every {count} {interval}s"


def business_name(store: Store) -> str:
    """The name the pages show for the seller: the account's display name once an `account`
    object is stored (`settings.dashboard.display_name`, else `business_profile.name`),
    "stripesim" until then, as on the invoices' `account_name`."""
    for account in store.all("account"):
        dashboard = (account.get("settings") or {}).get("dashboard") or {}
        name = dashboard.get("display_name") or (account.get("business_profile") or {}).get("name")
        if name:
            return str(name)
    return DEFAULT_BUSINESS_NAME


_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters["money"] = lambda amount, currency: format_minor(int(amount), str(currency))
_env.filters["date"] = format_date
_env.filters["short_date"] = lambda ts: format_date(ts, short=True)
_env.filters["per"] = recurring_text
_env.filters["billed"] = billed_text


def page(template: str, status: int = 200, /, **context: Any) -> HTMLResponse:
    """The template rendered as an HTML response."""
    return HTMLResponse(_env.get_template(template).render(**context), status_code=status)


def message(title: str, text: str, status: int = 200, *, link: str | None = None,
            link_text: str | None = None, business: str = DEFAULT_BUSINESS_NAME) -> HTMLResponse:
    """A one-message page (not found, expired, done), with an optional way onward."""
    return page("message.html", status, title=title, message=text, link=link,
                link_text=link_text, business=business)


def locked(handler: Callable[[Request], Response]) -> Callable[[Request], Awaitable[Response]]:
    """A page that reads the store, as a Starlette endpoint: it runs in a worker thread holding
    the store lock, so a long test-clock advance holding the lock never stalls the event loop."""
    async def endpoint(request: Request) -> Response:
        lock = request.app.state.sim.store.lock

        def run() -> Response:
            with lock:
                return handler(request)

        return await run_in_threadpool(run)

    endpoint.__name__ = handler.__name__
    return endpoint
