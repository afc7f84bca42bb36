"""The operator's console can be trusted (issue 13): sessions live on the server, so logging out or changing
the password ends them for every copy of the cookie; the login throttle holds when guesses arrive all at once,
over HTTP, against two server processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coinslot.access.admin_sessions import LOGIN_ATTEMPTS_ALLOWED
from coinslot.app import create_app
from coinslot.clock import FixedClock
from coinslot.config import Settings
from coinslot.db import Database
from coinslot.models import AdminAudit, AdminSession
from tests.support.servers import ServerThread

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
CATALOGS = Path(__file__).resolve().parents[2] / "examples" / "catalogs"
PASSWORD = "admin-sessions-password"


def make_app(url: str, *, admin_password: str = PASSWORD, clock: FixedClock | None = None) -> FastAPI:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, catalog_path=CATALOGS / "patch_hive.toml", stripe_secret_key=None,
        session_secret="admin-sessions-secret-admin-sessions-secret", admin_password=admin_password,
    )
    return create_app(settings, db=Database(url), clock=clock or FixedClock(NOW), configure_logs=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def signed_in(app: FastAPI) -> TestClient:
    browser = TestClient(app)
    answer = browser.post("/admin/login", data={"csrf_token": csrf_of(browser.get("/admin/login").text),
                                                "password": PASSWORD}, follow_redirects=False)
    assert answer.headers["location"] == "/admin"
    return browser


def opens_console(app: FastAPI, cookies: dict[str, str]) -> bool:
    answer = TestClient(app, cookies=cookies).get("/admin", follow_redirects=False)
    return answer.status_code == 200


def test_logging_out_ends_the_session_for_every_saved_copy_of_the_cookie(db: Database) -> None:
    app = make_app(db.url)
    browser = signed_in(app)
    saved = dict(browser.cookies)  # what an attacker copied, or a second tab
    assert opens_console(app, saved)

    logged_out = browser.post("/admin/logout", data={"csrf_token": csrf_of(browser.get("/admin").text)},
                              follow_redirects=False)
    assert logged_out.headers["location"] == "/admin/login"
    assert not opens_console(app, saved)
    assert not opens_console(make_app(db.url), saved)  # nor in another process
    with db.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(AdminSession)) == 0


def test_the_cookie_is_a_random_token_that_means_nothing_without_its_row(db: Database) -> None:
    app = make_app(db.url)
    token = signed_in(app).cookies["coinslot_admin"]
    assert len(token) >= 40
    assert "." not in token  # not a signed document someone could replay after its row is gone
    with db.unit_of_work(read_only=True) as session:
        stored = session.scalars(select(AdminSession.token_sha256)).all()
    assert token not in stored  # only its hash is kept
    assert not opens_console(app, {"coinslot_admin": token[:-1] + ("A" if token[-1] != "A" else "B")})


def test_a_new_password_ends_old_sessions_and_the_next_login_prunes_them(db: Database) -> None:
    before = dict(signed_in(make_app(db.url)).cookies)
    changed = make_app(db.url, admin_password="a-brand-new-password")
    assert not opens_console(changed, before)
    browser = TestClient(changed)
    browser.post("/admin/login", data={"csrf_token": csrf_of(browser.get("/admin/login").text),
                                       "password": "a-brand-new-password"})
    with db.unit_of_work(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(AdminSession)) == 1  # only the new one


def test_a_session_ends_after_eight_hours(db: Database) -> None:
    clock = FixedClock(NOW)
    app = make_app(db.url, clock=clock)
    cookies = dict(signed_in(app).cookies)
    clock.advance(dt.timedelta(hours=8) - dt.timedelta(seconds=1))
    assert opens_console(app, cookies)
    clock.advance(dt.timedelta(seconds=1))
    assert not opens_console(app, cookies)


def test_forty_wrong_passwords_at_once_get_five_compared_over_http_against_two_processes(
    database_url: str,
) -> None:
    servers = [ServerThread(make_app(database_url)).start() for _ in range(2)]
    try:
        # One login form (its CSRF cookie and token), then 40 guesses sent together, half to each server.
        form = httpx.get(f"{servers[0].url}/admin/login")
        cookie, token = form.cookies["coinslot_login_csrf"], csrf_of(form.text)
        barrier = threading.Barrier(40)
        statuses: list[int] = []

        def guess(n: int) -> None:
            with httpx.Client(base_url=servers[n % 2].url, cookies={"coinslot_login_csrf": cookie},
                              timeout=60) as client:
                barrier.wait()
                answer = client.post("/admin/login", data={"csrf_token": token, "password": f"guess-{n}"})
                statuses.append(answer.status_code if answer.status_code != 303 else 401)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        right = httpx.post(f"{servers[1].url}/admin/login", cookies={"coinslot_login_csrf": cookie},
                           data={"csrf_token": token, "password": PASSWORD})
    finally:
        for server in servers:
            server.stop()

    assert Counter(statuses) == {401: LOGIN_ATTEMPTS_ALLOWED, 429: 40 - LOGIN_ATTEMPTS_ALLOWED}
    assert right.status_code == 429  # even the right password, until the window passes
    database = Database(database_url)
    with database.unit_of_work(read_only=True) as session:
        actions = Counter(session.scalars(select(AdminAudit.action)))
    database.dispose()
    assert actions == {"login_failed": LOGIN_ATTEMPTS_ALLOWED, "login_throttled": 41 - LOGIN_ATTEMPTS_ALLOWED}
