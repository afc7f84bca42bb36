"""How a host sends a user to their billing: `POST /v1/links`, then the browser opens the link.

    POST /v1/links {"host_user_id": "u_42", "page": "billing", "return_url": "https://app.example/settings"}
      -> {"url": "https://billing.example/billing/enter?token=...", "expires_at": "..."}
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from coinslot.access.links import use_once
from coinslot.api_contract import errors
from coinslot.customers import service as customers
from coinslot.deps import ContainerDep, rate_limit, require_scope
from coinslot.web.auth import (
    PAGE_PATHS,
    Page,
    checked_return_url,
    issue_customer_session,
    make_link_token,
    read_link_token,
)
from coinslot.web.pages import PageRoute, mount_path, redirect

__all__ = ["router"]

router = APIRouter(tags=["links"])
pages = APIRouter(route_class=PageRoute, include_in_schema=False)


class LinkRequest(BaseModel):
    """Whose billing pages to open, on which page, and where "Back to the app" leads."""

    host_user_id: str = Field(min_length=1, max_length=255, description="your app's id for the user")
    email: str | None = Field(default=None, max_length=320, description="the user's email (kept if first)")
    name: str | None = Field(default=None, max_length=255,
                             description="the user's display name, shown on the pages (\"Signed in as\")")
    page: Page = Field(default="billing", description="the page the link opens: billing, pricing or credits")
    return_url: str | None = Field(default=None,
                                   description="where 'Back to the app' leads; an allowed origin")


class LinkAnswer(BaseModel):
    """A link to send the user's browser to (once)."""

    url: str = Field(description="single use; redirect the user's browser here")
    expires_at: dt.datetime = Field(description="unused after this, the link is refused")


@router.post("/v1/links", dependencies=[Depends(require_scope("links"))], operation_id="createLink",
             summary="A signed link to a user's billing pages", responses=errors())
def create_link(body: LinkRequest, request: Request, container: ContainerDep) -> LinkAnswer:
    """A short-lived signed link that opens the user's billing pages in a browser session scoped to them."""
    settings = container.settings
    return_url = checked_return_url(settings, body.return_url)
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        customers.ensure_customer(session, host_user_id=body.host_user_id, email=body.email, name=body.name,
                                  now=now)
    token = make_link_token(settings, host_user_id=body.host_user_id, page=body.page, return_url=return_url,
                            name=body.name)
    # public_url is the origin browsers reach; the mount path is the host app's (library mode).
    url = f"{settings.public_url.rstrip('/')}{mount_path(request)}/billing/enter?token={token}"
    return LinkAnswer(url=url, expires_at=now + dt.timedelta(seconds=settings.signed_link_ttl_s))


@pages.get("/billing/enter", dependencies=[Depends(rate_limit("links"))])
def enter(container: ContainerDep, token: Annotated[str, Query(max_length=4096)] = "") -> Response:
    """Open a signed link: set the session cookie for its customer, then a clean URL without the token."""
    claims = read_link_token(container.settings, token)
    now = container.clock.now()
    with container.db.unit_of_work() as session:
        customer = customers.require(session, claims.host_user_id)
        customer_id, name = customer.id, claims.name or customer.name
        use_once(session, nonce=claims.nonce, now=now,
                 expires_at=now + dt.timedelta(seconds=container.settings.signed_link_ttl_s))
    response = redirect(PAGE_PATHS[claims.page])
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this URL: never pass it on
    issue_customer_session(response, container.settings, customer_id=customer_id,
                           host_user_id=claims.host_user_id, return_url=claims.return_url, name=name)
    return response


router.include_router(pages)
