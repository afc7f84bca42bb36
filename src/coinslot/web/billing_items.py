"""The billing page's seats and add-ons: change the seats of a per-seat plan, add or remove an add-on.

Each change has a confirmation step showing Stripe's proration preview (what is charged now, or credited),
like the plan switch (billing.py); confirming passes the preview's moment back, so the charge is the one
shown. The customer comes from the session (whoever the host app gave a billing link to manages the
subscription: the host decides who is an admin of the customer); nothing in a form names another customer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from coinslot.catalog import service as catalog_service
from coinslot.container import Container
from coinslot.deps import ContainerDep
from coinslot.subscriptions import addon_flows
from coinslot.subscriptions import flows as subscription_flows
from coinslot.web.auth import CustomerDep, CustomerFormDep
from coinslot.web.billing_view import load_billing
from coinslot.web.pages import PageRoute, redirect, render
from coinslot.web.present import customer_nav

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_SEATS_MAX = 100_000  # the catalog's own bound (catalog/parse_addons.py); the plan's is checked by the flow
Action = Literal["add", "remove"]


def _confirmation(customer: CustomerDep, container: Container, context: dict[str, object]) -> HTMLResponse:
    catalog = catalog_service.get_catalog(container.settings)
    view = load_billing(container, host_user_id=customer.host_user_id, catalog=catalog)
    return render("items_change.html", {
        "brand": catalog.name, "nav": customer_nav("/billing", catalog), "back_url": customer.return_url,
        "csrf_token": customer.csrf, "signed_in": customer.display_name, "v": view, "catalog": catalog,
        **context,
    })


@router.get("/billing/seats")
def seats_confirmation(customer: CustomerDep, container: ContainerDep,
                       seats: Annotated[int, Query(ge=1, le=_SEATS_MAX)]) -> HTMLResponse:
    """What the new seat count costs now (or credits), before anything changes."""
    preview = addon_flows.preview_seats(container, host_user_id=customer.host_user_id, seats=seats)
    return _confirmation(customer, container, {"preview": preview, "seats": seats, "addon": None,
                                               "action": None})


@router.post("/billing/subscription/seats")
def change_seats(customer: CustomerFormDep, container: ContainerDep,
                 seats: Annotated[int, Form(ge=1, le=_SEATS_MAX)],
                 proration_date: Annotated[int | None, Form()] = None) -> Response:
    moment = subscription_flows.checked_proration_date(container, proration_date)
    addon_flows.change_seats(container, host_user_id=customer.host_user_id, seats=seats,
                             proration_date=moment)
    return redirect("/billing?toast=seats_changed")


@router.get("/billing/addons/{addon}")
def addon_confirmation(addon: str, customer: CustomerDep, container: ContainerDep,
                       action: Annotated[Action, Query()] = "add") -> HTMLResponse:
    """What adding (or removing) the add-on charges now (or credits), before anything changes."""
    preview = addon_flows.preview_addon(container, host_user_id=customer.host_user_id, addon_key=addon,
                                        add=action == "add")
    return _confirmation(customer, container, {"preview": preview, "seats": None, "addon": addon,
                                               "action": action})


@router.post("/billing/subscription/addons")
def change_addon(customer: CustomerFormDep, container: ContainerDep,
                 addon: Annotated[str, Form(min_length=1, max_length=100)],
                 action: Annotated[Action, Form()] = "add",
                 proration_date: Annotated[int | None, Form()] = None) -> Response:
    if action == "remove":
        addon_flows.remove_addon(container, host_user_id=customer.host_user_id, addon_key=addon)
        return redirect("/billing?toast=addon_removed")
    moment = subscription_flows.checked_proration_date(container, proration_date)
    addon_flows.add_addon(container, host_user_id=customer.host_user_id, addon_key=addon,
                          proration_date=moment)
    return redirect("/billing?toast=addon_added")
