"""The customer's billing page and its actions: checkout and the return from it, cancel (with a
confirmation step), resume, change plan (with a confirmation step showing Stripe's proration preview),
the Stripe portal and the return from it, resuming a draft order.

Every action is a plain form POST answered by a 303 to a page (POST-redirect-GET).
The customer always comes from the session cookie and each flow is called with the
session's host user id, so nothing in a form can point at another customer's billing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from coinslot.catalog import service as catalog_service
from coinslot.checkout import flows as checkout_flows
from coinslot.checkout.core import ItemRequest
from coinslot.container import Container
from coinslot.deps import ContainerDep
from coinslot.errors import StripeUnavailable
from coinslot.stripe_ids import checked_stripe_id
from coinslot.subscriptions import flows as subscription_flows
from coinslot.topups import flows as topup_flows
from coinslot.web.auth import CustomerDep, CustomerFormDep
from coinslot.web.billing_view import load_billing
from coinslot.web.pages import PageRoute, redirect, render, url
from coinslot.web.present import customer_nav, toast_for

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Back = Literal["billing", "pricing", "credits"]
_BACK_PATHS = {"billing": "/billing", "pricing": "/billing/pricing", "credits": "/billing/credits"}


def _page_url(container: Container, path: str) -> str:
    """The absolute address of a page, for Stripe to send the browser back to."""
    return container.settings.public_url.rstrip("/") + url(path)


def return_urls(container: Container, back: Back) -> tuple[str, str]:
    """Success and cancel URLs of a Checkout started from a page (checkout adds status and session id)."""
    url = _page_url(container, f"/billing/return?back={back}")
    return url, url


@router.get("/billing")
def billing_page(customer: CustomerDep, container: ContainerDep,
                 toast: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    catalog = catalog_service.get_catalog(container.settings)
    view = load_billing(container, host_user_id=customer.host_user_id, catalog=catalog)
    return render("billing.html", {
        "brand": catalog.name, "nav": customer_nav("/billing", catalog), "back_url": customer.return_url,
        "csrf_token": customer.csrf, "signed_in": customer.display_name, "toast": toast_for(toast), "v": view,
        "catalog": catalog,
        "now": container.clock.now(),
        "auto_topup": topup_flows.view_of(container, host_user_id=customer.host_user_id),
    })


@router.post("/billing/checkout")
def start_plan_checkout(
    customer: CustomerFormDep,
    container: ContainerDep,
    plan: Annotated[str, Form(max_length=100)],
    interval: Annotated[Literal["month", "year"], Form()] = "month",
    seats: Annotated[int, Form(ge=1, le=1_000_000)] = 1,  # a per-seat plan's (checked against its bounds)
) -> Response:
    success_url, cancel_url = return_urls(container, "pricing")
    started = checkout_flows.start_checkout(
        container, host_user_id=customer.host_user_id,
        item=ItemRequest(plan=plan, interval=interval, quantity=seats),
        success_url=success_url, cancel_url=cancel_url,
    )
    return redirect(started.url)


@router.get("/billing/return")
def checkout_return(
    customer: CustomerDep,
    container: ContainerDep,
    back: Annotated[Back, Query()] = "billing",
    checkout_status: Annotated[Literal["success", "cancel"], Query()] = "cancel",
    session_id: Annotated[str | None, Query(max_length=255)] = None,
) -> Response:
    """Back from Checkout. On success the session is applied now (the webhook will find it done), so the
    purchase shows on the next page at once; the toast names what happened."""
    if checkout_status != "success" or not session_id:
        return redirect(f"{_BACK_PATHS[back]}?toast=canceled")
    checked_stripe_id(session_id, "cs", field="session_id")  # from a URL: refused before any Stripe call
    try:
        checkout, result = checkout_flows.fulfil_return(container, session_id=session_id,
                                                        host_user_id=customer.host_user_id)
    except StripeUnavailable:
        return redirect("/billing?toast=pending")
    if checkout.payment_status not in ("paid", "no_payment_required"):
        toast = "pending"
    elif checkout.mode == "subscription":
        toast = "subscribed"
    elif result.order_id:
        toast = "paid"
    else:
        toast = "credits"
    return redirect(f"/billing?toast={toast}")


@router.get("/billing/cancel")
def cancel_confirmation(customer: CustomerDep, container: ContainerDep) -> HTMLResponse:
    """The confirmation step: what cancelling means, before anything changes."""
    catalog = catalog_service.get_catalog(container.settings)
    view = load_billing(container, host_user_id=customer.host_user_id, catalog=catalog)
    return render("cancel.html", {
        "brand": catalog.name, "nav": customer_nav("/billing", catalog), "back_url": customer.return_url,
        "csrf_token": customer.csrf, "signed_in": customer.display_name, "v": view, "catalog": catalog,
    })


@router.post("/billing/subscription/cancel")
def cancel(customer: CustomerFormDep, container: ContainerDep) -> Response:
    subscription_flows.cancel_at_period_end(container, host_user_id=customer.host_user_id)
    return redirect("/billing?toast=cancel_scheduled")


@router.post("/billing/subscription/resume")
def resume(customer: CustomerFormDep, container: ContainerDep) -> Response:
    subscription_flows.resume(container, host_user_id=customer.host_user_id)
    return redirect("/billing?toast=resumed")


@router.get("/billing/change")
def change_confirmation(
    customer: CustomerDep,
    container: ContainerDep,
    plan: Annotated[str, Query(max_length=100)],
    interval: Annotated[Literal["month", "year"], Query()] = "month",
) -> HTMLResponse:
    """The confirmation step of a plan switch: what is charged now (Stripe's proration preview), what
    changes and when. Nothing changes until the customer confirms."""
    catalog = catalog_service.get_catalog(container.settings)
    preview = subscription_flows.preview_change(container, host_user_id=customer.host_user_id, plan_key=plan,
                                                interval=interval)
    view = load_billing(container, host_user_id=customer.host_user_id, catalog=catalog)
    return render("change.html", {
        "brand": catalog.name, "nav": customer_nav("/billing/pricing", catalog),
        "back_url": customer.return_url, "csrf_token": customer.csrf, "signed_in": customer.display_name,
        "v": view, "catalog": catalog, "preview": preview, "target": catalog.plans[preview.plan_key],
    })


@router.post("/billing/subscription/change")
def change_plan(
    customer: CustomerFormDep,
    container: ContainerDep,
    plan: Annotated[str, Form(max_length=100)],
    interval: Annotated[Literal["month", "year"], Form()] = "month",
    proration_date: Annotated[int | None, Form()] = None,
) -> Response:
    """The confirmed switch: charged as the preview showed (its proration moment), then applied at once, so
    the next page shows the new plan and its credits."""
    changed = subscription_flows.change_plan(
        container, host_user_id=customer.host_user_id, plan_key=plan, interval=interval,
        proration_date_s=subscription_flows.checked_proration_date(container, proration_date),
    )
    return redirect("/billing?toast=" + ("change_scheduled" if changed.pending_plan_key else "changed"))


@router.post("/billing/portal")
def portal(customer: CustomerFormDep, container: ContainerDep) -> Response:
    session = subscription_flows.open_portal(container, host_user_id=customer.host_user_id,
                                             return_url=_page_url(container, "/billing/refresh"))
    return redirect(session.url)


@router.get("/billing/refresh")
def back_from_portal(customer: CustomerDep, container: ContainerDep) -> Response:
    """Back from Stripe's portal: mirror what the customer changed there now (a renewal resumed, a plan
    switched), so the page shows Stripe's state rather than the one before the webhooks arrive."""
    try:
        subscription_flows.refresh(container, host_user_id=customer.host_user_id)
    except StripeUnavailable:
        return redirect("/billing?toast=updating")
    return redirect("/billing")


@router.post("/billing/orders/{order_id}/resume")
def resume_order(order_id: str, customer: CustomerFormDep, container: ContainerDep) -> Response:
    """Pay a DRAFT order again after an abandoned or expired Checkout; someone else's order is not found."""
    success_url, cancel_url = return_urls(container, "billing")
    started = checkout_flows.start_order_checkout(container, order_id=order_id, success_url=success_url,
                                                  cancel_url=cancel_url, host_user_id=customer.host_user_id)
    return redirect(started.url)
