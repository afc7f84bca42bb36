"""The pages' server side on SQLite and PostgreSQL: links and sessions, admin login and audit, the figures."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from coinslot.analytics import service as analytics
from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.catalog.parser import load_catalog
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.ledger import service as ledger
from coinslot.models import AdminAudit, Customer, Subscription

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"


@pytest.fixture
def client(db: Database) -> TestClient:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, stripe_secret_key=None,
        catalog_path=CATALOGS / "patch_hive.toml", public_url="http://testserver",
        session_secret="pages-secret-pages-secret-pages", admin_password="s3cret",
    )
    return TestClient(create_app(settings, db=db, clock=FixedClock(NOW), configure_logs=False))


def api_key(db: Database) -> str:
    with db.unit_of_work() as session:
        return apikeys.create_key(session, name="host", now=NOW, scopes=["links"]).secret


def test_a_signed_link_opens_a_session_for_that_customer_only(client: TestClient, db: Database) -> None:
    assert client.post("/v1/links", json={"host_user_id": "u1"}).status_code == 401
    answer = client.post("/v1/links", json={"host_user_id": "u1", "page": "credits"},
                         headers={"Authorization": f"Bearer {api_key(db)}"})
    assert answer.status_code == 200
    url = answer.json()["url"]
    assert url.startswith("http://testserver/billing/enter?token=")

    assert client.get("/billing", follow_redirects=False).status_code == 401  # no session yet
    opened = client.get(url.removeprefix("http://testserver"), follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/billing/credits"
    page = client.get("/billing")
    assert page.status_code == 200
    assert "Billing" in page.text
    assert "no-store" in page.headers["cache-control"]
    assert client.get("/billing/credits").status_code == 200

    forged = client.post("/billing/subscription/cancel", data={"csrf_token": "nope"}, follow_redirects=False)
    assert forged.status_code == 403
    assert "This form has expired" in forged.text
    assert "Traceback" not in forged.text


def test_admin_needs_the_password_and_every_login_is_audited(client: TestClient, db: Database) -> None:
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
    form = client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    wrong = client.post("/admin/login", data={"csrf_token": token.group(1), "password": "guess"},
                        follow_redirects=False)
    assert wrong.headers["location"] == "/admin/login?failed=true"
    right = client.post("/admin/login", data={"csrf_token": token.group(1), "password": "s3cret"},
                        follow_redirects=False)
    assert right.headers["location"] == "/admin"
    for path in ("/admin", "/admin/customers", "/admin/events", "/admin/alerts", "/admin/audit"):
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/customers/999").status_code == 404
    with db.unit_of_work(read_only=True) as session:
        actions = [row.action for row in session.query(AdminAudit).order_by(AdminAudit.id)]
    assert actions == ["login_failed", "login"]


def _customer(session: Session, host_user_id: str) -> int:
    row = Customer(host_user_id=host_user_id, created_at=NOW - dt.timedelta(days=90),
                   updated_at=NOW - dt.timedelta(days=90))
    session.add(row)
    session.flush()
    return row.id


def _subscription(session: Session, customer_id: int, status: str, plan: str, *,
                  ended_days_ago: int | None = None) -> None:
    ended = NOW - dt.timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    session.add(Subscription(
        customer_id=customer_id, stripe_subscription_id=f"sub_{customer_id}_{status}", status=status,
        plan_key=plan, interval="month", cancel_at_period_end=False, ended_at=ended, canceled_at=ended,
        created_at=NOW - dt.timedelta(days=60), updated_at=ended or NOW,
    ))


def test_the_figures_come_from_the_subscription_mirror_and_the_ledger(db: Database) -> None:
    patch_hive = load_catalog(CATALOGS / "patch_hive.toml", display_name="patch_hive.toml")
    with db.unit_of_work() as session:
        a, b, c, d = (_customer(session, name) for name in ("a", "b", "c", "d"))
        _subscription(session, a, "active", "core")
        _subscription(session, b, "active", "pro")
        _subscription(session, c, "canceled", "pro", ended_days_ago=10)  # churned in the window
        _subscription(session, d, "canceled", "core", ended_days_ago=45)  # before the window
        ledger.grant_period(session, customer_id=a, entry_id="invoice:in_a", credits=25,
                            period_start=NOW - dt.timedelta(days=5), period_end=NOW + dt.timedelta(days=25),
                            rollover_cap=0, unlimited=False, now=NOW, source="invoice:in_a")
        ledger.spend(session, customer_id=a, entry_id="key:e1", credits=3, feature="export", now=NOW)
        ledger.spend(session, customer_id=a, entry_id="key:e2", credits=3, feature="export", now=NOW)
    with db.unit_of_work(read_only=True) as session:
        figures = analytics.figures(session, catalog=patch_hive, now=NOW)
    assert figures.mrr_minor == {"usd": 499 + 1499}
    assert [(row.plan_key, row.count) for row in figures.subscribers] == [("core", 1), ("pro", 1)]
    assert (figures.churn.live_at_start, figures.churn.ended) == (3, 1)
    assert figures.credits_granted == [("grant", 25)]
    assert figures.credits_consumed == [("export", "PatchBook export", 6, 2)]
