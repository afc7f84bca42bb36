"""Admin: Stripe webhook events (filter, payload, attempts, errors), dead letters with replay, alerts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from coinslot.access import audit
from coinslot.alerts import service as alerts
from coinslot.deps import ContainerDep, RowId
from coinslot.models.webhook_event import EVENT_STATUSES
from coinslot.web.admin_views import admin_page, event_search
from coinslot.web.auth import AdminDep, AdminFormDep
from coinslot.web.pages import PageRoute, redirect, render
from coinslot.web.paging import BeforeId
from coinslot.web.present import pretty_json
from coinslot.webhooks import service as events
from coinslot.webhooks import worker

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/admin/events")
def events_page(
    admin: AdminDep,
    container: ContainerDep,
    status: Annotated[str, Query(max_length=20)] = "",
    type: Annotated[str, Query(max_length=100)] = "",
    before: BeforeId = None,
) -> HTMLResponse:
    with container.db.unit_of_work(read_only=True) as session:
        page = event_search(session, status=status, type_=type, before=before)
        counts = events.counts(session)
    current = "/admin/events?status=dead" if status == "dead" else "/admin/events"
    return render("admin/events.html", {
        **admin_page(admin, current), "page": page, "counts": counts,
        "statuses": EVENT_STATUSES, "status": status, "type": type,
    })


@router.get("/admin/events/{event_ref}")
def event_page(event_ref: str, admin: AdminDep, container: ContainerDep,
               done: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    with container.db.unit_of_work(read_only=True) as session:
        detail = events.get_event(session, event_ref=event_ref)
        row, attempts = detail.event, detail.attempts
    return render("admin/event.html", {
        **admin_page(admin, "/admin/events"), "e": row,
        "attempts": attempts, "payload": pretty_json(row.payload), "done": done,
    })


@router.post("/admin/events/{event_ref}/replay")
def replay(event_ref: str, admin: AdminFormDep, container: ContainerDep) -> Response:
    """Make a dead (or failed) event due again now; the worker picks it up on its next round."""
    row = worker.replay(container, event_ref=event_ref)
    with container.db.unit_of_work() as session:
        audit.record(session, actor=admin.actor, action="replay_event", target=f"event:{row.stripe_event_id}",
                     detail=f"{row.type} made due again", now=container.clock.now())
    return redirect(f"/admin/events/{row.id}?done=replayed")


AlertFilter = Literal["", "open", "acknowledged"]


def _alerts_path(state: AlertFilter, **query: str) -> str:
    params = "&".join(f"{key}={value}" for key, value in {"state": state, **query}.items() if value)
    return "/admin/alerts" + (f"?{params}" if params else "")


@router.get("/admin/alerts")
def alerts_page(admin: AdminDep, container: ContainerDep, state: Annotated[AlertFilter, Query()] = "",
                done: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    with container.db.unit_of_work(read_only=True) as session:
        rows = alerts.list_alerts(session, state=state or None, limit=200)
    return render("admin/alerts.html", {
        **admin_page(admin, "/admin/alerts"), "rows": rows, "state": state, "done": done,
    })


@router.post("/admin/alerts/{alert_id}/acknowledge")
def acknowledge_alert(alert_id: RowId, admin: AdminFormDep, container: ContainerDep,
                      state: Annotated[AlertFilter, Form()] = "") -> Response:
    """Mark an alert as seen (again: no change); back to the list with the same filter."""
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        alert = alerts.acknowledge(session, alert_id=alert_id, actor=admin.actor, now=now)
        audit.record(session, actor=admin.actor, action="acknowledge_alert", target=f"alert:{alert.id}",
                     detail=f"{alert.code}: {alert.message}"[:500], now=now)
    return redirect(_alerts_path(state, done="acknowledged"))
