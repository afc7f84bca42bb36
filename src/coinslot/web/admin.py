"""The operator's console: login, figures, customers (subscription, ledger, orders), credit adjustments.

One operator password (`COINSLOT_ADMIN_PASSWORD`); every action, failed logins
included, is written to the `admin_audit` table in the action's own transaction.
Webhook events, dead letters and alerts live in `admin_events.py`.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from coinslot.access import admin_sessions, audit
from coinslot.access.admin_sessions import LOGIN_ATTEMPTS_ALLOWED, LOGIN_WINDOW
from coinslot.analytics import service as analytics
from coinslot.catalog import service as catalog_service
from coinslot.container import Container
from coinslot.customers import service as customers
from coinslot.deps import ContainerDep, RowId
from coinslot.errors import InvalidInput, NotFound
from coinslot.ledger import service as ledger
from coinslot.limits import CREDITS_MAX
from coinslot.web.admin_retention import month_under_way, retention_by_currency, retention_csv
from coinslot.web.admin_views import admin_page, customer_detail, customer_search, figures_csv
from coinslot.web.admin_views import pulse as admin_pulse
from coinslot.web.auth import (
    ADMIN_COOKIE,
    AdminDep,
    AdminFormDep,
    admin_password_matches,
    check_login_csrf,
    client_actor,
    new_login_csrf,
    password_tag,
    set_admin_cookie,
    set_login_csrf,
)
from coinslot.web.pages import PageRoute, redirect, render, url
from coinslot.web.paging import BeforeId

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _login_page(container: Container, *, failed: bool = False, throttled: bool = False) -> HTMLResponse:
    token = new_login_csrf()
    response = render("admin/login.html", {
        "admin": True, "failed": failed, "throttled": throttled, "csrf_token": token,
        "configured": container.settings.admin_password is not None,
        "window_minutes": int(LOGIN_WINDOW.total_seconds() // 60),
    }, status_code=429 if throttled else 200)
    if throttled:
        response.headers["Retry-After"] = str(int(LOGIN_WINDOW.total_seconds()))
    set_login_csrf(response, container.settings, token)
    return response


@router.get("/admin/login")
def login_page(container: ContainerDep, failed: Annotated[bool, Query()] = False) -> HTMLResponse:
    return _login_page(container, failed=failed)


@router.post("/admin/login")
def login(request: Request, container: ContainerDep, password: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "") -> Response:
    """Sign the operator in. The attempt is counted (atomically, see admin_sessions.py) before the password
    is compared, so at most LOGIN_ATTEMPTS_ALLOWED passwords per address and window are ever compared."""
    check_login_csrf(request, csrf_token)
    actor = client_actor(request)
    now = container.clock.now()
    opened = None
    with container.db.unit_of_work() as session:
        attempt = admin_sessions.take_attempt(session, actor=actor, now=now)
        throttled = attempt > LOGIN_ATTEMPTS_ALLOWED
        ok = not throttled and admin_password_matches(container.settings, password)
        action = "login_throttled" if throttled else "login" if ok else "login_failed"
        audit.record(session, actor=actor, action=action, target=None, detail="", now=now)
        if ok:
            admin_sessions.forget_attempts(session, actor=actor)
            opened = admin_sessions.open_session(
                session, actor=actor, password_tag=password_tag(container.settings), now=now)
    if throttled:
        return _login_page(container, throttled=True)
    if opened is None:
        return redirect("/admin/login?failed=true")
    response = redirect("/admin")
    set_admin_cookie(response, container.settings, opened.token)
    return response


@router.post("/admin/logout")
def logout(admin: AdminFormDep, container: ContainerDep) -> Response:
    """End this session on the server: the cookie, saved anywhere, opens nothing any more."""
    with container.db.unit_of_work() as session:
        admin_sessions.end_session(session, token=admin.token)
        audit.record(session, actor=admin.actor, action="logout", target=None, detail="",
                     now=container.clock.now())
    response = redirect("/admin/login")
    response.delete_cookie(ADMIN_COOKIE, path=url("/admin"))
    return response


@router.get("/admin")
def dashboard(admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    catalog = catalog_service.get_catalog(container.settings)
    now = container.clock.now()
    with container.db.unit_of_work(read_only=True) as session:
        figures = analytics.figures(session, catalog=catalog, now=now)
        retention = analytics.retention(session, now=now)
        pulse = admin_pulse(session)
    return render("admin/dashboard.html", {
        **admin_page(admin, "/admin"), "brand": catalog.name,
        "figures": figures, "pulse": pulse, "catalog": catalog,
        "retention": retention, "retention_by_currency": retention_by_currency(retention),
        "month_under_way": month_under_way(now),
    })


@router.get("/admin/figures.csv")
def figures_export(admin: AdminDep, container: ContainerDep) -> Response:
    """The overview's revenue figures (MRR per currency and per plan, subscribers, churn) as a CSV file."""
    catalog = catalog_service.get_catalog(container.settings)
    now = container.clock.now()
    with container.db.unit_of_work(read_only=True) as session:
        figures = analytics.figures(session, catalog=catalog, now=now)
    filename = f"coinslot-figures-{now:%Y-%m-%d}.csv"
    return Response(figures_csv(figures), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/admin/retention.csv")
def retention_export(admin: AdminDep, container: ContainerDep) -> Response:
    """MRR per month and currency since the history began: start, new, expansion, contraction, churned,
    end, net revenue retention (a file of its own: figures.csv keeps its columns)."""
    now = container.clock.now()
    with container.db.unit_of_work(read_only=True) as session:
        retention = analytics.retention(session, now=now, months=None)
    filename = f"coinslot-retention-{now:%Y-%m-%d}.csv"
    return Response(retention_csv(retention), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/admin/customers")
def customers_page(admin: AdminDep, container: ContainerDep,
                   q: Annotated[str, Query(max_length=255)] = "", before: BeforeId = None) -> HTMLResponse:
    with container.db.unit_of_work(read_only=True) as session:
        page = customer_search(session, query=q, before=before)
    return render("admin/customers.html", {
        **admin_page(admin, "/admin/customers"), "q": q, "page": page,
    })


@router.get("/admin/customers/{customer_id}")
def customer_page(customer_id: RowId, admin: AdminDep, container: ContainerDep,
                  done: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    catalog = catalog_service.get_catalog(container.settings)
    with container.db.unit_of_work(read_only=True) as session:
        detail = customer_detail(session, customer_id=customer_id, catalog=catalog, now=container.clock.now(),
                                 grace_days=container.settings.past_due_grace_days)
    return render("admin/customer.html", {
        **admin_page(admin, "/admin/customers"), "d": detail,
        "catalog": catalog, "done": done, "adjustment_id": secrets.token_hex(16),
    })


@router.post("/admin/customers/{customer_id}/credits")
def adjust_credits(
    customer_id: RowId,
    admin: AdminFormDep,
    container: ContainerDep,
    credits: Annotated[int, Form(ge=-CREDITS_MAX, le=CREDITS_MAX)],
    reason: Annotated[str, Form(max_length=500)] = "",
    adjustment_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Add (positive) or remove (negative) credits; a reason is required and kept on the entry."""
    if not reason.strip():
        raise InvalidInput("Say why: an adjustment needs a reason (it is kept on the ledger entry).",
                           field="reason")
    if credits == 0:
        raise InvalidInput("Enter a number of credits other than 0.", field="credits")
    if not adjustment_id:
        raise InvalidInput("This form has expired. Reload the page and try again.", field="adjustment_id")
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        # Looked up first: the ledger would otherwise meet the missing customer as a foreign-key error (500).
        if customers.get_by_id(session, customer_id=customer_id) is None:
            raise NotFound(f"no customer {customer_id}")
        # The form's one-time id keys the entry: a double submit adjusts once.
        ledger.adjust(session, customer_id=customer_id, entry_id=f"admin:{adjustment_id}", credits=credits,
                      reason=reason.strip(), now=now)
        audit.record(session, actor=admin.actor, action="adjust_credits", target=f"customer:{customer_id}",
                     detail=f"{credits:+d} credits: {reason.strip()}", now=now)
    return redirect(f"/admin/customers/{customer_id}?done=adjusted")


@router.get("/admin/audit")
def audit_page(admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    with container.db.unit_of_work(read_only=True) as session:
        rows = audit.recent(session, limit=200)
    return render("admin/audit.html", {
        **admin_page(admin, "/admin/audit"), "rows": rows,
    })
