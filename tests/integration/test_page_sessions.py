"""Who may see the pages, on SQLite and PostgreSQL: a signed link opens one session once, every page
says who is signed in, password guessing is throttled for every process, and changing the admin
password ends the sessions opened with the old one."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coinslot.apikeys import service as apikeys
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.models import AdminAudit, UsedSignedLink

NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
SECRET = "page-sessions-secret-page-sessions-secret"
PASSWORD = "the-operator-password"


def make_app(db: Database, clock: FixedClock, *, admin_password: str = PASSWORD) -> FastAPI:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=db.url, stripe_secret_key=None,
        catalog_path=CATALOGS / "patch_hive.toml", public_url="http://testserver", session_secret=SECRET,
        admin_password=admin_password,
    )
    return create_app(settings, db=db, clock=clock, configure_logs=False)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def app(db: Database, clock: FixedClock) -> FastAPI:
    return make_app(db, clock)


def new_link(app: FastAPI, db: Database, host_user_id: str = "u1", page: str = "billing") -> str:
    with db.unit_of_work() as session:
        key = apikeys.create_key(session, name="host", now=NOW, scopes=["links"]).secret
    answer = TestClient(app).post("/v1/links", json={"host_user_id": host_user_id, "page": page},
                                  headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    return str(answer.json()["url"]).removeprefix("http://testserver")


def used_links(db: Database) -> int:
    with db.unit_of_work(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(UsedSignedLink)) or 0


def test_a_signed_link_opens_one_session_once(app: FastAPI, db: Database, clock: FixedClock) -> None:
    link = new_link(app, db)
    first = TestClient(app).get(link, follow_redirects=False)
    assert first.status_code == 303

    # The same link, copied from the history or a forwarded email: refused, in any browser.
    again = TestClient(app).get(link, follow_redirects=False)
    assert again.status_code == 401
    assert "This link was already used" in again.text

    # Nonces are kept only while their link could still be valid: the next opening prunes them.
    assert used_links(db) == 1
    clock.advance(dt.timedelta(minutes=10))
    assert TestClient(app).get(new_link(app, db), follow_redirects=False).status_code == 303
    assert used_links(db) == 1


def test_every_page_says_who_is_signed_in(app: FastAPI, db: Database) -> None:
    customer = TestClient(app)
    customer.get(new_link(app, db, "user_42"))
    for path in ("/billing", "/billing/pricing", "/billing/credits", "/billing/cancel"):
        page = customer.get(path)
        assert page.status_code == 200, path
        assert "Signed in as <strong>user_42</strong>" in page.text, path

    operator = login(TestClient(app))
    for path in ("/admin", "/admin/customers", "/admin/events", "/admin/alerts", "/admin/audit"):
        assert "Signed in as <strong>admin@testclient</strong>" in operator.get(path).text, path


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def try_password(client: TestClient, password: str) -> int:
    form = client.get("/admin/login")
    answer = client.post("/admin/login", data={"csrf_token": csrf_of(form.text), "password": password},
                         follow_redirects=False)
    return answer.status_code if answer.status_code != 303 else (
        200 if answer.headers["location"] == "/admin" else 401)


def login(client: TestClient) -> TestClient:
    assert try_password(client, PASSWORD) == 200
    return client


def test_failed_logins_are_throttled_across_processes(db: Database, clock: FixedClock) -> None:
    # Two processes of one deployment: they share the database, so they share the count.
    one, two = TestClient(make_app(db, clock)), TestClient(make_app(db, clock))
    for guess in range(5):
        assert try_password(one if guess % 2 else two, f"guess-{guess}") == 401
    assert try_password(one, PASSWORD) == 429  # even the right password, until the window passes
    refused = two.post("/admin/login", data={"csrf_token": csrf_of(two.get("/admin/login").text),
                                             "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.text
    assert two.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"

    clock.advance(dt.timedelta(minutes=16))
    assert try_password(two, PASSWORD) == 200
    with db.unit_of_work(read_only=True) as session:
        actions = [row.action for row in session.scalars(select(AdminAudit).order_by(AdminAudit.id))]
    assert actions == ["login_failed"] * 5 + ["login_throttled"] * 2 + ["login"]


def test_changing_the_admin_password_ends_the_sessions_opened_with_the_old_one(
    db: Database, clock: FixedClock
) -> None:
    before = login(TestClient(make_app(db, clock)))
    cookies = dict(before.cookies)

    same = TestClient(make_app(db, clock), cookies=cookies)  # a restart with the same password: still in
    assert same.get("/admin", follow_redirects=False).status_code == 200

    changed = TestClient(make_app(db, clock, admin_password="a-brand-new-password"), cookies=cookies)
    assert changed.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
