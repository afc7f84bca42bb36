"""Buy credits: choose a quantity, see the total (with the minimum), go to Checkout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response

from coinslot.catalog import service as catalog_service
from coinslot.catalog.core import Catalog, CreditPack
from coinslot.checkout import flows as checkout_flows
from coinslot.checkout.core import ItemRequest
from coinslot.deps import ContainerDep
from coinslot.errors import InvalidInput
from coinslot.web.auth import CustomerDep, CustomerFormDep, CustomerSession
from coinslot.web.billing import return_urls
from coinslot.web.pages import PageRoute, redirect, render
from coinslot.web.present import currency_symbol, customer_nav, exponent, minimum_quantity, toast_for

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_QUANTITY = 100_000


@dataclass(frozen=True, slots=True)
class PackOffer:
    pack: CreditPack
    unit_amount_minor: int  # one credit (per_credit) or one bundle (fixed)
    min_quantity: int
    default_quantity: int
    symbol: str
    exponent: int


def offers(catalog: Catalog) -> list[PackOffer]:
    result = []
    for pack in catalog.packs.values():
        if pack.kind == "per_credit":
            unit = pack.unit_amount_minor or 0
            least = minimum_quantity(unit_amount_minor=unit, minimum_amount_minor=pack.minimum_amount_minor)
        else:
            unit, least = pack.amount_minor or 0, 1
        result.append(PackOffer(pack, unit, least, least, currency_symbol(pack.currency),
                                exponent(pack.currency)))
    return result


def _render(customer: CustomerSession, catalog: Catalog, *, toast: str | None = None,
            error: str | None = None, error_pack: str | None = None,
            quantity: int | None = None) -> HTMLResponse:
    return render("credits.html", {
        "brand": catalog.name, "nav": customer_nav("/billing/credits", catalog),
        "back_url": customer.return_url,
        "csrf_token": customer.csrf, "signed_in": customer.display_name, "toast": toast_for(toast),
        "offers": offers(catalog), "catalog": catalog,
        "error": error, "error_pack": error_pack, "quantity": quantity, "max_quantity": MAX_QUANTITY,
    }, status_code=422 if error else 200)


@router.get("/billing/credits")
def credits_page(customer: CustomerDep, container: ContainerDep,
                 toast: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    return _render(customer, catalog_service.get_catalog(container.settings), toast=toast)


@router.post("/billing/credits", response_model=None)
def buy_credits(
    customer: CustomerFormDep,
    container: ContainerDep,
    pack: Annotated[str, Form(max_length=100)],
    quantity: Annotated[int, Form()],
) -> Response:
    """Checkout for `quantity` credits (or bundles). Below the minimum, the page comes back with the reason:
    the minimum is checked here on the server, whatever the browser sent."""
    catalog = catalog_service.get_catalog(container.settings)
    if not 1 <= quantity <= MAX_QUANTITY:
        return _render(customer, catalog, error=f"Choose between 1 and {MAX_QUANTITY:,}.", error_pack=pack,
                       quantity=quantity)
    success_url, cancel_url = return_urls(container, "credits")
    try:
        started = checkout_flows.start_checkout(
            container, host_user_id=customer.host_user_id, item=ItemRequest(pack=pack, quantity=quantity),
            success_url=success_url, cancel_url=cancel_url,
        )
    except InvalidInput as exc:
        return _render(customer, catalog, error=exc.message, error_pack=pack, quantity=quantity)
    return redirect(started.url)
