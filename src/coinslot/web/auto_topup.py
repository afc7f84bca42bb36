"""The billing page's auto top-up: turn it on (the consent box, then Stripe's page to save a card), turn
it off, and, after a failed top-up, confirm the card again (a card that needs authentication passes its
3D Secure on that page, and later off-session top-ups go through)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from coinslot.deps import ContainerDep
from coinslot.topups import flows
from coinslot.web.auth import CustomerFormDep
from coinslot.web.billing import return_urls
from coinslot.web.pages import PageRoute, redirect

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/billing/auto_topup")
def turn_on(customer: CustomerFormDep, container: ContainerDep,
            consent: Annotated[str | None, Form(max_length=10)] = None,
            pack: Annotated[str | None, Form(max_length=100)] = None) -> Response:
    """The consent box must be ticked: without it nothing is stored and the page says why."""
    if consent != "yes":
        return redirect("/billing?toast=auto_topup_consent")
    success_url, cancel_url = return_urls(container, "billing")
    started = flows.start_setup(container, host_user_id=customer.host_user_id, pack_key=pack, consent=True,
                                success_url=success_url, cancel_url=cancel_url)
    return redirect(started.url)


@router.post("/billing/auto_topup/off")
def turn_off(customer: CustomerFormDep, container: ContainerDep) -> Response:
    flows.turn_off(container, host_user_id=customer.host_user_id)
    return redirect("/billing?toast=auto_topup_off")
