"""coinslot's root page, favicon and API reference: they say what runs here and work with no internet."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from coinslot import library
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


def settings_for(db: Database, **overrides: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, stripe_secret_key=None,
        catalog_path=CATALOGS / "patch_hive.toml", public_url="https://billing.example.com",
        session_secret="home-secret-home-secret-home-secret", **overrides,
    )


def client_for(db: Database, **overrides: object) -> TestClient:
    return TestClient(create_app(settings_for(db, **overrides), db=db, clock=FixedClock(NOW),
                                 configure_logs=False))


def local_assets(html: str) -> list[str]:
    """Every script and stylesheet the page loads; an absolute URL would need the internet."""
    return re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)


def test_the_root_page_says_what_runs_here_and_links_onward(db: Database) -> None:
    client = client_for(db, admin_password="admin-home-test")
    page = client.get("/")
    assert page.status_code == 200
    assert "coinslot is running here" in page.text
    assert "Patch-Hive" in page.text  # the catalog being sold
    assert "https://billing.example.com/webhooks/stripe" in page.text
    for link in ("/docs", "/redoc", "/openapi.json", "/admin", "/healthz", "/readyz", "/metrics"):
        assert f'href="{link}"' in page.text
        assert client.get(link).status_code in (200, 303), link
    assert 'href="/pricing"' not in page.text  # the public pricing is off until its CTA URL is set


def test_the_api_reference_loads_only_local_assets(db: Database) -> None:
    client = client_for(db)
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assets = local_assets(page.text)
        assert assets, path
        for asset in assets:
            assert asset.startswith("/static/api-docs/"), asset
            fetched = client.get(asset)
            assert (fetched.status_code, len(fetched.content) > 10_000) == (200, True), asset
        assert "fonts.googleapis" not in page.text
        assert "cdn.jsdelivr" not in page.text


def test_the_favicon_is_served(db: Database) -> None:
    icon = client_for(db).get("/favicon.ico")
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml")
    assert icon.text.startswith("<svg")


def test_mounted_in_a_host_app_the_reference_and_root_follow_the_mount_path(db: Database) -> None:
    host = FastAPI()
    library.mount(host, settings_for(db), path="/billing-service", clock=FixedClock(NOW))
    with TestClient(host) as client:
        docs = client.get("/billing-service/docs")
        assert docs.status_code == 200
        assert all(asset.startswith("/billing-service/static/api-docs/") for asset in local_assets(docs.text))
        assert "/billing-service/openapi.json" in docs.text
        assert 'href="/billing-service/docs"' in client.get("/billing-service/").text
