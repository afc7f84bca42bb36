"""The public pricing page: the catalog's plans for anyone, buttons to the host's sign-up (both databases)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coinslot import library
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
CTA = "https://app.example.com/signup?plan={plan}&interval={interval}"


def settings_for(db: Database, **overrides: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, stripe_secret_key=None,
        catalog_path=CATALOGS / "quantipackai.toml", public_url="http://testserver",
        session_secret="pricing-secret-pricing-secret-pricing", **overrides,
    )


def client_for(db: Database, **overrides: object) -> TestClient:
    app = create_app(settings_for(db, **overrides), db=db, clock=FixedClock(NOW), configure_logs=False)
    return TestClient(app)


def links_to_host(html: str) -> list[str]:
    hrefs = re.findall(r'href="(https://app\.example\.com/[^"]+)"', html)
    return [href.replace("&amp;", "&") for href in hrefs]


def test_anyone_sees_the_plans_with_buttons_to_the_hosts_sign_up(db: Database) -> None:
    client = client_for(db, public_pricing_cta_url=CTA)
    client.cookies.set("coinslot_session", "not-a-session")  # never read: no 401 for a bad one
    page = client.get("/pricing")
    assert page.status_code == 200
    assert "set-cookie" not in page.headers
    for name in ("Free", "Starter", "Professional"):
        assert f">{name}</h2>" in page.text
    assert "Current plan" not in page.text
    assert "You are on" not in page.text
    assert "<form" not in page.text
    assert "csrf_token" not in page.text
    assert "Most popular" in page.text
    assert links_to_host(page.text) == [
        "https://app.example.com/signup?plan=free&interval=",
        "https://app.example.com/signup?plan=starter&interval=month",
        "https://app.example.com/signup?plan=starter&interval=year",
        "https://app.example.com/signup?plan=professional&interval=month",
        "https://app.example.com/signup?plan=professional&interval=year",
    ]
    # Monthly first; the yearly buttons are there for the toggle (and ?interval=year without JS).
    assert re.search(r'interval=year" data-for-interval="year" hidden', page.text)
    yearly = client.get("/pricing?interval=year")
    assert re.search(r'interval=month" data-for-interval="month" hidden', yearly.text)
    assert 'href="?interval=year" data-interval="year" aria-current="true"' in yearly.text
    assert client.get("/pricing?interval=weekly").status_code == 422


def test_without_a_sign_up_url_the_plans_show_no_buttons(db: Database) -> None:
    page = client_for(db).get("/pricing")
    assert page.status_code == 200
    assert ">Starter</h2>" in page.text
    assert links_to_host(page.text) == []
    assert "Choose " not in page.text
    assert "<form" not in page.text
    assert "Cancel your subscription" not in page.text


def test_the_public_page_works_under_the_host_mount_path(db: Database) -> None:
    app = FastAPI()
    settings = settings_for(db, public_pricing_cta_url="/signup?plan={plan}&interval={interval}")
    library.mount(app, settings, path="/coinslot", db=db, clock=FixedClock(NOW))
    host = TestClient(app)
    page = host.get("/coinslot/pricing")
    assert page.status_code == 200
    paths = re.findall(r'(?:href|action|src)="(/[^"]*)"', page.text)
    coinslot_paths = [path for path in paths if not path.startswith("/signup")]
    assert coinslot_paths
    assert all(path.startswith("/coinslot/") for path in coinslot_paths), coinslot_paths
    assert "/signup?plan=starter&amp;interval=year" in page.text  # the host's own page, as configured
    assert host.get(next(path for path in coinslot_paths if "/static/" in path)).status_code == 200


@pytest.mark.parametrize(("plan", "interval", "expected"), [
    ("pro", "month", "https://h.example/s?plan=pro&interval=month"),
    ("a b&c", "", "https://h.example/s?plan=a%20b%26c&interval="),
])
def test_sign_up_urls_quote_what_they_fill_in(plan: str, interval: str, expected: str) -> None:
    from coinslot.web.pricing import signup_url

    template = "https://h.example/s?plan={plan}&interval={interval}"
    assert signup_url(template, plan=plan, interval=interval) == expected
