"""Every answer carries the headers a browser needs to keep a customer's billing to itself: a self-only
Content-Security-Policy, no MIME sniffing, a referrer policy, no caching of customer data or of a link's
redirect, and HSTS when served over HTTPS (issue 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.web.headers import PAGE_POLICY

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


@pytest.fixture
def app(db: Database) -> FastAPI:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, catalog_path=CATALOGS / "patch_hive.toml",
        stripe_secret_key=None,
        public_url="http://testserver", session_secret="headers-session-secret-headers-session",
        admin_password="headers-admin-password", public_pricing_cta_url="https://app.example.com/signup",
    )
    return create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False)


@pytest.fixture
def key(db: Database) -> str:
    with db.unit_of_work() as session:
        return apikeys.create_key(session, name="host", now=NOW, scopes=["links", "read"]).secret


@pytest.mark.parametrize("path", ["/", "/pricing", "/admin/login", "/billing", "/billing/enter?token=forged"])
def test_every_page_has_the_self_only_policy_and_is_never_stored(app: FastAPI, path: str) -> None:
    answer = TestClient(app).get(path, follow_redirects=False)
    assert answer.headers["content-security-policy"] == PAGE_POLICY
    assert "'unsafe-inline'" not in PAGE_POLICY
    assert "*" not in PAGE_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in answer.headers  # plain HTTP: HSTS would be ignored anyway


def test_opening_a_link_redirects_without_a_referrer_and_is_never_stored(app: FastAPI, key: str) -> None:
    client = TestClient(app)
    link = client.post("/v1/links", json={"host_user_id": "u1"}, headers={"Authorization": f"Bearer {key}"})
    assert link.headers["cache-control"] == "no-store"
    entered = client.get(link.json()["url"], follow_redirects=False)
    assert entered.status_code == 303
    assert entered.headers["cache-control"] == "no-store"
    assert entered.headers["referrer-policy"] == "no-referrer"
    assert entered.headers["x-content-type-options"] == "nosniff"


def test_api_answers_are_not_sniffed_nor_stored_but_the_public_catalog_may_be_cached(
    app: FastAPI, key: str
) -> None:
    client = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    state = client.get("/v1/customers/u1/state")
    assert state.status_code == 200
    assert state.headers["cache-control"] == "no-store"
    assert state.headers["x-content-type-options"] == "nosniff"
    plans = client.get("/v1/plans")
    assert plans.headers["cache-control"] == "public, max-age=60"
    static = client.get("/static/app.css")
    assert "no-store" not in static.headers.get("cache-control", "")  # content-hashed URLs: cacheable


def test_over_https_every_answer_asks_for_https_from_now_on(app: FastAPI) -> None:
    client = TestClient(app, base_url="https://testserver")
    for path in ("/pricing", "/v1/plans", "/healthz"):
        assert client.get(path).headers["strict-transport-security"] == "max-age=31536000"


def test_the_api_reference_gets_the_policy_it_needs_and_no_more(app: FastAPI) -> None:
    client = TestClient(app)
    swagger = client.get("/docs").headers["content-security-policy"]
    redoc = client.get("/redoc").headers["content-security-policy"]
    for policy in (swagger, redoc):
        assert policy.startswith("default-src 'none'; script-src 'self'")
        assert "http" not in policy
        assert "*" not in policy
        assert "unsafe-eval" not in policy
        assert "script-src 'self' 'unsafe-inline'" not in policy
    assert "'sha256-" in swagger
    assert "style-src 'self';" in swagger
    assert "worker-src" not in swagger
    assert "style-src 'self' 'unsafe-inline'" in redoc
    assert "worker-src blob:" in redoc
