"""Who is looking at a page: signed links, customer sessions, the operator's session, CSRF.

How a host sends a user here:

    host backend ── POST /v1/links {host_user_id} (API key) ──> {url, expires_at}
    browser ── GET url (/billing/enter?token=...) ──> session cookie for that one customer ──> 303 /billing

The link is signed (itsdangerous, salt per purpose) and lives `signed_link_ttl_s`
seconds. The session cookie is signed too and names exactly one customer: every
page reads the customer from it, never from the URL, so a customer can never
ask for someone else's billing. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Form, Request, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from coinslot.access import admin_sessions
from coinslot.access.admin_sessions import ADMIN_SESSION_TTL
from coinslot.alerts import service as alerts
from coinslot.config import Settings
from coinslot.deps import ContainerDep
from coinslot.errors import BillingDisabled, Forbidden, Unauthorized
from coinslot.urls import check_redirect_url
from coinslot.web.pages import RedirectTo, url

__all__ = [
    "ADMIN_COOKIE",
    "SESSION_COOKIE",
    "AdminDep",
    "AdminSession",
    "CustomerDep",
    "CustomerSession",
    "Page",
    "check_csrf",
    "current_admin",
    "issue_customer_session",
    "make_link_token",
    "password_tag",
    "read_link_token",
    "set_admin_cookie",
]

SESSION_COOKIE = "coinslot_session"
ADMIN_COOKIE = "coinslot_admin"
LOGIN_CSRF_COOKIE = "coinslot_login_csrf"
SESSION_TTL_S = 2 * 3600  # a customer's page session; the host hands out a new link after that

Page = Literal["billing", "pricing", "credits"]
PAGE_PATHS: dict[str, str] = {
    "billing": "/billing", "pricing": "/billing/pricing", "credits": "/billing/credits",
}

_SESSION_ENDED = "Your billing session has ended. Go back to the app and open billing again."
_LINK_SALT = "coinslot.link.v1"
_SESSION_SALT = "coinslot.session.v1"


def _serializer(settings: Settings, salt: str) -> URLSafeTimedSerializer:
    if settings.session_secret is None:
        raise BillingDisabled(
            "the billing pages are off: set COINSLOT_SESSION_SECRET to turn them on",
            code="sessions_not_configured",
        )
    return URLSafeTimedSerializer(settings.session_secret.get_secret_value(), salt=salt)


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def checked_return_url(settings: Settings, return_url: str | None) -> str | None:
    """The host's "back to the app" address, only when its origin is one the operator allowed."""
    if not return_url:
        return None
    return check_redirect_url(return_url, allowed_origins=settings.redirect_origins, field="return_url")


# --- signed links ------------------------------------------------------------------------------


def make_link_token(settings: Settings, *, host_user_id: str, page: Page, return_url: str | None,
                    name: str | None = None) -> str:
    # "j": the link's nonce; opening the link records it, so the link opens one session only.
    claims = {"u": host_user_id, "p": page, "r": return_url, "j": secrets.token_urlsafe(18), "n": name}
    return str(_serializer(settings, _LINK_SALT).dumps(claims))


@dataclass(frozen=True, slots=True)
class LinkClaims:
    host_user_id: str
    page: Page
    return_url: str | None
    name: str | None  # the host's display name for the user, shown on the pages
    nonce: str


def read_link_token(settings: Settings, token: str) -> LinkClaims:
    """The claims of a link, or Unauthorized when it was altered or is older than the TTL."""
    serializer = _serializer(settings, _LINK_SALT)
    try:
        data: Any = serializer.loads(token, max_age=settings.signed_link_ttl_s)
    except SignatureExpired:
        raise Unauthorized("This link has expired. Go back to the app and open billing again.") from None
    except BadSignature:
        raise Unauthorized("This link is not valid. Go back to the app and open billing again.") from None
    page = data.get("p") if isinstance(data, dict) else None
    if page not in PAGE_PATHS or not isinstance(data.get("u"), str) or not isinstance(data.get("j"), str):
        raise Unauthorized("This link is not valid. Go back to the app and open billing again.")
    name = data.get("n")
    return LinkClaims(host_user_id=data["u"], page=page, return_url=data.get("r"),
                      name=name if isinstance(name, str) else None, nonce=data["j"])


# --- the customer's session ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerSession:
    """The one customer a browser may see. `csrf` goes into every form."""

    customer_id: int
    host_user_id: str
    csrf: str
    return_url: str | None
    name: str | None = None  # the host's display name for the user

    @property
    def display_name(self) -> str:
        """What "Signed in as" shows: the host's name for the user, else the host's id."""
        return self.name or self.host_user_id


def issue_customer_session(
    response: Response, settings: Settings, *, customer_id: int, host_user_id: str, return_url: str | None,
    name: str | None = None,
) -> None:
    payload = {"c": customer_id, "u": host_user_id, "x": secrets.token_urlsafe(24), "r": return_url,
               "n": name}
    value = _serializer(settings, _SESSION_SALT).dumps(payload)
    response.set_cookie(SESSION_COOKIE, str(value), max_age=SESSION_TTL_S, path=url("/billing"),
                        httponly=True, samesite="lax", secure=_secure(settings))


def current_customer(request: Request, container: ContainerDep) -> CustomerSession:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise Unauthorized(_SESSION_ENDED)
    try:
        data: Any = _serializer(container.settings, _SESSION_SALT).loads(raw, max_age=SESSION_TTL_S)
    except BadSignature:  # SignatureExpired is a BadSignature too
        raise Unauthorized(_SESSION_ENDED) from None
    name = data.get("n")
    return CustomerSession(customer_id=int(data["c"]), host_user_id=str(data["u"]), csrf=str(data["x"]),
                           return_url=data.get("r"), name=name if isinstance(name, str) else None)


CustomerDep = Annotated[CustomerSession, Depends(current_customer)]


def check_csrf(expected: str, given: str) -> None:
    """Refuse a form that does not carry this session's token (a page of another site posting here)."""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("This form has expired. Reload the page and try again.", code="csrf_failed")


def require_customer_form(customer: CustomerDep, csrf_token: Annotated[str, Form()] = "") -> CustomerSession:
    """Dependency of every customer POST: the session, with its CSRF token checked."""
    check_csrf(customer.csrf, csrf_token)
    return customer


CustomerFormDep = Annotated[CustomerSession, Depends(require_customer_form)]


# --- the operator's session ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminSession:
    """The operator signed in; `open_alerts` (unacknowledged, read with the session) goes in the nav."""

    csrf: str
    actor: str
    open_alerts: int = 0
    token: str = ""  # the cookie's, to end this session at logout


def admin_password_matches(settings: Settings, password: str) -> bool:
    if settings.admin_password is None:
        raise BillingDisabled("the admin console is off: set COINSLOT_ADMIN_PASSWORD to turn it on",
                              code="admin_not_configured")
    return hmac.compare_digest(settings.admin_password.get_secret_value().encode(), password.encode())


def password_tag(settings: Settings) -> str:
    """Names the admin password a session was opened with, so changing the password ends every session.

    Keyed with the session secret: stored beside the session, a plain hash of the password could be
    brute-forced offline by whoever reads the table.
    """
    secret = settings.session_secret.get_secret_value() if settings.session_secret else ""
    password = settings.admin_password.get_secret_value() if settings.admin_password else ""
    return hmac.new(secret.encode(), password.encode(), hashlib.sha256).hexdigest()[:32]


def set_admin_cookie(response: Response, settings: Settings, token: str) -> None:
    """The session's token in a cookie only the console's paths receive, never sent cross-site."""
    response.set_cookie(ADMIN_COOKIE, token, max_age=int(ADMIN_SESSION_TTL.total_seconds()),
                        path=url("/admin"), httponly=True, samesite="strict", secure=_secure(settings))


def current_admin(request: Request, container: ContainerDep) -> AdminSession:
    """The signed-in operator, from the server-side session the cookie names; else to the login page."""
    token = request.cookies.get(ADMIN_COOKIE, "")
    if not token or container.settings.admin_password is None:
        raise RedirectTo("/admin/login")
    with container.db.unit_of_work(read_only=True) as session:
        row = admin_sessions.find_session(session, token=token, password_tag=password_tag(container.settings),
                                          now=container.clock.now())
        if row is None:  # logged out, expired, or opened with a password that has changed since
            raise RedirectTo("/admin/login")
        open_alerts = alerts.count_open(session)
        return AdminSession(csrf=row.csrf, actor=row.actor, open_alerts=open_alerts, token=token)


AdminDep = Annotated[AdminSession, Depends(current_admin)]


def require_admin_form(admin: AdminDep, csrf_token: Annotated[str, Form()] = "") -> AdminSession:
    check_csrf(admin.csrf, csrf_token)
    return admin


AdminFormDep = Annotated[AdminSession, Depends(require_admin_form)]


def new_login_csrf() -> str:
    """Double-submit token for the login form (there is no session yet to hold one)."""
    return secrets.token_urlsafe(24)


def set_login_csrf(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path=url("/admin"), httponly=True,
                        samesite="strict", secure=_secure(settings))


def check_login_csrf(request: Request, given: str) -> None:
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), given)


def client_actor(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    return f"admin@{host}"
