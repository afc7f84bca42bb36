"""What a person finds at coinslot's root: a page saying what runs here and where to go, the favicon,
and the API reference (`/docs`, `/redoc`) served from the package, so it works without the internet."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from coinslot.catalog import service as catalog_service
from coinslot.deps import ContainerDep
from coinslot.errors import CoinslotError
from coinslot.web.headers import api_docs_policy
from coinslot.web.pages import STATIC_DIR, PageRoute, mount_path, render

__all__ = ["install_home"]

# Swagger UI and ReDoc, shipped inside the `fastapi-offline` package (no CDN at run time).
_API_DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def home(request: Request, container: ContainerDep) -> HTMLResponse:
    """What runs here and the way onward: the API reference, the public pricing, the admin console."""
    settings = container.settings
    try:
        catalog_name: str | None = catalog_service.get_catalog(settings).name
    except CoinslotError:
        catalog_name = None  # the page still says what runs here; /readyz and the logs say why
    return render("home.html", {
        "brand": catalog_name or "coinslot",
        "catalog_name": catalog_name,
        "root": mount_path(request),
        "public_url": settings.public_url.rstrip("/") + mount_path(request),
        "admin_on": settings.admin_password is not None,
        "public_pricing": settings.public_pricing_cta_url is not None,
        "mode": settings.stripe_mode,
        "billing_enabled": settings.billing_enabled,
    })


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


def install_home(app: FastAPI) -> None:
    """The root page, the favicon, and `/docs` + `/redoc` on local assets (create the app with
    `docs_url=None, redoc_url=None`)."""
    app.include_router(router)
    app.mount("/static/api-docs", StaticFiles(directory=_API_DOCS_ASSETS), name="api-docs")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = mount_path(request)
        page = get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json", title="coinslot API",
            swagger_js_url=f"{root}/static/api-docs/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static/api-docs/swagger-ui.css",
            swagger_favicon_url=f"{root}/favicon.ico",
        )
        page.headers["Content-Security-Policy"] = api_docs_policy(bytes(page.body).decode())
        return page

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = mount_path(request)
        page = get_redoc_html(openapi_url=f"{root}/openapi.json", title="coinslot API",
                              redoc_js_url=f"{root}/static/api-docs/redoc.standalone.js",
                              redoc_favicon_url=f"{root}/favicon.ico", with_google_fonts=False)
        page.headers["Content-Security-Policy"] = api_docs_policy(bytes(page.body).decode(), redoc=True)
        return page
