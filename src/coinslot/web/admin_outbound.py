"""Admin: the webhooks coinslot sends to the host app (the outbox): list, payload, replay of dead ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from coinslot.access import audit
from coinslot.deps import ContainerDep
from coinslot.models.outbox import OUTBOX_STATUSES
from coinslot.outbound import service as outbound
from coinslot.web.admin_views import admin_page, message_search
from coinslot.web.auth import AdminDep, AdminFormDep
from coinslot.web.pages import PageRoute, redirect, render
from coinslot.web.paging import BeforeId
from coinslot.web.present import pretty_json

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# A message in a path: its local id or its webhook id (msg_<32 hex>).
MessageRef = Annotated[str, Path(max_length=64)]


@router.get("/admin/outbound")
def outbound_page(
    admin: AdminDep,
    container: ContainerDep,
    status: Annotated[str, Query(max_length=20)] = "",
    type: Annotated[str, Query(max_length=100)] = "",
    before: BeforeId = None,
) -> HTMLResponse:
    with container.db.unit_of_work(read_only=True) as session:
        page = message_search(session, status=status, type_=type, before=before)
        counts = outbound.counts(session)
    return render("admin/outbound.html", {
        **admin_page(admin, "/admin/outbound"), "page": page, "counts": counts,
        "statuses": OUTBOX_STATUSES, "status": status, "type": type,
        "configured": bool(container.settings.host_webhook_url),
    })


@router.get("/admin/outbound/{message_ref}")
def message_page(message_ref: MessageRef, admin: AdminDep, container: ContainerDep,
                 done: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    with container.db.unit_of_work(read_only=True) as session:
        row = outbound.get_message(session, message_ref=message_ref)
    return render("admin/outbound_message.html", {
        **admin_page(admin, "/admin/outbound"), "m": row, "payload": pretty_json(row.payload), "done": done,
    })


@router.post("/admin/outbound/{message_ref}/replay")
def replay(message_ref: MessageRef, admin: AdminFormDep, container: ContainerDep) -> Response:
    """Make a dead message due again now (fresh attempts, same webhook-id); the sender picks it up."""
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        found = outbound.get_message(session, message_ref=message_ref)
        row = outbound.replay(session, message_ref=found.id, now=now)
        audit.record(session, actor=admin.actor, action="replay_outbound",
                     target=f"outbound:{row.webhook_id}", detail=f"{row.event_type} made due again", now=now)
    return redirect(f"/admin/outbound/{row.id}?done=replayed")
