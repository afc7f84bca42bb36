"""Rendering for every page: the Jinja2 environment, its filters, and a route class that turns
errors into friendly pages.

A CoinslotError raised anywhere under a page route (a dependency, a service,
the Stripe gateway) becomes the error page with its message and status; an
unexpected exception is logged with its traceback and the visitor sees a short
apology with the request id to quote, never the traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from coinslot.errors import CoinslotError, RateLimited
from coinslot.money import format_minor
from coinslot.observability import request_id_var
from coinslot.subscriptions import statuses

__all__ = ["STATIC_DIR", "PageRoute", "RedirectTo", "mount_path", "redirect", "render", "url"]

log = logging.getLogger("coinslot.web")

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"


def _money(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return "—"
    return format_minor(amount_minor, currency)


def _date(value: dt.datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value is not None else "—"


def _datetime(value: dt.datetime | None) -> str:
    return value.strftime("%-d %b %Y %H:%M UTC") if value is not None else "—"


def _unix_date(seconds: int | None) -> str:
    return _date(dt.datetime.fromtimestamp(seconds, dt.UTC)) if seconds else "—"


def _humanize(value: str | None) -> str:
    return (value or "").replace("_", " ")


@cache
def _static_version(name: str) -> str:
    # Content hash in the URL: browsers may cache static files forever and still see new versions.
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


# The mount path of the page being served, set by PageRoute for the request (like the request id):
# templates, redirects and cookies all need it, and threading the request through each would not
# make a single one of them more correct.
_mount_path: ContextVar[str] = ContextVar("coinslot_mount_path", default="")


def mount_path(request: Request) -> str:
    """Where coinslot is served: "" on its own, "/coinslot" when `library.mount` put it in a host app
    (Starlette's `root_path`, which also carries a reverse proxy's prefix given to uvicorn)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def url(path: str) -> str:
    """A coinslot path (`/billing/...`, `/admin/...`, `/static/...`) as the browser must ask for it.

    Every link, form, redirect and cookie path of the pages goes through here, so the pages work
    under whatever path the host mounted coinslot at.
    """
    return _mount_path.get() + path


def static_url(name: str) -> str:
    return url(f"/static/{name}?v={_static_version(name)}")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    env.filters["date"] = _date
    env.filters["datetime"] = _datetime
    env.filters["humanize"] = _humanize
    env.filters["unix_date"] = _unix_date
    env.tests["serving"] = statuses.is_serving  # `{% if sub.status is serving %}`: subscriptions.statuses
    env.globals["static_url"] = static_url
    env.globals["url"] = url
    return env


def render(template: str, context: Mapping[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """The named template rendered with `context` (every template extends base.html)."""
    defaults: dict[str, Any] = {"nav": None, "csrf_token": "", "toast": None, "back_url": None,
                                "admin": False, "signed_in": None}
    html = environment().get_template(template).render({**defaults, **context})
    # Cache-Control: no-store, the CSP, X-Frame-Options and the rest: web/headers.py, on every answer.
    return HTMLResponse(html, status_code=status_code)


def redirect(location: str) -> RedirectResponse:
    """POST-redirect-GET: a 303 so that reloading the next page never re-submits the form.

    A path (`/billing?toast=...`) is one of coinslot's pages and goes under the mount path; an
    absolute URL (Stripe Checkout, the portal) is followed as given.
    """
    if location.startswith("/") and not location.startswith("//"):
        location = url(location)
    return RedirectResponse(location, status_code=303)


_TITLES = {
    400: "That form could not be read",
    401: "Please open the link again",
    403: "Not yours to see",
    404: "Not found",
    402: "Not enough credits",
    409: "That changed meanwhile",
    413: "Too large",
    429: "Too many requests",
    422: "Please check what you entered",
    502: "The payment provider refused",
    503: "Billing is unavailable right now",
}


def error_page(
    status: int, message: str, *, admin: bool = False, retry_after_s: int | None = None
) -> HTMLResponse:
    title = _TITLES.get(status, "Something went wrong")
    context = {"title": title, "message": message, "status": status, "request_id": request_id_var.get(),
               "admin": admin}
    response = render("error.html", context, status_code=status)
    if status == 503:  # a database or Stripe outage, billing switched off: browsers and proxies retry later
        response.headers["Retry-After"] = "30"
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
    return response


def _unreadable(exc: HTTPException) -> str:
    if exc.status_code == 413:
        return "That form is larger than this page accepts. Reload the page and try again."
    if exc.status_code == 400:
        # Starlette's reason ("Too many fields...", "Missing boundary in multipart.") helps whoever sent it.
        return f"The form could not be read ({exc.detail}). Reload the page and try again."
    return str(exc.detail)


class RedirectTo(Exception):
    """Raised by a page dependency to send the browser elsewhere (e.g. to the admin login)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class PageRoute(APIRoute):
    """An APIRoute whose errors render as HTML pages instead of the API's JSON envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        is_admin = self.path.startswith("/admin")

        async def page_handler(request: Request) -> Response:
            token = _mount_path.set(mount_path(request))
            try:
                return await handler(request)
            except RedirectTo as exc:
                return redirect(exc.url)
            except CoinslotError as exc:
                wait_s = exc.retry_after_s if isinstance(exc, RateLimited) else None
                return error_page(exc.http_status, exc.message, admin=is_admin, retry_after_s=wait_s)
            except DataError:  # e.g. a NUL character in a form, which PostgreSQL cannot store
                return error_page(422, "Please check what you entered and try again.", admin=is_admin)
            except HTTPException as exc:  # a form that cannot be read (400) or is over the limit (413)
                return error_page(exc.status_code, _unreadable(exc), admin=is_admin)
            except RequestValidationError as exc:
                fields = ", ".join(
                    str(error.get("loc", ("", "?"))[-1]) for error in exc.errors()
                ) or "the form"
                return error_page(422, f"Please check {fields} and try again.", admin=is_admin)
            except Exception:
                log.exception("page failed", extra={"path": request.url.path})
                return error_page(
                    500, "Something went wrong on our side. Nothing was charged twice; please try again.",
                    admin=is_admin,
                )
            finally:
                _mount_path.reset(token)

        return page_handler
