"""The pricing table: the catalog's plans, monthly or yearly.

    /billing/pricing   a customer's (signed-link session): the current plan marked, buttons to Checkout
    /pricing           anyone's: no session, no customer read; buttons to the host's sign-up
                       (`settings.public_pricing_cta_url`), or none when that is unset
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog, Plan
from coinslot.deps import ContainerDep, rate_limit
from coinslot.subscriptions import service as subscriptions
from coinslot.subscriptions.core import PlanAccess
from coinslot.web.auth import CustomerDep
from coinslot.web.pages import PageRoute, render
from coinslot.web.present import customer_nav, toast_for, yearly_saving

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# signup: a link to the host's sign-up (public page); none: no button (public page, no sign-up URL set)
Action = Literal["current", "free", "subscribe", "switch", "signup", "none"]


@dataclass(frozen=True, slots=True)
class PlanCard:
    plan: Plan
    action: Action
    saving_minor: int | None
    saving_percent: int | None
    signup_urls: Mapping[str, str] = field(default_factory=dict)  # interval ("" for a free plan) -> URL


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


def signup_url(template: str, *, plan: str, interval: str) -> str:
    """The host's sign-up URL for one plan and interval: `{plan}` and `{interval}` filled in, URL-quoted."""
    return template.replace("{plan}", quote(plan, safe="")).replace("{interval}", quote(interval, safe=""))


def public_plan_cards(catalog: Catalog, cta_url: str | None) -> list[PlanCard]:
    """The cards of the public page: nobody's plan is current; each price links to the host's sign-up."""
    cards = []
    for plan in catalog.plans.values():
        intervals = [""] if plan.kind == "free" else sorted(plan.prices)
        urls = {iv: signup_url(cta_url, plan=plan.key, interval=iv) for iv in intervals} if cta_url else {}
        saving = yearly_saving(plan)
        cards.append(PlanCard(plan, "signup" if cta_url else "none", saving[0] if saving else None,
                              saving[1] if saving else None, urls))
    return cards


def _table(catalog: Catalog, interval: Literal["month", "year"] | None) -> dict[str, Any]:
    """What the plans table needs besides its cards: the interval shown first and the toggle."""
    has_monthly = any("month" in plan.prices for plan in catalog.plans.values())
    has_yearly = any("year" in plan.prices for plan in catalog.plans.values())
    best_saving = max((saving[1] for plan in catalog.plans.values() if (saving := yearly_saving(plan))),
                      default=None)
    return {
        "brand": catalog.name,
        "catalog": catalog,
        "interval": interval or ("month" if has_monthly else "year"),
        "show_toggle": has_monthly and has_yearly,
        "best_saving_percent": best_saving,
    }


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
    return render("pricing.html", {
        **_table(catalog, interval),
        "nav": customer_nav("/billing/pricing", catalog),
        "back_url": customer.return_url,
        "csrf_token": customer.csrf, "signed_in": customer.display_name,
        "toast": toast_for(toast),
        "cards": plan_cards(catalog, access),
        "access": access,
        "has_packs": bool(catalog.packs),
    })


@router.get("/pricing", dependencies=[Depends(rate_limit("public"))])
def public_pricing_page(
    container: ContainerDep,
    interval: Annotated[Literal["month", "year"] | None, Query()] = None,
) -> HTMLResponse:
    """The plans for anyone (a host's marketing site links here): no session is read, none is needed."""
    catalog = catalog_service.get_catalog(container.settings)
    return render("public_pricing.html", {
        **_table(catalog, interval),
        "cards": public_plan_cards(catalog, container.settings.public_pricing_cta_url),
    })
