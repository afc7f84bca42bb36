"""Admin: auto top-up: who has it on (and who had it turned off by a failed top-up), what it charged,
what failed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from coinslot.deps import ContainerDep
from coinslot.topups import service as topups
from coinslot.web.admin_views import admin_page
from coinslot.web.auth import AdminDep
from coinslot.web.pages import PageRoute, render

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/admin/auto_topup")
def auto_topup_page(admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    with container.db.unit_of_work(read_only=True) as session:
        overview = topups.admin_overview(session)
    charged = [row for row, _host in overview.topups if row.status == "succeeded"]
    return render("admin/auto_topup.html", {
        **admin_page(admin, "/admin/auto_topup"), "o": overview,
        "enabled_count": sum(1 for setting, _host in overview.settings if setting.enabled),
        "charged_minor": {currency: sum(row.amount_minor for row in charged if row.currency == currency)
                          for currency in sorted({row.currency for row in charged})},
        "failed_count": sum(1 for row, _host in overview.topups if row.status in ("declined", "dead")),
    })
