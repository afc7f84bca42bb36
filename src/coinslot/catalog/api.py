"""HTTP routes of the catalog: `GET /v1/plans`, what is sold, for a host's pricing page or the
`<coinslot-pricing-table>` element.

Public (no API key): it holds nothing a pricing page does not show (no Stripe ids, no customer data),
and a browser may read it directly; origins in COINSLOT_ALLOWED_REDIRECT_ORIGINS may read it across
origins (CORS).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from coinslot.api_contract import errors
from coinslot.catalog import service
from coinslot.catalog.schemas import CatalogOut, catalog_out
from coinslot.deps import ContainerDep, rate_limit

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.get("/plans", response_model=CatalogOut, operation_id="listPlans", summary="What is sold",
            dependencies=[Depends(rate_limit("public"))], responses=errors(429, public=True))
def list_plans(container: ContainerDep, request: Request, response: Response) -> CatalogOut:
    """The catalog's plans with their prices (and display amounts), features, credit packs and products."""
    response.headers["Cache-Control"] = "public, max-age=60"
    origin = request.headers.get("origin")
    # A simple GET needs no preflight: allowing the host's own origins is all a pricing element needs.
    if origin and origin in container.settings.redirect_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return catalog_out(service.get_catalog(container.settings))
