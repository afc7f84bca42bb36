"""Library mode: coinslot's pages mounted inside a host's FastAPI app at /coinslot keep every link,
redirect, form and cookie under /coinslot (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from coinslot import library
from coinslot.apikeys import service as apikeys
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.ledger import service as ledger
from coinslot.models import Customer
from tests.support.servers import free_port

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
ADMIN_PASSWORD = "host-admin-password"


@pytest.fixture
def host(db: Database) -> TestClient:
    app = FastAPI()

    @app.get("/billing")  # the host's own page of that name: coinslot must never send anyone here
    def host_billing() -> PlainTextResponse:
        return PlainTextResponse("the host's billing page")

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, catalog_path=CATALOGS / "patch_hive.toml",
        stripe_secret_key="sk_test_unreachable", stripe_api_base=f"http://127.0.0.1:{free_port()}",
        stripe_max_network_retries=0, public_url="http://testserver",
        session_secret="library-secret-library-secret-library", admin_password=ADMIN_PASSWORD,
    )
    library.mount(app, settings, path="/coinslot", db=db, clock=FixedClock(NOW))
    return TestClient(app)


def hrefs(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="(/[^"]*)"', html)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_user_walks_the_mounted_pages_without_leaving_coinslot(host: TestClient, db: Database) -> None:
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="host", now=NOW, scopes=["admin"]).secret
    link = host.post("/coinslot/v1/links", json={"host_user_id": "u1", "page": "pricing"},
                     headers={"Authorization": f"Bearer {key}"})
    assert link.status_code == 200
    assert link.json()["url"].startswith("http://testserver/coinslot/billing/enter?token=")

    entered = host.get(link.json()["url"], follow_redirects=False)
    assert entered.headers["location"] == "/coinslot/billing/pricing"
    assert "Path=/coinslot/billing" in entered.headers["set-cookie"]

    pricing = host.get("/coinslot/billing/pricing")  # the session cookie is sent under the mount path
    assert pricing.status_code == 200
    billing = host.get("/coinslot/billing")
    assert billing.status_code == 200
    links = hrefs(pricing.text) + hrefs(billing.text)
    assert links
    assert all(path.startswith("/coinslot/") for path in links), links
    stylesheet = next(path for path in links if "/static/" in path)
    assert host.get(stylesheet).status_code == 200

    # A form post: the cookie and its CSRF token are accepted; there is no subscription to cancel.
    cancel = host.post("/coinslot/billing/subscription/cancel", data={"csrf_token": csrf_of(pricing.text)})
    assert cancel.status_code == 404
    assert "no live subscription" in cancel.text or "no subscription" in cancel.text
    back = re.search(r'class="button secondary" href="([^"]+)">Back to billing', cancel.text)
    assert back is not None
    assert back.group(1) == "/coinslot/billing"


def test_the_operator_signs_in_and_adjusts_credits_under_the_mount_path(
    host: TestClient, db: Database
) -> None:
    with db.unit_of_work() as session:
        customer = Customer(host_user_id="u1", created_at=NOW, updated_at=NOW)
        session.add(customer)
        session.flush()
        customer_id = customer.id

    assert host.get("/coinslot/admin", follow_redirects=False).headers["location"] == "/coinslot/admin/login"
    form = host.get("/coinslot/admin/login")
    signed_in = host.post("/coinslot/admin/login", data={"csrf_token": csrf_of(form.text),
                                                         "password": ADMIN_PASSWORD}, follow_redirects=False)
    assert signed_in.headers["location"] == "/coinslot/admin"
    page = host.get(f"/coinslot/admin/customers/{customer_id}")
    assert page.status_code == 200
    assert all(path.startswith("/coinslot/") for path in hrefs(page.text))
    adjustment = re.search(r'name="adjustment_id" value="([^"]+)"', page.text)
    assert adjustment is not None

    adjusted = host.post(f"/coinslot/admin/customers/{customer_id}/credits", follow_redirects=False, data={
        "csrf_token": csrf_of(page.text), "adjustment_id": adjustment.group(1), "credits": "7",
        "reason": "goodwill"})
    assert adjusted.headers["location"] == f"/coinslot/admin/customers/{customer_id}?done=adjusted"
    with db.unit_of_work(read_only=True) as session:
        assert ledger.balance(session, customer_id=customer_id, now=NOW).available_credits == 7
