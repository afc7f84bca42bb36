"""The billing page's auto top-up: turn it on (the consent box, then Stripe's page to save a card), turn
it off, and, after a failed top-up, confirm the card again (a card that needs authentication passes its
3D Secure on that page, and later off-session top-ups go through)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from coinslot.deps import ContainerDep
from coinslot.errors import StripeUnavailable
from coinslot.stripe_ids import checked_stripe_id
from coinslot.topups import flows
from coinslot.web.auth import CustomerDep, CustomerFormDep
from coinslot.web.pages import PageRoute, redirect, url

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/billing/auto_topup")
def turn_on(customer: CustomerFormDep, container: ContainerDep,
            consent: Annotated[str | None, Form(max_length=10)] = None,
            pack: Annotated[str | None, Form(max_length=100)] = None) -> Response:
    """The consent box must be ticked: without it nothing is stored and the page says why."""
    if consent != "yes":
        return redirect("/billing?toast=auto_topup_consent")
    base = container.settings.public_url.rstrip("/")
    # The flow adds the session id's template, which Stripe fills in; the return applies the card at once.
    success_url = base + url("/billing/auto_topup/return")
    cancel_url = base + url("/billing") + "?toast=canceled"
    started = flows.start_setup(container, host_user_id=customer.host_user_id, pack_key=pack, consent=True,
                                success_url=success_url, cancel_url=cancel_url)
    return redirect(started.url)


@router.post("/billing/auto_topup/off")
def turn_off(customer: CustomerFormDep, container: ContainerDep) -> Response:
    flows.turn_off(container, host_user_id=customer.host_user_id)
    return redirect("/billing?toast=auto_topup_off")


@router.get("/billing/auto_topup/return")
def back_from_setup(customer: CustomerDep, container: ContainerDep,
                    session_id: Annotated[str, Query(max_length=255)]) -> Response:
    """Back from Stripe's setup page: the saved card applied now (else its webhook does it shortly)."""
    checked_stripe_id(session_id, "cs", field="session_id")  # from a URL: refused before any Stripe call
    try:
        saved = flows.complete_return(container, session_id=session_id, host_user_id=customer.host_user_id)
    except StripeUnavailable:
        saved = False
    return redirect("/billing?toast=" + ("auto_topup_on" if saved else "pending"))
