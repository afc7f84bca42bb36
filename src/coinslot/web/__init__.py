"""The pages people see, served by coinslot itself: pricing, billing, buy credits, the admin console.

Server-rendered (Jinja2), plain HTML forms with POST-redirect-GET; `static/app.js`
only adds progress on buttons, the pricing toggle, live totals and toasts.

    /billing            the customer's billing page (session from a signed link)
    /billing/pricing    plans, monthly/yearly, to Checkout
    /billing/credits    buy credits
    /billing/enter      opens a signed link from POST /v1/links
    /pricing            the public plans table (no session), buttons to the host's sign-up
    /admin              the operator's console
    /, /docs, /redoc    what runs here, and the API reference (local assets: works offline)
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from coinslot.web.admin import router as admin_router
from coinslot.web.admin_auto_topup import router as admin_auto_topup_router
from coinslot.web.admin_events import router as admin_events_router
from coinslot.web.admin_outbound import router as admin_outbound_router
from coinslot.web.auto_topup import router as auto_topup_router
from coinslot.web.billing import router as billing_router
from coinslot.web.billing_items import router as billing_items_router
from coinslot.web.credits import router as credits_router
from coinslot.web.home import install_home
from coinslot.web.links import router as links_router
from coinslot.web.pages import STATIC_DIR
from coinslot.web.pricing import router as pricing_router

__all__ = ["install"]


class ElementFiles(StaticFiles):
    """`/static/elements/`: scripts other sites load (`<script type="module" src=...>` of the
    `<coinslot-pricing-table>` element). A module script from another origin is fetched with CORS, so
    without this header the browser refuses it; public code and no cookies, so any origin may load it."""

    def file_response(self, full_path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(full_path, *args, **kwargs)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response


def install(app: FastAPI) -> None:
    """Mount every page router, the host's link endpoint and the static files on `app`."""
    for router in (links_router, pricing_router, billing_router, billing_items_router, auto_topup_router,
                   credits_router, admin_router, admin_events_router, admin_outbound_router,
                   admin_auto_topup_router):
        app.include_router(router)
    install_home(app)  # before /static: /static/api-docs is its own mount
    app.mount("/static/elements", ElementFiles(directory=STATIC_DIR / "elements"), name="elements")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
