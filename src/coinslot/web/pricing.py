"""The pricing table: the catalog's plans, monthly or yearly, the current one marked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog, Plan
from coinslot.deps import ContainerDep
from coinslot.subscriptions import service as subscriptions
from coinslot.subscriptions.core import PlanAccess
from coinslot.web.auth import CustomerDep
from coinslot.web.pages import PageRoute, render
from coinslot.web.present import customer_nav, toast_for, yearly_saving

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Action = Literal["current", "free", "subscribe", "switch"]


@dataclass(frozen=True, slots=True)
class PlanCard:
    plan: Plan
    action: Action
    saving_minor: int | None
    saving_percent: int | None


def plan_cards(catalog: Catalog, access: PlanAccess) -> list[PlanCard]:
    # A customer with a live paid subscription switches plans; everyone else subscribes.
    has_paid_plan = access.plan_key != catalog.default_plan and access.subscription_id is not None
    cards = []
    for plan in catalog.plans.values():
        action: Action
        if plan.key == access.plan_key:
            action = "current"
        elif plan.kind == "free":
            action = "free"
        else:
            action = "switch" if has_paid_plan else "subscribe"
        saving = yearly_saving(plan)
        cards.append(PlanCard(plan, action, saving[0] if saving else None, saving[1] if saving else None))
    return cards


def grace_period(days: int) -> dt.timedelta:
    return dt.timedelta(days=days)


@router.get("/billing/pricing")
def pricing_page(
    customer: CustomerDep,
    container: ContainerDep,
    interval: Annotated[Literal["month", "year"] | None, Query()] = None,
    toast: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    catalog = catalog_service.get_catalog(container.settings)
    with container.db.unit_of_work(read_only=True) as session:
        access = subscriptions.plan_access_for(
            session, customer_id=customer.customer_id, catalog=catalog, now=container.clock.now(),
            grace=grace_period(container.settings.past_due_grace_days),
        )
    has_monthly = any("month" in plan.prices for plan in catalog.plans.values())
    has_yearly = any("year" in plan.prices for plan in catalog.plans.values())
    chosen = interval or ("month" if has_monthly else "year")
    best_saving = max((saving[1] for plan in catalog.plans.values() if (saving := yearly_saving(plan))),
                      default=None)
    return render("pricing.html", {
        "brand": catalog.name,
        "nav": customer_nav("/billing/pricing", catalog),
        "back_url": customer.return_url,
        "csrf_token": customer.csrf, "signed_in": customer.host_user_id,
        "toast": toast_for(toast),
        "catalog": catalog,
        "cards": plan_cards(catalog, access),
        "access": access,
        "interval": chosen,
        "show_toggle": has_monthly and has_yearly,
        "best_saving_percent": best_saving,
        "has_packs": bool(catalog.packs),
    })
